//go:build linux && amd64

// Command killtrace runs a program under ptrace(2), numbers the moments where
// it changes the file system or starts and reaps a command, and with -kill N
// SIGKILLs it at moment N: a crash at a chosen, repeatable point, with no
// hook in the program itself. crash_integration_test.go builds and uses it;
// it also runs by hand:
//
//	killtrace -events ev.json -- hardbake bake --root /mnt/img --only ssh
//	killtrace -kill 7 -events ev.json -- hardbake bake --root /mnt/img --only ssh
//
// Why not strace's --inject=...:signal=KILL:when=N: strace counts per thread,
// and a Go program issues its system calls from whichever thread runs the
// goroutine, so "the 7th rename" is a different rename every run. Here every
// thread's stops go through one counter, in the order the program makes them;
// that order is the program's own as long as it changes files and runs
// commands from one goroutine at a time.
//
// The moments (kinds):
//   - write: open(2) of a file for writing returned (the file may now be
//     truncated or created empty);
//   - rename, remove, mkdir, link, chmod, chown: before the call runs;
//   - start: before clone(2) of a new process (not a thread); its argv is
//     taken from the child's execve, which is traced until then;
//   - end: a wait4/waitid that reaped a child returned, before the program
//     sees the status (the command ran, its result is lost).
//
// A call that a signal interrupted before it did anything (the Go runtime's
// preemption signal during clone) is entered again by the kernel; it counts
// once.
//
// The program runs in new PID and mount namespaces: when it is killed, the
// commands it left running die with it and the mounts it made (a chroot's
// /proc, /dev) disappear instead of staying on the host. The mounts that a
// real crash would have left are recorded with the kill.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Event is one numbered moment.
type Event struct {
	N    int    `json:"n"`
	Kind string `json:"kind"`
	// Path is the file (host path) or, for start, the command line.
	Path string `json:"path"`
	// To is a rename's or link's new name.
	To string `json:"to,omitempty"`
}

// Result is the last line of the events file.
type Result struct {
	Exit     int      `json:"exit"`             // exit code, or -signal
	KilledAt int      `json:"killed_at"`        // the event the kill came at, 0: none
	Mounts   []string `json:"mounts,omitempty"` // mount points the program had made when killed
}

func main() {
	kill := flag.Int("kill", 0, "SIGKILL the program at event `N` (0: never)")
	events := flag.String("events", "", "write the events and the result to `FILE` (JSON lines)")
	flag.Parse()
	if flag.NArg() == 0 || *events == "" {
		fmt.Fprintln(os.Stderr, "usage: killtrace [-kill N] -events FILE -- PROGRAM [ARG...]")
		os.Exit(2)
	}
	// ptrace requests must come from the thread that is the tracer.
	runtime.LockOSThread()
	t := &tracer{killAt: *kill, threads: map[int]*thread{}, children: map[int]int{}, seen: map[int]bool{}}
	res, err := t.run(flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "killtrace:", err)
		os.Exit(125)
	}
	f, err := os.Create(*events)
	if err != nil {
		fmt.Fprintln(os.Stderr, "killtrace:", err)
		os.Exit(125)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, e := range t.events {
		enc.Encode(e)
	}
	enc.Encode(res)
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "killtrace:", err)
		os.Exit(125)
	}
	f.Close()
	if res.Exit < 0 {
		os.Exit(128 - res.Exit)
	}
	os.Exit(res.Exit)
}

type thread struct {
	inSyscall bool
	nr        uint64 // the system call entered
	args      [6]uint64
	event     int // the event numbered at entry (0: none)
}

type tracer struct {
	leader   int
	killAt   int
	killed   bool
	threads  map[int]*thread // traced threads of the program
	children map[int]int     // traced new processes (until their execve) -> their start event
	seen     map[int]bool    // every task ever traced, so a detached one is not taken for new
	// startMounts are the program's mount points when it started.
	startMounts map[string]bool
	events      []Event
	res         Result
}

const ptraceOptions = unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEVFORK |
	unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_EXITKILL

func (t *tracer) run(argv []string) (Result, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Ptrace:       true,
		Cloneflags:   syscall.CLONE_NEWPID,
		Unshareflags: syscall.CLONE_NEWNS,
		Pdeathsig:    syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return Result{}, err
	}
	t.leader = cmd.Process.Pid
	// The child stops with SIGTRAP after its execve.
	var ws unix.WaitStatus
	if _, err := unix.Wait4(t.leader, &ws, unix.WALL, nil); err != nil {
		return Result{}, err
	}
	if !ws.Stopped() {
		return Result{}, fmt.Errorf("%s did not stop after exec: %v", argv[0], ws)
	}
	if err := unix.PtraceSetOptions(t.leader, ptraceOptions); err != nil {
		return Result{}, fmt.Errorf("PTRACE_SETOPTIONS: %w", err)
	}
	t.threads[t.leader] = &thread{}
	t.seen[t.leader] = true
	t.startMounts = mountPoints(fmt.Sprintf("/proc/%d/mountinfo", t.leader))
	if err := unix.PtraceSyscall(t.leader, 0); err != nil {
		return Result{}, err
	}
	return t.loop()
}

