package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestExecCapturesOutput: stdout and stderr come back separately and whole,
// beyond a pipe's buffer too, on success and on failure, and stdin is the
// null device unless given.
func TestExecCapturesOutput(t *testing.T) {
	ctx := context.Background()
	res, err := Exec{}.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", `echo out; echo err >&2; head -c 1048576 /dev/zero; cat`}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(res.Stdout, []byte("out\n")) || len(res.Stdout) != 4+1<<20 || string(res.Stderr) != "err\n" {
		t.Fatalf("stdout %d bytes (%q...), stderr %q", len(res.Stdout), res.Stdout[:min(8, len(res.Stdout))], res.Stderr)
	}
	res, err = Exec{}.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", `cat; echo bad >&2; exit 3`}, Stdin: []byte("in\n")})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Result.ExitCode != 3 || string(res.Stdout) != "in\n" || string(res.Stderr) != "bad\n" {
		t.Fatalf("%v %+v", err, res)
	}
	if res, err := (Exec{}).Run(ctx, Cmd{Name: "true"}); err != nil || res.Stdout != nil || res.Stderr != nil {
		t.Fatalf("no output: %+v %v", res, err)
	}
}

// TestExecDoesNotWaitForInheritors: a command that leaves a process behind
// holding its stdout (a daemon started without redirecting it) returns when
// the command exits: the leftover is still running when Run is back.
func TestExecDoesNotWaitForInheritors(t *testing.T) {
	res, err := Exec{}.Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", `sleep 60 & echo $!`}})
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(res.Stdout)))
	if err != nil {
		t.Fatalf("stdout %q", res.Stdout)
	}
	defer syscall.Kill(pid, syscall.SIGKILL)
	// Still alive: not a zombie waiting for init to reap it.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if _, after, ok := strings.Cut(string(stat), ") "); err != nil || !ok || strings.HasPrefix(after, "Z") || strings.HasPrefix(after, "X") {
		t.Fatalf("the background sleep has ended (%q, %v): Run waited for it", stat, err)
	}
}

// TestExecCancel: a command still running when the context ends is killed
// and Run reports the context's error (without the kill, sleep would end
// after a minute with success); a context already over starts nothing.
func TestExecCancel(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Exec{}.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", "touch " + dir + "/started; exec sleep 60"}})
		done <- err
	}()
	for {
		if _, err := os.Stat(dir + "/started"); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("ended before cancel: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if _, err := (Exec{}).Run(ctx, Cmd{Name: "touch", Args: []string{dir + "/ran"}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(dir + "/ran"); err == nil {
		t.Fatal("a command ran after its context ended")
	}
}
