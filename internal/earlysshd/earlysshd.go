// Package earlysshd starts the image's `sshd -T` for `hardbake firstboot`
// before the rest of the program has even initialised.
//
// A first boot ends by letting the image's sshd judge the configuration it
// wrote (`sshd -T`). Before sshd reads a line of configuration it loads two
// dozen shared libraries and OpenSSL: about 3 ms of CPU, the largest single
// cost of a first boot. Go's own start-up (package initialisation, reading
// the host data) runs on one core while the second idles. So, as soon as
// this package is initialised (it depends on the runtime, os, syscall,
// x/sys/unix and the leaf runner/toolenv only), `hardbake firstboot`
// starts `sshd -T -f /proc/self/fd/0` with a pipe for stdin: sshd loads on
// the idle core and then waits for its configuration. firstboot later writes the main file's contents into the
// pipe at the moment it would have run `sshd -T -f /etc/ssh/sshd_config`
// (runner.Early). sshd resolves Include against /etc/ssh whatever -f names,
// so it is the same question; the host keys are read only after the input.
// Only an acceptance is taken from the early sshd: a refusal is asked again
// the ordinary way, so sshd's messages name the real file.
//
// `sshd -T` changes nothing. One that is not asked (bad host data, nothing
// to validate, another root) is killed (Discard); if hardbake dies first,
// sshd reads an empty configuration, prints it and exits.
//
// HARDBAKE_EARLY_SSHD=0 turns this off.
package earlysshd

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/hardbake/hardbake/bootstrap/runner/toolenv"
	"golang.org/x/sys/unix"
)

// Binary is the sshd every hardbake step runs (steps.SSHDBinary) and Args
// its arguments here.
const Binary = "/usr/sbin/sshd"

var Args = []string{"-T", "-f", "/proc/self/fd/0"}

// marker is firstboot's marker (steps.FirstbootMarker): once it exists a
// first boot does nothing.
const marker = "/var/lib/hardbake/firstboot.done"

// Proc is the early sshd: its pid, the root it runs in (chroot; "/" live),
// the write end of its stdin, and the memfds holding its stdout and stderr.
type Proc struct {
	Pid             int
	Root            string
	Stdin, Out, Err int
}

var (
	mu    sync.Mutex
	early *Proc
)

func init() {
	if os.Getenv("HARDBAKE_EARLY_SSHD") == "0" {
		return
	}
	root, ok := FirstbootRoot(os.Args)
	if !ok {
		return
	}
	if p, err := start(root); err == nil {
		early = p
	}
}

// FirstbootRoot says whether args are a `hardbake firstboot` command line,
// and for which root (its --root, made absolute; "/" without one).
func FirstbootRoot(args []string) (string, bool) {
	if len(args) < 2 || args[1] != "firstboot" {
		return "", false
	}
	root := "/"
	for i := 2; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "root" {
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return "", false
			}
			i++
			value = args[i]
		}
		abs, err := filepath.Abs(value)
		if err != nil {
			return "", false
		}
		root = abs
	}
	return root, true
}

// in is path inside root.
func in(root, path string) string {
	if root == "/" {
		return path
	}
	return root + path
}

func start(root string) (*Proc, error) {
	for _, p := range []string{marker, Binary, "/proc/self/fd"} {
		_, err := os.Lstat(in(root, p))
		if p == marker && err == nil {
			return nil, os.ErrExist
		}
		if p != marker && err != nil {
			return nil, err
		}
	}
	return Spawn(root, Binary, Args)
}

// Spawn starts path with args in root (chrooted unless root is "/"), in
// the runner's environment, with a pipe for its stdin and memfds for its
// stdout and stderr: what runner.AdoptEarly takes over.
func Spawn(root, path string, args []string) (*Proc, error) {
	var pipe [2]int
	if err := syscall.Pipe2(pipe[:], syscall.O_CLOEXEC); err != nil {
		return nil, err
	}
	out, err := memfd()
	if err != nil {
		closeAll(pipe[0], pipe[1])
		return nil, err
	}
	errOut, err := memfd()
	if err != nil {
		closeAll(pipe[0], pipe[1], out)
		return nil, err
	}
	attr := &syscall.ProcAttr{
		Dir:   "/",
		Env:   toolenv.Base, // as the runner runs every command
		Files: []uintptr{uintptr(pipe[0]), uintptr(out), uintptr(errOut)},
		Sys:   &syscall.SysProcAttr{},
	}
	if root != "/" {
		attr.Sys.Chroot = root
	}
	pid, err := syscall.ForkExec(path, append([]string{path}, args...), attr)
	syscall.Close(pipe[0])
	if err != nil {
		closeAll(pipe[1], out, errOut)
		return nil, err
	}
	return &Proc{Pid: pid, Root: root, Stdin: pipe[1], Out: out, Err: errOut}, nil
}

func memfd() (int, error) { return unix.MemfdCreate("hardbake-output", unix.MFD_CLOEXEC) }

func closeAll(fds ...int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}

// Take hands over the early sshd if it runs in root; nil otherwise. It is
// handed over once.
func Take(root string) *Proc {
	mu.Lock()
	defer mu.Unlock()
	p := early
	if p == nil || filepath.Clean(root) != p.Root {
		return nil
	}
	early = nil
	return p
}

// Discard kills and reaps an early sshd nobody took.
func Discard() {
	mu.Lock()
	p := early
	early = nil
	mu.Unlock()
	if p == nil {
		return
	}
	syscall.Kill(p.Pid, syscall.SIGKILL)
	var ws syscall.WaitStatus
	syscall.Wait4(p.Pid, &ws, 0, nil)
	closeAll(p.Stdin, p.Out, p.Err)
}