// loop handles every stop until the program and everything traced is gone.
func (t *tracer) loop() (Result, error) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err == unix.ECHILD {
			return t.res, nil
		}
		if err != nil {
			return t.res, fmt.Errorf("wait4: %w", err)
		}
		if ws.Exited() || ws.Signaled() {
			delete(t.threads, pid)
			delete(t.children, pid)
			if pid == t.leader {
				if ws.Exited() {
					t.res.Exit = ws.ExitStatus()
				} else {
					t.res.Exit = -int(ws.Signal())
				}
			}
			continue
		}
		if !ws.Stopped() {
			continue
		}
		t.stopped(pid, ws)
	}
}

// stopped handles one ptrace stop of pid and resumes it (unless the kill came).
func (t *tracer) stopped(pid int, ws unix.WaitStatus) {
	sig := ws.StopSignal()
	if start, ok := t.children[pid]; ok {
		t.childStop(pid, start, ws)
		return
	}
	th := t.threads[pid]
	if th == nil && !t.seen[pid] {
		t.seen[pid] = true
		// A new thread's first stop can come before its creator's
		// PTRACE_EVENT_CLONE; a new process's before PTRACE_EVENT_VFORK.
		if t.newProcess(pid) {
			t.children[pid] = t.pendingStart()
			t.childStop(pid, t.children[pid], ws)
			return
		}
		th = &thread{}
		t.threads[pid] = th
		t.resume(pid, 0)
		return
	}
	if th == nil {
		t.resume(pid, 0)
		return
	}
	switch {
	case sig == syscall.SIGTRAP|0x80:
		if th.inSyscall {
			th.inSyscall = false
			t.syscallExit(pid, th)
		} else {
			th.inSyscall = true
			t.syscallEntry(pid, th)
		}
		if t.killed {
			return
		}
		t.resume(pid, 0)
	case sig == syscall.SIGTRAP && ws.TrapCause() > 0:
		// PTRACE_EVENT_CLONE/FORK/VFORK: the new task is handled at its own stop.
		if msg, err := unix.PtraceGetEventMsg(pid); err == nil && ws.TrapCause() != unix.PTRACE_EVENT_CLONE {
			if !t.seen[int(msg)] {
				t.seen[int(msg)] = true
				t.children[int(msg)] = th.event
			}
		}
		t.resume(pid, 0)
	default:
		// A signal for the program (the Go runtime's SIGURG, SIGCHLD): deliver it.
		t.resume(pid, int(sig))
	}
}

// newProcess reports whether pid is a new process (not a thread of the program).
func (t *tracer) newProcess(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "Tgid:"); ok {
			tgid, _ := strconv.Atoi(strings.TrimSpace(v))
			return tgid == pid && pid != t.leader
		}
	}
	return false
}

// pendingStart is the start event of the thread now inside clone.
func (t *tracer) pendingStart() int {
	for _, th := range t.threads {
		if th.inSyscall && isClone(th.nr) && th.event > 0 {
			return th.event
		}
	}
	return 0
}

// childStop follows a new process until its execve, which names the command
// of its start event; then lets it go.
func (t *tracer) childStop(pid, start int, ws unix.WaitStatus) {
	if ws.StopSignal() == syscall.SIGTRAP|0x80 {
		var regs unix.PtraceRegs
		if err := unix.PtraceGetRegs(pid, &regs); err == nil && (regs.Orig_rax == unix.SYS_EXECVE || regs.Orig_rax == unix.SYS_EXECVEAT) {
			argvAt := regs.Rsi
			if regs.Orig_rax == unix.SYS_EXECVEAT {
				argvAt = regs.Rdx
			}
			if start > 0 {
				t.events[start-1].Path = strings.Join(readArgv(pid, argvAt), " ")
			}
			delete(t.children, pid)
			unix.PtraceDetach(pid)
			return
		}
	}
	sig := 0
	if s := ws.StopSignal(); s != syscall.SIGSTOP && s != syscall.SIGTRAP && s != syscall.SIGTRAP|0x80 {
		sig = int(s)
	}
	unix.PtraceSyscall(pid, sig)
}

func (t *tracer) resume(pid, sig int) {
	unix.PtraceSyscall(pid, sig)
}

