package runner

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/hardbake/hardbake/internal/earlysshd"
)

// startEarly starts script under sh with earlysshd.Spawn, as sshd is started.
func startEarly(t *testing.T, script string) *Early {
	t.Helper()
	p, err := earlysshd.Spawn("/", "/bin/sh", []string{"-c", script})
	if err != nil {
		t.Fatal(err)
	}
	return AdoptEarly(Cmd{Name: "sh", Args: []string{"-c", script}}, p.Pid, p.Stdin, p.Out, p.Err)
}

// TestEarlyFeed: the program gets the input on stdin, and Feed answers as
// Run does: output, stderr, exit status as *ExitError; a second Feed is
// refused; Cancel after Feed does nothing.
func TestEarlyFeed(t *testing.T) {
	x := startEarly(t, "cat; echo oops >&2; exit 3")
	res, err := x.Feed(context.Background(), []byte("Port 22\n"))
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Result.ExitCode != 3 || res.ExitCode != 3 {
		t.Fatalf("err = %v, res = %+v", err, res)
	}
	if string(res.Stdout) != "Port 22\n" || string(res.Stderr) != "oops\n" {
		t.Errorf("stdout %q stderr %q", res.Stdout, res.Stderr)
	}
	if _, err := x.Feed(context.Background(), nil); err == nil {
		t.Error("fed twice")
	}
	x.Cancel()

	ok := startEarly(t, "cat")
	if res, err := ok.Feed(context.Background(), []byte("x")); err != nil || string(res.Stdout) != "x" {
		t.Errorf("%v %q", err, res.Stdout)
	}
}

// TestEarlyCancel: a program waiting for input that never comes is killed
// and reaped; a Feed after it is refused.
func TestEarlyCancel(t *testing.T) {
	x := startEarly(t, "cat >/dev/null; sleep 30")
	done := make(chan struct{})
	go func() { x.Cancel(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Cancel did not end the program")
	}
	if err := syscall.Kill(x.proc.Pid, 0); err == nil {
		t.Error("the program still exists (not reaped)")
	}
	if _, err := x.Feed(context.Background(), nil); err == nil {
		t.Error("fed after Cancel")
	}
}
