package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sampleReport has every case the formats must show: a passed check, a
// failed one, a warning, the same check twice, a step that errored, a
// deviation, and text that needs escaping in both formats.
func sampleReport() *Report {
	r := &Report{Version: `v0.1.0`, Commit: "0123abc", Command: "audit", Steps: []Step{
		{Name: "ssh", Checks: []Check{
			{ID: "ssh.permitrootlogin", OK: true, Want: "no", Got: "no", Refs: []string{"ssg:sshd_disable_root_login"}},
			{ID: "ssh.passwordauthentication", OK: false, Want: "no", Got: "yes", Detail: `from "/etc/ssh/sshd_config.d/50-cloud-init.conf"`},
			{ID: "ssh.passwordauthentication", OK: true, Want: "no", Got: "no"},
		}},
		{Name: "updates", Checks: []Check{
			{ID: "updates.automatic", OK: false, Want: "on", Got: "none on Arch <&>", Severity: Warn},
		}},
		{Name: "kernel", Checks: []Check{{ID: `odd"id\with` + "\nnewline", OK: true, Want: "1", Got: "1"}},
			Deviations: []Deviation{{Refs: []string{"ssg:kernel_module_usb-storage_disabled"}, Reason: "cloud images attach seed disks over USB"}}},
		{Name: "firewall", Error: "nft: not found"},
	}}
	r.Finish()
	return r
}

var sampleRun = Run{
	Start:    time.Date(2026, 12, 7, 22, 0, 0, 500_000_000, time.UTC),
	Duration: 1250 * time.Millisecond,
	Distro:   "debian", DistroVersion: "12", Hostname: "build-1",
}

func TestWritePrometheus(t *testing.T) {
	var b bytes.Buffer
	if err := WritePrometheus(&b, sampleReport(), sampleRun); err != nil {
		t.Fatal(err)
	}
	want := `# HELP hardbake_info The hardbake build that ran the audit (commit empty when not stamped) and the distribution it audited; always 1.
# TYPE hardbake_info gauge
hardbake_info{version="v0.1.0",commit="0123abc",distro="debian",distro_version="12"} 1
# HELP hardbake_audit_ok 1 when no check failed and every step completed, else 0 (what the audit's exit code says).
# TYPE hardbake_audit_ok gauge
hardbake_audit_ok 0
# HELP hardbake_audit_timestamp_seconds When the audit started, in seconds since the Unix epoch.
# TYPE hardbake_audit_timestamp_seconds gauge
hardbake_audit_timestamp_seconds 1796680800.5
# HELP hardbake_audit_duration_seconds How long the audit took, in seconds.
# TYPE hardbake_audit_duration_seconds gauge
hardbake_audit_duration_seconds 1.25
# HELP hardbake_checks Checks the audit ran.
# TYPE hardbake_checks gauge
hardbake_checks 5
# HELP hardbake_checks_failed Checks that failed (severity fail).
# TYPE hardbake_checks_failed gauge
hardbake_checks_failed 1
# HELP hardbake_checks_warnings Checks that failed with severity warn (findings that do not fail the audit).
# TYPE hardbake_checks_warnings gauge
hardbake_checks_warnings 1
# HELP hardbake_check_ok 1 when the check passed, 0 when it failed (severity fail: the audit fails; warn: a finding that does not).
# TYPE hardbake_check_ok gauge
hardbake_check_ok{step="ssh",check="ssh.permitrootlogin",severity="fail"} 1
hardbake_check_ok{step="ssh",check="ssh.passwordauthentication",severity="fail"} 0
hardbake_check_ok{step="updates",check="updates.automatic",severity="warn"} 0
hardbake_check_ok{step="kernel",check="odd\"id\\with\nnewline",severity="fail"} 1
# HELP hardbake_step_error 1 when the step could not complete its checks (its hardbake_check_ok series may be missing), else 0.
# TYPE hardbake_step_error gauge
hardbake_step_error{step="ssh"} 0
hardbake_step_error{step="updates"} 0
hardbake_step_error{step="kernel"} 0
hardbake_step_error{step="firewall"} 1
# HELP hardbake_deviations Benchmark items the step leaves unmet on purpose (see the JSON report for the rules and reasons).
# TYPE hardbake_deviations gauge
hardbake_deviations{step="ssh"} 0
hardbake_deviations{step="updates"} 0
hardbake_deviations{step="kernel"} 1
hardbake_deviations{step="firewall"} 0
`
	if got := b.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	promtoolAccepts(t, b.Bytes())
}

