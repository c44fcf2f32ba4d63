package runner

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
)

// Early is a command started before its input is known: the program loads
// (its libraries, its own start-up) while hardbake is still busy, then
// blocks reading stdin until Feed gives it the input. Cancel ends one that
// is not needed after all.
type Early struct {
	c           Cmd
	proc        *os.Process
	stdin       *os.File
	out, errOut capture

	mu   sync.Mutex
	used bool
}

// AdoptEarly takes over a child this process started (internal/earlysshd):
// c is what it runs, stdin the write end of its stdin pipe, out and errOut
// the memfds its stdout and stderr go to.
func AdoptEarly(c Cmd, pid, stdin, out, errOut int) *Early {
	p, _ := os.FindProcess(pid) // on Unix it always succeeds
	x := &Early{c: c, proc: p, stdin: os.NewFile(uintptr(stdin), "early-stdin")}
	x.out.f = os.NewFile(uintptr(out), "hardbake-output")
	x.errOut.f = os.NewFile(uintptr(errOut), "hardbake-output")
	return x
}

func (x *Early) take() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.used {
		return false
	}
	x.used = true
	return true
}

// Feed writes input to the command's stdin, closes it, and returns what Run
// returns for a command that ends that way (Exec.result).
func (x *Early) Feed(ctx context.Context, input []byte) (Result, error) {
	if !x.take() {
		return Result{}, fmt.Errorf("%s: already used", x.c)
	}
	stop := context.AfterFunc(ctx, func() { x.proc.Kill() })
	x.stdin.Write(input) // a program that exits early has said why on stderr
	x.stdin.Close()
	waitExited(x.proc)
	state, err := x.proc.Wait()
	stop()
	if err == nil && !state.Success() {
		err = &exec.ExitError{ProcessState: state}
	}
	// Not chrooted by Exec: it cannot have failed to start.
	return Exec{}.result(ctx, x.c, &x.out, &x.errOut, err)
}

// Cancel kills the command unless it was fed, and reaps it.
func (x *Early) Cancel() {
	if !x.take() {
		return
	}
	x.proc.Kill()
	x.stdin.Close()
	x.proc.Wait()
	x.out.bytes()
	x.errOut.bytes()
}
