package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML, the test report CI systems (Jenkins, GitLab, GitHub Actions
// reporters) read: one testsuite per step, one testcase per check with the
// step as classname and the check ID as name. A failed check is a
// <failure> with what was wanted and what was found; a check that failed
// with severity warn, and each deliberate deviation, is a <skipped> test
// (visible, not failing the build); a step that could not complete its
// checks is an <error> testcase named after the step.
//
// The document is valid against both schemas commonly used to judge JUnit
// files, the strict Apache Ant one (windyroad's JUnit.xsd: testsuites without
// attributes, each testsuite with package, id, timestamp, hostname and a
// properties element first, system-out and system-err last; testcase time
// required) and Jenkins' junit-10.xsd (both in testdata/junit).

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Package    string          `xml:"package,attr"`
	ID         int             `xml:"id,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out"`
	SystemErr  string          `xml:"system-err"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitOutcome `xml:"failure"`
	Error     *junitOutcome `xml:"error"`
	Skipped   *junitOutcome `xml:"skipped"`
}

type junitOutcome struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"` // required on failure and error; skipped has none (Ant schema)
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as a JUnit XML document.
func WriteJUnit(w io.Writer, r *Report, run Run) error {
	host := run.Hostname
	if host == "" {
		host = "localhost" // what the Ant schema asks for an unknown host
	}
	doc := junitSuites{}
	for i, s := range r.Steps {
		suite := junitSuite{
			Name: s.Name, Package: "hardbake", ID: i, Hostname: host,
			Timestamp: run.Start.UTC().Format("2006-01-02T15:04:05"), // no zone: the Ant schema's pattern
			Time:      "0",
			Properties: []junitProperty{
				{"hardbake.version", r.Version}, {"hardbake.commit", r.Commit}, {"distro", run.Distro}, {"distro_version", run.DistroVersion},
			},
			Cases: []junitCase{},
		}
		if s.Name == "" {
			suite.Name = "unnamed"
		}
		for _, c := range s.Checks {
			tc := junitCase{Name: nonEmpty(c.ID), Classname: suite.Name, Time: "0"}
			detail := checkDetail(c)
			switch {
			case c.Failed():
				tc.Failure = &junitOutcome{Message: fmt.Sprintf("want %s, got %s", c.Want, c.Got), Type: Fail, Text: detail}
				suite.Failures++
			case !c.OK:
				tc.Skipped = &junitOutcome{Message: fmt.Sprintf("warning: want %s, got %s", c.Want, c.Got), Text: detail}
				suite.Skipped++
			}
			suite.Cases = append(suite.Cases, tc)
		}
		for _, d := range s.Deviations {
			suite.Cases = append(suite.Cases, junitCase{
				Name: "deviation " + strings.Join(d.Refs, " "), Classname: suite.Name, Time: "0",
				Skipped: &junitOutcome{Message: "deliberate deviation: " + d.Reason},
			})
			suite.Skipped++
		}
		if s.Error != "" {
			suite.Cases = append(suite.Cases, junitCase{
				Name: suite.Name, Classname: suite.Name, Time: "0",
				Error: &junitOutcome{Message: s.Error, Type: "step-error"},
			})
			suite.Errors++
		}
		suite.Tests = len(suite.Cases)
		doc.Suites = append(doc.Suites, suite)
	}
	// The run's time belongs to no single step: the first suite carries it,
	// so the document's total is the audit's duration.
	if len(doc.Suites) > 0 {
		doc.Suites[0].Time = fmt.Sprintf("%.3f", run.Duration.Seconds())
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// checkDetail is the text of a failure: the comparison, the check's detail
// and the benchmark items it covers.
func checkDetail(c Check) string {
	lines := []string{"want: " + c.Want, "got:  " + c.Got}
	if c.Detail != "" {
		lines = append(lines, "detail: "+c.Detail)
	}
	if len(c.Refs) > 0 {
		lines = append(lines, "refs: "+strings.Join(c.Refs, " "))
	}
	return strings.Join(lines, "\n")
}

// nonEmpty: the Ant schema's name is a token of at least one character.
func nonEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "unnamed"
	}
	return s
}