func isClone(nr uint64) bool {
	return nr == unix.SYS_CLONE || nr == unix.SYS_CLONE3 || nr == unix.SYS_FORK || nr == unix.SYS_VFORK
}

// syscallEntry numbers the moments that come before a call runs.
func (t *tracer) syscallEntry(pid int, th *thread) {
	var regs unix.PtraceRegs
	if err := unix.PtraceGetRegs(pid, &regs); err != nil {
		return
	}
	th.nr = regs.Orig_rax
	th.args = [6]uint64{regs.Rdi, regs.Rsi, regs.Rdx, regs.R10, regs.R8, regs.R9}
	th.event = 0
	a := th.args
	path := func(dirfd, p uint64) string { return hostPath(pid, int(int32(dirfd)), readString(pid, p)) }
	cwd := uint64(uint32(0xffffff9c)) // AT_FDCWD as a 32-bit int
	switch th.nr {
	case unix.SYS_CLONE:
		if a[0]&unix.CLONE_THREAD == 0 {
			th.event = t.event(pid, Event{Kind: "start", Path: "(no-exec)"})
		}
	case unix.SYS_CLONE3:
		// struct clone_args starts with the flags.
		if flags := readUint64(pid, a[0]); flags&unix.CLONE_THREAD == 0 {
			th.event = t.event(pid, Event{Kind: "start", Path: "(no-exec)"})
		}
	case unix.SYS_FORK, unix.SYS_VFORK:
		th.event = t.event(pid, Event{Kind: "start", Path: "(no-exec)"})
	case unix.SYS_RENAME:
		th.event = t.event(pid, Event{Kind: "rename", Path: path(cwd, a[0]), To: path(cwd, a[1])})
	case unix.SYS_RENAMEAT, unix.SYS_RENAMEAT2:
		th.event = t.event(pid, Event{Kind: "rename", Path: path(a[0], a[1]), To: path(a[2], a[3])})
	case unix.SYS_UNLINK, unix.SYS_RMDIR:
		th.event = t.event(pid, Event{Kind: "remove", Path: path(cwd, a[0])})
	case unix.SYS_UNLINKAT:
		th.event = t.event(pid, Event{Kind: "remove", Path: path(a[0], a[1])})
	case unix.SYS_MKDIR:
		th.event = t.event(pid, Event{Kind: "mkdir", Path: path(cwd, a[0])})
	case unix.SYS_MKDIRAT:
		th.event = t.event(pid, Event{Kind: "mkdir", Path: path(a[0], a[1])})
	case unix.SYS_SYMLINK:
		th.event = t.event(pid, Event{Kind: "link", Path: readString(pid, a[0]), To: path(cwd, a[1])})
	case unix.SYS_SYMLINKAT:
		th.event = t.event(pid, Event{Kind: "link", Path: readString(pid, a[0]), To: path(a[1], a[2])})
	case unix.SYS_LINK:
		th.event = t.event(pid, Event{Kind: "link", Path: path(cwd, a[0]), To: path(cwd, a[1])})
	case unix.SYS_LINKAT:
		th.event = t.event(pid, Event{Kind: "link", Path: path(a[0], a[1]), To: path(a[2], a[3])})
	case unix.SYS_CHMOD:
		th.event = t.event(pid, Event{Kind: "chmod", Path: path(cwd, a[0])})
	case unix.SYS_FCHMODAT:
		th.event = t.event(pid, Event{Kind: "chmod", Path: path(a[0], a[1])})
	case unix.SYS_CHOWN, unix.SYS_LCHOWN:
		th.event = t.event(pid, Event{Kind: "chown", Path: path(cwd, a[0])})
	case unix.SYS_FCHOWNAT:
		th.event = t.event(pid, Event{Kind: "chown", Path: path(a[0], a[1])})
	}
}