func TestEscapeLabel(t *testing.T) {
	for in, want := range map[string]string{
		"plain":        "plain",
		`a"b`:          `a\"b`,
		`a\b`:          `a\\b`,
		"a\nb":         `a\nb`,
		"bad\xffutf8":  "bad\uFFFDutf8",
		`\"` + "\n":    `\\\"\n`,
		"ünïcode ok ✓": "ünïcode ok ✓",
	} {
		if got := escapeLabel(in); got != want {
			t.Errorf("escapeLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// promtoolAccepts runs Prometheus' own linter and parser on the text
// (Debian's prometheus package; make deps installs it).
func promtoolAccepts(t *testing.T, text []byte) {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Skip("promtool not installed (make deps installs Debian's prometheus)")
	}
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s\ninput:\n%s", err, out, text)
	}
}

func TestWriteJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, sampleReport(), sampleRun); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	type counts struct{ tests, failures, errors, skipped int }
	want := map[string]counts{"ssh": {3, 1, 0, 0}, "updates": {1, 0, 0, 1}, "kernel": {2, 0, 0, 1}, "firewall": {1, 0, 1, 0}}
	if len(doc.Suites) != len(want) {
		t.Fatalf("%d suites, want %d:\n%s", len(doc.Suites), len(want), b.String())
	}
	for _, s := range doc.Suites {
		if got := (counts{s.Tests, s.Failures, s.Errors, s.Skipped}); got != want[s.Name] {
			t.Errorf("suite %s: %+v, want %+v", s.Name, got, want[s.Name])
		}
		for _, c := range s.Cases {
			if c.Classname != s.Name {
				t.Errorf("testcase %s: classname %q, want the step %q", c.Name, c.Classname, s.Name)
			}
		}
	}
	ssh := doc.Suites[0]
	if f := ssh.Cases[1].Failure; f == nil || f.Message != "want no, got yes" || !strings.Contains(f.Text, `detail: from "/etc/ssh/sshd_config.d/50-cloud-init.conf"`) {
		t.Errorf("failed check: %+v", ssh.Cases[1])
	}
	if s := doc.Suites[2].Cases[1]; s.Skipped == nil || s.Name != "deviation ssg:kernel_module_usb-storage_disabled" || !strings.Contains(s.Skipped.Message, "seed disks over USB") {
		t.Errorf("deviation: %+v", s)
	}
	if e := doc.Suites[3].Cases[0].Error; e == nil || e.Message != "nft: not found" {
		t.Errorf("step error: %+v", doc.Suites[3].Cases)
	}
	if doc.Suites[0].Timestamp != "2026-12-07T22:00:00" || doc.Suites[0].Time != "1.250" || doc.Suites[0].Hostname != "build-1" {
		t.Errorf("suite attributes: %+v", doc.Suites[0])
	}
	schemasAccept(t, b.Bytes())
}

// schemasAccept validates a JUnit document with xmllint against both
// schemas in testdata/junit (see its README for their sources).
func schemasAccept(t *testing.T, doc []byte) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("xmllint not installed (make deps installs libxml2-utils)")
	}
	f := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(f, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, xsd := range []string{"ant-junit.xsd", "jenkins-junit-10.xsd"} {
		out, err := exec.Command("xmllint", "--noout", "--schema", filepath.Join("testdata", "junit", xsd), f).CombinedOutput()
		if err != nil {
			t.Errorf("xmllint --schema %s: %v\n%s\ndocument:\n%s", xsd, err, out, doc)
		}
	}
}

// TestFleetDocAlertRules: the alert rules docs/fleet.md tells users to paste
// are rules Prometheus loads (promtool check rules parses every expression).
func TestFleetDocAlertRules(t *testing.T) {
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Skip("promtool not installed (make deps installs Debian's prometheus)")
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "fleet.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(string(doc), "## Alert rules\n")
	_, block, _ := strings.Cut(after, "```yaml\n")
	rules, _, found := strings.Cut(block, "```")
	if !found || !strings.Contains(rules, "hardbake_check_ok") {
		t.Fatalf("no yaml block of rules under \"## Alert rules\" in docs/fleet.md")
	}
	f := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(f, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("promtool", "check", "rules", f).CombinedOutput(); err != nil || !strings.Contains(string(out), "SUCCESS: 3 rules found") {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}
