// Package earlysshd starts the image's `sshd -T` for `hardbake firstboot`
// before the rest of the program has even initialised.
//
// A first boot ends by letting the image's sshd judge the configuration it
// wrote (`sshd -T`). Before sshd reads a line of configuration it loads two
// dozen shared libraries and OpenSSL: 3-5 ms of CPU, the largest single
// cost of a first boot. Go's own start-up (package initialisation, reading
// the host data) runs on one core while the second idles. So, as soon as
// this package is initialised (see below), `hardbake firstboot` starts
// `sshd -T -f /proc/self/fd/0` with a pipe for stdin: sshd loads on the
// idle core and then waits for its configuration. firstboot later writes
// the main file's contents into the pipe at the moment it would have run
// `sshd -T -f /etc/ssh/sshd_config` (runner.Early). sshd resolves Include against /etc/ssh whatever -f names,
// so it is the same question; the host keys are read only after the input.
// Only an acceptance is taken from the early sshd: a refusal is asked again
// the ordinary way, so sshd's messages name the real file.
//
// `sshd -T` changes nothing. One that is not asked (bad host data, nothing
// to validate, another root) is killed (Discard); if hardbake dies first,
// sshd reads an empty configuration, prints it and exits.
//
// HARDBAKE_EARLY_SSHD=0 turns this off.
//
// Go initialises a package once everything it imports is, taking the ready
// ones in import-path order. A package that imports os, path/filepath,
// strings (which waits for unicode) or x/sys/unix waits behind most of the
// program: go-diskfs, crypto, yaml, 0.7-0.9 ms here. This one imports only
// what is initialised first (syscall, sync, path, unsafe) and the leaf
// toolenv, so its init runs right after syscall's, before os's: it reads
// the command line from /proc/self/cmdline (os.Args is not set yet) and
// makes its system calls directly. TestEarlySSHDInitBeforeOS (cmd/hardbake)
// holds it there.
package earlysshd

import (
	"path"
	"sync"
	"syscall"
	"unsafe"

	"github.com/hardbake/hardbake/bootstrap/runner/toolenv"
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
	if v, _ := syscall.Getenv("HARDBAKE_EARLY_SSHD"); v == "0" {
		return
	}
	root, ok := FirstbootRoot(cmdline())
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
		name, value, hasValue := flagParts(a)
		if a == "" || a[0] != '-' || name != "root" {
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return "", false
			}
			i++
			value = args[i]
		}
		if !path.IsAbs(value) {
			wd, err := syscall.Getwd()
			if err != nil {
				return "", false
			}
			value = path.Join(wd, value)
		}
		root = path.Clean(value)
	}
	return root, true
}

// cmdline is this process's arguments, as os.Args will have them.
func cmdline() []string {
	fd, err := syscall.Open("/proc/self/cmdline", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer syscall.Close(fd)
	var data []byte
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil
		}
		if n <= 0 {
			break
		}
		data = append(data, buf[:n]...)
	}
	var args []string
	for len(data) > 0 {
		i := 0
		for i < len(data) && data[i] != 0 {
			i++
		}
		args = append(args, string(data[:i]))
		data = data[min(i+1, len(data)):]
	}
	return args
}

// flagParts splits a flag argument ("--name=value", "-name") into its
// name and value. A command line the flag package refuses later only
// costs an early sshd that main discards.
func flagParts(a string) (name, value string, hasValue bool) {
	for a != "" && a[0] == '-' {
		a = a[1:]
	}
	for i := 0; i < len(a); i++ {
		if a[i] == '=' {
			return a[:i], a[i+1:], true
		}
	}
	return a, "", false
}

// in is p inside root.
func in(root, p string) string {
	if root == "/" {
		return p
	}
	return root + p
}

func start(root string) (*Proc, error) {
	for _, p := range []string{marker, Binary, "/proc/self/fd"} {
		var st syscall.Stat_t
		err := syscall.Lstat(in(root, p), &st)
		if p == marker && err == nil {
			return nil, syscall.EEXIST
		}
		if p != marker && err != nil {
			return nil, err
		}
	}
	return Spawn(root, Binary, Args)
}

// Spawn starts bin with args in root (chrooted unless root is "/"), in
// the runner's environment, with a pipe for its stdin and memfds for its
// stdout and stderr: what runner.AdoptEarly takes over.
func Spawn(root, bin string, args []string) (*Proc, error) {
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
	pid, err := syscall.ForkExec(bin, append([]string{bin}, args...), attr)
	syscall.Close(pipe[0])
	if err != nil {
		closeAll(pipe[1], out, errOut)
		return nil, err
	}
	return &Proc{Pid: pid, Root: root, Stdin: pipe[1], Out: out, Err: errOut}, nil
}

// memfd is memfd_create("hardbake-output", MFD_CLOEXEC); sysMemfdCreate
// is the call's number on this architecture (sys_*.go).
func memfd() (int, error) {
	nr := sysMemfdCreate // a variable: -1 is no uintptr constant
	if nr < 0 {
		return -1, syscall.ENOSYS
	}
	name, err := syscall.BytePtrFromString("hardbake-output")
	if err != nil {
		return -1, err
	}
	const mfdCloexec = 1
	fd, _, errno := syscall.Syscall(uintptr(nr), uintptr(unsafe.Pointer(name)), mfdCloexec, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

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
	if p == nil || path.Clean(root) != p.Root {
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