// syscallExit numbers the moments that come after a call returned.
func (t *tracer) syscallExit(pid int, th *thread) {
	var regs unix.PtraceRegs
	if err := unix.PtraceGetRegs(pid, &regs); err != nil {
		return
	}
	ret := int64(regs.Rax)
	a := th.args
	if th.event > 0 && isRestart(ret) {
		// A signal (the Go runtime's preemption SIGURG) interrupted the
		// call before it did anything (a clone before the new process
		// existed); the kernel enters it again, and that entry counts.
		t.retract(th.event)
		th.event = 0
		return
	}
	switch th.nr {
	case unix.SYS_OPEN, unix.SYS_OPENAT, unix.SYS_CREAT, unix.SYS_OPENAT2:
		if ret < 0 {
			return
		}
		var flags uint64
		switch th.nr {
		case unix.SYS_OPEN:
			flags = a[1]
		case unix.SYS_OPENAT:
			flags = a[2]
		case unix.SYS_CREAT:
			flags = unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC
		case unix.SYS_OPENAT2:
			flags = readUint64(pid, a[2]) // struct open_how starts with the flags
		}
		if flags&(unix.O_WRONLY|unix.O_RDWR) == 0 {
			return
		}
		p, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, ret))
		if err != nil || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "/dev/") || strings.HasPrefix(p, "/proc/") || strings.HasPrefix(p, "/memfd:") {
			return // a device, a pipe, a memfd: not a file of the root
		}
		t.event(pid, Event{Kind: "write", Path: p})
	case unix.SYS_WAIT4:
		if ret > 0 {
			t.event(pid, Event{Kind: "end", Path: "pid " + strconv.FormatInt(ret, 10)})
		}
	case unix.SYS_WAITID:
		// waitid(idtype, id, infop, options, rusage): reaped unless WNOWAIT;
		// with WNOHANG and nothing to reap, si_pid stays 0.
		if ret != 0 || a[3]&unix.WNOWAIT != 0 || a[2] == 0 {
			return
		}
		if sigPid := readUint32(pid, a[2]+16); sigPid != 0 {
			t.event(pid, Event{Kind: "end", Path: "pid " + strconv.FormatUint(uint64(sigPid), 10)})
		}
	}
}

// isRestart: the call was interrupted and will be entered again
// (ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK).
func isRestart(ret int64) bool {
	return ret == -512 || ret == -513 || ret == -514 || ret == -516
}

// retract takes event n back; later events move up.
func (t *tracer) retract(n int) {
	t.events = append(t.events[:n-1], t.events[n:]...)
	for i := n - 1; i < len(t.events); i++ {
		t.events[i].N = i + 1
	}
	for _, th := range t.threads {
		if th.event > n {
			th.event--
		}
	}
	for pid, start := range t.children {
		if start > n {
			t.children[pid] = start - 1
		}
	}
}

// event numbers e; at the chosen number the program is killed.
func (t *tracer) event(pid int, e Event) int {
	if t.killed {
		return 0
	}
	e.N = len(t.events) + 1
	t.events = append(t.events, e)
	if e.N == t.killAt {
		t.res.KilledAt = e.N
		t.res.Mounts = t.newMounts()
		// The whole thread group, and with the PID namespace's init every
		// process the program started, dies; the stopped thread never
		// resumes into the call.
		unix.Kill(t.leader, unix.SIGKILL)
		t.killed = true
	}
	return e.N
}

// newMounts lists the mount points the program made and has not removed:
// what a crash of it outside a private mount namespace would leave mounted.
func (t *tracer) newMounts() []string {
	var out []string
	for p := range mountPoints(fmt.Sprintf("/proc/%d/mountinfo", t.leader)) {
		if !t.startMounts[p] {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func mountPoints(file string) map[string]bool {
	m := map[string]bool{}
	data, err := os.ReadFile(file)
	if err != nil {
		return m
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 4 {
			m[f[4]] = true
		}
	}
	return m
}

// hostPath makes p (relative to dirfd, or absolute) a path as the tracer
// sees it, through the program's /proc entries.
func hostPath(pid, dirfd int, p string) string {
	if strings.HasPrefix(p, "/") {
		root, err := os.Readlink(fmt.Sprintf("/proc/%d/root", pid))
		if err != nil || root == "/" {
			return p
		}
		return filepath.Join(root, p)
	}
	var dir string
	var err error
	if dirfd == unix.AT_FDCWD {
		dir, err = os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	} else {
		dir, err = os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, dirfd))
	}
	if err != nil {
		return "?/" + p
	}
	return filepath.Join(dir, p)
}

func readMem(pid int, addr uint64, buf []byte) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	n, _ := f.ReadAt(buf, int64(addr))
	return n
}

func readString(pid int, addr uint64) string {
	if addr == 0 {
		return ""
	}
	var out []byte
	buf := make([]byte, 256)
	for len(out) < 4096 {
		n := readMem(pid, addr+uint64(len(out)), buf)
		if n == 0 {
			break
		}
		if i := strings.IndexByte(string(buf[:n]), 0); i >= 0 {
			return string(append(out, buf[:i]...))
		}
		out = append(out, buf[:n]...)
	}
	return string(out)
}

func readUint64(pid int, addr uint64) uint64 {
	var b [8]byte
	if readMem(pid, addr, b[:]) != 8 {
		return 0
	}
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func readUint32(pid int, addr uint64) uint32 {
	return uint32(readUint64(pid, addr))
}

// readArgv reads a NULL-terminated array of string pointers.
func readArgv(pid int, addr uint64) []string {
	var out []string
	for i := 0; i < 64; i++ {
		p := readUint64(pid, addr+uint64(8*i))
		if p == 0 {
			break
		}
		out = append(out, readString(pid, p))
	}
	return out
}
