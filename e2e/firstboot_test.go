package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// firstbootRun is hardbake-firstboot.service in the running boot, as
// systemd recorded it.
type firstbootRun struct {
	activeState, result string
	status              int           // ExecMainStatus: the process's exit status
	start, exit         time.Duration // ExecMain{Start,Exit}TimestampMonotonic: since the kernel started; 0 when it did not run
}

// firstbootUnit asks the guest behind run about hardbake-firstboot.service.
func firstbootUnit(run func(string) (string, error)) (firstbootRun, error) {
	out, err := run("systemctl show -p ActiveState -p Result -p ExecMainStatus " +
		"-p ExecMainStartTimestampMonotonic -p ExecMainExitTimestampMonotonic hardbake-firstboot.service")
	if err != nil {
		return firstbootRun{}, fmt.Errorf("systemctl show hardbake-firstboot.service: %v: %s", err, out)
	}
	return parseFirstbootRun(out)
}

func parseFirstbootRun(show string) (firstbootRun, error) {
	var r firstbootRun
	seen := 0
	for _, line := range strings.Split(show, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		usec := func() (time.Duration, error) {
			n, err := strconv.ParseInt(v, 10, 64)
			return time.Duration(n) * time.Microsecond, err
		}
		var err error
		switch k {
		case "ActiveState":
			r.activeState = v
		case "Result":
			r.result = v
		case "ExecMainStatus":
			r.status, err = strconv.Atoi(v)
		case "ExecMainStartTimestampMonotonic":
			r.start, err = usec()
		case "ExecMainExitTimestampMonotonic":
			r.exit, err = usec()
		default:
			continue
		}
		if err != nil {
			return r, fmt.Errorf("systemctl show: %s=%q: %v", k, v, err)
		}
		seen++
	}
	if seen != 5 {
		return r, fmt.Errorf("systemctl show: want 5 properties, got %d in %q", seen, show)
	}
	return r, nil
}

// ran says the service's process ran in this boot (its condition, no
// marker yet, held).
func (r firstbootRun) ran() bool { return r.start > 0 }

// succeeded: it ran and exited 0 (a oneshot with RemainAfterExit stays
// active after a successful exit).
func (r firstbootRun) succeeded() bool {
	return r.ran() && r.exit >= r.start && r.status == 0 && r.result == "success" && r.activeState == "active"
}

func (r firstbootRun) took() time.Duration { return r.exit - r.start }

func (r firstbootRun) String() string {
	return fmt.Sprintf("ActiveState=%s Result=%s ExecMainStatus=%d, started %s after the kernel, exited %s later",
		r.activeState, r.result, r.status, r.start, r.took())
}

// TestParseFirstbootRun reads systemctl show's output of a unit that
// succeeded, of one that failed, and of one that never ran; not gated by
// HARDBAKE_E2E (no VM).
func TestParseFirstbootRun(t *testing.T) {
	ok, err := parseFirstbootRun("ActiveState=active\nResult=success\nExecMainStatus=0\n" +
		"ExecMainStartTimestampMonotonic=9123456\nExecMainExitTimestampMonotonic=10434567\n")
	if err != nil || !ok.ran() || !ok.succeeded() || ok.took() != 1311111*time.Microsecond {
		t.Errorf("success: %+v (took %s), %v", ok, ok.took(), err)
	}
	failed, err := parseFirstbootRun("ActiveState=failed\nResult=exit-code\nExecMainStatus=1\n" +
		"ExecMainStartTimestampMonotonic=9123456\nExecMainExitTimestampMonotonic=9223456\n")
	if err != nil || !failed.ran() || failed.succeeded() {
		t.Errorf("failure: %+v, %v", failed, err)
	}
	skipped, err := parseFirstbootRun("ActiveState=inactive\nResult=success\nExecMainStatus=0\n" +
		"ExecMainStartTimestampMonotonic=0\nExecMainExitTimestampMonotonic=0\n")
	if err != nil || skipped.ran() || skipped.succeeded() {
		t.Errorf("condition failed, never ran: %+v, %v", skipped, err)
	}
	if _, err := parseFirstbootRun("ActiveState=active\n"); err == nil {
		t.Error("accepted an answer with properties missing")
	}
}

func TestMedian(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{{nil, 0}, {[]time.Duration{3 * s}, 3 * s}, {[]time.Duration{5 * s, 1 * s, 3 * s}, 3 * s}, {[]time.Duration{4 * s, 1 * s, 2 * s, 9 * s}, 3 * s}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %s, want %s", c.in, got, c.want)
		}
	}
}
