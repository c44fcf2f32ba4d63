package main

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// TestNotifyContext: the context ends when the signal arrives, once the
// handler is in place (SIGWINCH is ignored by default, so the signals sent
// before that change nothing), and stop ends it too.
func TestNotifyContext(t *testing.T) {
	ctx, stop := notifyContext(context.Background(), syscall.SIGWINCH)
	defer stop()
	deadline := time.After(10 * time.Second)
	for ctx.Err() == nil {
		syscall.Kill(syscall.Getpid(), syscall.SIGWINCH)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			t.Fatal("SIGWINCH did not cancel the context")
		}
	}
	ctx2, stop2 := notifyContext(context.Background(), syscall.SIGWINCH)
	stop2()
	if ctx2.Err() == nil {
		t.Fatal("stop did not end the context")
	}
}
