package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Run describes one audit run for the formats that carry more than the
// report: when it ran, how long it took, where. The caller measures it, so
// the writers stay pure functions of their input.
type Run struct {
	Start    time.Time
	Duration time.Duration
	// Distro and DistroVersion are os-release's ID and VERSION_ID.
	Distro, DistroVersion string
	// Hostname names the host in JUnit's testsuite (required there).
	Hostname string
}

// The metric names are a stable interface: dashboards and alert rules are
// written against them (docs/fleet.md). Add new ones; never rename one.
// Labels carry only step names, check IDs (constants of hardbake's code),
// severities and version strings: never a value read from the system, so no
// key, secret or file content can reach a label.
const (
	MetricInfo       = "hardbake_info"
	MetricAuditOK    = "hardbake_audit_ok"
	MetricTimestamp  = "hardbake_audit_timestamp_seconds"
	MetricDuration   = "hardbake_audit_duration_seconds"
	MetricChecks     = "hardbake_checks"
	MetricFailed     = "hardbake_checks_failed"
	MetricWarnings   = "hardbake_checks_warnings"
	MetricCheckOK    = "hardbake_check_ok"
	MetricStepError  = "hardbake_step_error"
	MetricDeviations = "hardbake_deviations"
)

// family is one metric family of the exposition format: HELP, TYPE and its
// samples, written together (the format requires a family's samples to be
// contiguous, and node_exporter rejects a file that repeats a family).
type family struct {
	name, help string
	samples    []sample
}

type sample struct {
	labels [][2]string // name, value: in this order
	value  float64
}

// WritePrometheus writes the report in Prometheus' text exposition format
// (version 0.0.4), the format node_exporter's textfile collector reads: every
// metric a gauge, no timestamps (the collector refuses them). A check listed
// twice under one step (same labels) is written once, failed if either
// failed, since the format forbids duplicate series.
func WritePrometheus(w io.Writer, r *Report, run Run) error {
	var b strings.Builder
	for _, f := range prometheusFamilies(r, run) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", f.name, escapeHelp(f.help), f.name)
		for _, s := range f.samples {
			b.WriteString(f.name)
			if len(s.labels) > 0 {
				b.WriteByte('{')
				for i, l := range s.labels {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(l[0] + `="` + escapeLabel(l[1]) + `"`)
				}
				b.WriteByte('}')
			}
			b.WriteString(" " + formatValue(s.value) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func prometheusFamilies(r *Report, run Run) []family {
	var checks, failed, warnings int
	ok := family{name: MetricCheckOK, help: "1 when the check passed, 0 when it failed (severity fail: the audit fails; warn: a finding that does not)."}
	stepErr := family{name: MetricStepError, help: "1 when the step could not complete its checks (its hardbake_check_ok series may be missing), else 0."}
	devs := family{name: MetricDeviations, help: "Benchmark items the step leaves unmet on purpose (see the JSON report for the rules and reasons)."}
	seen := map[[2]string]int{} // step, check -> index in ok.samples
	for _, s := range r.Steps {
		stepErr.samples = append(stepErr.samples, sample{[][2]string{{"step", s.Name}}, boolValue(s.Error != "")})
		devs.samples = append(devs.samples, sample{[][2]string{{"step", s.Name}}, float64(len(s.Deviations))})
		for _, c := range s.Checks {
			checks++
			switch {
			case c.Failed():
				failed++
			case !c.OK:
				warnings++
			}
			sev := c.Severity
			if sev == "" {
				sev = Fail
			}
			key := [2]string{s.Name, c.ID}
			if i, dup := seen[key]; dup {
				ok.samples[i].value = min(ok.samples[i].value, boolValue(c.OK))
				continue
			}
			seen[key] = len(ok.samples)
			ok.samples = append(ok.samples, sample{[][2]string{{"step", s.Name}, {"check", c.ID}, {"severity", sev}}, boolValue(c.OK)})
		}
	}
	one := func(name, help string, v float64) family {
		return family{name: name, help: help, samples: []sample{{nil, v}}}
	}
	return []family{
		{name: MetricInfo, help: "The hardbake build that ran the audit (commit empty when not stamped) and the distribution it audited; always 1.",
			samples: []sample{{[][2]string{{"version", r.Version}, {"commit", r.Commit}, {"distro", run.Distro}, {"distro_version", run.DistroVersion}}, 1}}},
		one(MetricAuditOK, "1 when no check failed and every step completed, else 0 (what the audit's exit code says).", boolValue(r.OK)),
		one(MetricTimestamp, "When the audit started, in seconds since the Unix epoch.", float64(run.Start.UnixNano())/1e9),
		one(MetricDuration, "How long the audit took, in seconds.", run.Duration.Seconds()),
		one(MetricChecks, "Checks the audit ran.", float64(checks)),
		one(MetricFailed, "Checks that failed (severity fail).", float64(failed)),
		one(MetricWarnings, "Checks that failed with severity warn (findings that do not fail the audit).", float64(warnings)),
		ok, stepErr, devs,
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// formatValue writes a sample value as the format's float: integers without
// an exponent or a fraction, others with the fewest digits that round-trip.
func formatValue(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// escapeLabel escapes a label value as the exposition format requires:
// backslash, double quote and line feed; and it must be UTF-8.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

// escapeHelp escapes a HELP text: backslash and line feed.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}
