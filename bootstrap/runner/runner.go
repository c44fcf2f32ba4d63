// Package runner is the only way hardbake executes programs. Steps describe a
// command; the Runner decides how it runs: directly on the live system, through
// chroot(8) under --root, or recorded by tests (guest-agent's command runner).
package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Cmd is one program invocation, argv style: never a shell string.
type Cmd struct {
	Name  string
	Args  []string
	Stdin []byte
	Env   []string // extra KEY=VALUE pairs on top of a clean, predictable environment
	// UserNS runs the program as root of a new user namespace: it may parse
	// and try, but the kernel grants it nothing on the host (the audit
	// netlink refuses it, so auditctl checks a rule without loading it).
	UserNS bool
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
	if c.UserNS {
		s = "unshare --user --map-root-user " + s
	}
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

// baseEnv is the whole environment of every command before its own extra
// pairs: predictable tools (no translated messages, no prompts).
var baseEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C.UTF-8",
	"LANG=C.UTF-8",
	"DEBIAN_FRONTEND=noninteractive",
	"HOME=/root",
	"TERM=dumb",
}

// Exec runs commands on this machine; with Chroot set, inside that directory
// (chroot(2) in the child, as chroot(8) does, without starting chroot(8)
// first: one exec less per command), so the target's own binaries and
// config are used.
type Exec struct {
	Chroot string
}

// Run implements Runner.
func (e Exec) Run(ctx context.Context, c Cmd) (Result, error) {
	cmd, res, err := e.command(ctx, c)
	if cmd == nil {
		return res, err
	}
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var out, errOut capture
	out.attach(&cmd.Stdout)
	errOut.attach(&cmd.Stderr)
	err = cmd.Run()
	return e.result(ctx, c, &out, &errOut, err)
}

// command prepares c; a nil *exec.Cmd comes with the result and error of a
// program that cannot be run (chroot(8)'s exit codes).
func (e Exec) command(ctx context.Context, c Cmd) (*exec.Cmd, Result, error) {
	var cmd *exec.Cmd
	if e.chrooted() {
		// The program is looked up in the target's PATH, not the host's;
		// the kernel resolves it, and its links, inside the new root.
		p, ok := lookupIn(e.Chroot, c.Name)
		if !ok {
			res, err := notRunnable(c, 127, "No such file or directory")
			return nil, res, err
		}
		cmd = exec.CommandContext(ctx, p, c.Args...)
		cmd.Args[0] = c.Name
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: e.Chroot}
		cmd.Dir = "/"
	} else {
		cmd = exec.CommandContext(ctx, c.Name, c.Args...)
	}
	cmd.Env = append(append([]string{}, baseEnv...), c.Env...)
	if c.UserNS {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
	}
	return cmd, Result{}, nil
}

func (e Exec) chrooted() bool { return e.Chroot != "" && e.Chroot != "/" }

// notRunnable is chroot(8)'s answer for a program it cannot run.
func notRunnable(c Cmd, code int, why string) (Result, error) {
	res := Result{ExitCode: code, Stderr: []byte(fmt.Sprintf("chroot: failed to run command '%s': %s", c.Name, why))}
	return res, &ExitError{Cmd: c, Result: res}
}

// result turns how c ended (err from run, or an *exec.ExitError for a
// non-zero exit) and what it wrote into Run's answer.
func (e Exec) result(ctx context.Context, c Cmd, out, errOut *capture, err error) (Result, error) {
	res := Result{Stdout: out.bytes(), Stderr: errOut.bytes()}
	if err != nil && ctx.Err() != nil {
		// Killed because the run was interrupted, not a failure of its own.
		return res, fmt.Errorf("%s: %w", c, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.ExitCode = ee.ExitCode()
		return res, &ExitError{Cmd: c, Result: res}
	}
	if e.chrooted() && errors.Is(err, syscall.ENOENT) {
		return notRunnable(c, 127, "No such file or directory")
	}
	if e.chrooted() && errors.Is(err, syscall.EACCES) {
		return notRunnable(c, 126, "Permission denied")
	}
	if err != nil {
		return res, fmt.Errorf("%s: %w", c, err)
	}
	return res, nil
}

// lookupIn finds name in the PATH of the root dir without following links
// on the host (an absolute link such as /etc/alternatives/... points into
// the root, not the host). Names with a slash are the kernel's to find.
func lookupIn(dir, name string) (string, bool) {
	if strings.Contains(name, "/") {
		return name, true
	}
	for _, p := range strings.Split(strings.TrimPrefix(baseEnv[0], "PATH="), ":") {
		fi, err := os.Lstat(strings.TrimSuffix(dir, "/") + p + "/" + name)
		if err == nil && (fi.Mode()&os.ModeSymlink != 0 || (fi.Mode().IsRegular() && fi.Mode()&0o111 != 0)) {
			return p + "/" + name, true
		}
	}
	return "", false
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

// capture collects a command's stdout or stderr. The child writes into an
// anonymous in-memory file (memfd_create(2)), read back once the child has
// exited. With a pipe, os/exec waits until every process that inherited it
// has closed it: a daemon that a command started (an init script's start of
// sshd or fail2ban) would hold the run until it exits. Without memfd it
// falls back to a pipe and a buffer.
type capture struct {
	f   *os.File
	buf bytes.Buffer
}

// attach makes w (cmd.Stdout or cmd.Stderr) write into the capture.
func (c *capture) attach(w *io.Writer) {
	fd, err := unix.MemfdCreate("hardbake-output", unix.MFD_CLOEXEC)
	if err != nil {
		*w = &c.buf
		return
	}
	c.f = os.NewFile(uintptr(fd), "hardbake-output")
	*w = c.f
}

// bytes returns what was written and releases the memfd.
func (c *capture) bytes() []byte {
	if c.f == nil {
		return c.buf.Bytes()
	}
	defer c.f.Close()
	fi, err := c.f.Stat()
	if err != nil || fi.Size() == 0 {
		return nil
	}
	data := make([]byte, fi.Size())
	n, _ := c.f.ReadAt(data, 0)
	return data[:n]
}
