// Package runner is the only way hardbake executes programs. Steps describe a
// command; the Runner decides how it runs: directly on the live system, through
// chroot(8) under --root, or recorded by tests (guest-agent's command runner).
package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Cmd is one program invocation, argv style: never a shell string.
type Cmd struct {
	Name  string
	Args  []string
	Stdin []byte
	Env   []string // extra KEY=VALUE pairs on top of a clean, predictable environment
}

// String renders the command for plans and logs.
func (c Cmd) String() string {
	parts := append([]string{c.Name}, c.Args...)
	for i, p := range parts {
		if p == "" || strings.ContainsAny(p, " \t\n'\"$`\\*?;&|<>()") {
			parts[i] = "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
		}
	}
	s := strings.Join(parts, " ")
	if len(c.Env) > 0 {
		s = strings.Join(c.Env, " ") + " " + s
	}
	return s
}

// Result is what a finished command produced.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// Runner runs commands in the target system.
type Runner interface {
	// Run runs c. A non-zero exit is reported as *ExitError (with the Result
	// filled in), so callers can both test for failure and show stderr.
	Run(ctx context.Context, c Cmd) (Result, error)
}

// ExitError is a command that ran and exited non-zero.
type ExitError struct {
	Cmd    Cmd
	Result Result
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(string(e.Result.Stderr))
	if msg == "" {
		msg = strings.TrimSpace(string(e.Result.Stdout))
	}
	if len(msg) > 2000 {
		msg = msg[len(msg)-2000:]
	}
	if msg != "" {
		return fmt.Sprintf("%s: exit status %d: %s", e.Cmd, e.Result.ExitCode, msg)
	}
	return fmt.Sprintf("%s: exit status %d", e.Cmd, e.Result.ExitCode)
}

// baseEnv keeps tools predictable (no translated messages, no prompts).
var baseEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C.UTF-8",
	"LANG=C.UTF-8",
	"DEBIAN_FRONTEND=noninteractive",
	"HOME=/root",
	"TERM=dumb",
}

// Exec runs commands on this machine; with Chroot set, inside that directory
// via chroot(8), so the target's own binaries and config are used.
type Exec struct {
	Chroot string
}

// Run implements Runner.
func (e Exec) Run(ctx context.Context, c Cmd) (Result, error) {
	name, args := c.Name, c.Args
	if e.Chroot != "" && e.Chroot != "/" {
		args = append([]string{e.Chroot, name}, args...)
		name = "chroot"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(append([]string{}, baseEnv...), c.Env...)
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.ExitCode = ee.ExitCode()
		return res, &ExitError{Cmd: c, Result: res}
	}
	if err != nil {
		return res, fmt.Errorf("%s: %w", c, err)
	}
	return res, nil
}

// Lookup reports whether a program exists in the target, using the same
// PATH as Run. dir is the root directory ("/" live).
func Lookup(dir, name string) (string, bool) {
	if strings.Contains(name, "/") {
		_, err := os.Stat(dir + name)
		return name, err == nil
	}
	for _, p := range strings.Split(strings.TrimPrefix(baseEnv[0], "PATH="), ":") {
		fi, err := os.Stat(strings.TrimSuffix(dir, "/") + p + "/" + name)
		if err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p + "/" + name, true
		}
	}
	return "", false
}
