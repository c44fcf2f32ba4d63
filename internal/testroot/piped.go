package testroot

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Piped starts `sh -c script` the way internal/earlysshd starts sshd: stdin
// a pipe, stdout and stderr memfds. It returns the pid, the pipe's write
// end and the two memfds, for runner.AdoptEarly.
func Piped(t testing.TB, script string) (pid, stdin, out, errOut int) {
	t.Helper()
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	out, err := unix.MemfdCreate("out", unix.MFD_CLOEXEC)
	if err != nil {
		t.Skip("no memfd:", err)
	}
	errOut, err = unix.MemfdCreate("err", unix.MFD_CLOEXEC)
	if err != nil {
		t.Skip("no memfd:", err)
	}
	pid, err = syscall.ForkExec("/bin/sh", []string{"sh", "-c", script}, &syscall.ProcAttr{Files: []uintptr{uintptr(p[0]), uintptr(out), uintptr(errOut)}})
	syscall.Close(p[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid, p[1], out, errOut
}
