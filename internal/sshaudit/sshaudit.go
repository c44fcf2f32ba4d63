// Package sshaudit runs ssh-audit (https://github.com/jtesta/ssh-audit,
// Debian's package; scripts/deps.sh installs it) against a live sshd and
// counts its verdicts. Both the chroot-sshd tests of bootstrap/steps and the
// booted-VM checks of e2e use it, so their numbers are counted the same way.
package sshaudit

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ErrNotInstalled: ssh-audit is not on PATH.
var ErrNotInstalled = errors.New("sshaudit: ssh-audit not installed (scripts/deps.sh installs it)")

// Result is one ssh-audit run.
type Result struct {
	Fails, Warns int    // [fail] and [warn] verdicts
	Output       string // ssh-audit's whole output, without colours
}

// Installed reports whether ssh-audit is on PATH.
func Installed() bool {
	_, err := exec.LookPath("ssh-audit")
	return err == nil
}

// Run audits the sshd at host:port with `ssh-audit -n -t TIMEOUT -p PORT
// HOST`. ssh-audit exits non-zero whenever it has a warning or a failure, so
// its exit status is no error here; an output without a "(kex)" line is one
// (ssh-audit did not get the server's key exchange). timeout is ssh-audit's
// per-connection timeout (its default of 5 s is short for a TCG guest);
// 0 keeps the default.
func Run(ctx context.Context, host string, port int, timeout time.Duration) (Result, error) {
	if !Installed() {
		return Result{}, ErrNotInstalled
	}
	args := []string{"-n", "-p", strconv.Itoa(port)}
	if timeout > 0 {
		args = append(args, "-t", strconv.Itoa(int(timeout.Seconds())))
	}
	out, _ := exec.CommandContext(ctx, "ssh-audit", append(args, host)...).CombinedOutput()
	r := Result{Output: string(out)}
	r.Fails, r.Warns = Count(r.Output)
	if !strings.Contains(r.Output, "(kex)") {
		return r, fmt.Errorf("sshaudit: ssh-audit did not reach the sshd at %s:%d:\n%s", host, port, out)
	}
	return r, nil
}

// Count counts the [fail] and [warn] verdicts in ssh-audit's text output
// (one per line: "(kex) diffie-hellman-group14-sha1 -- [fail] using ...").
func Count(out string) (fails, warns int) {
	return strings.Count(out, "[fail]"), strings.Count(out, "[warn]")
}
