package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestEarlySSHDInitBeforeOS: the package that starts firstboot's early sshd
// (internal/earlysshd) is initialised right after syscall, before os and
// everything that waits for os, in the shipped binary. Importing os,
// strings, path/filepath or x/sys/unix there would move it behind
// go-diskfs, crypto and yaml (0.7-0.9 ms later) and fail this.
func TestEarlySSHDInitBeforeOS(t *testing.T) {
	cmd := exec.Command(hardbakeBin(t), "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hardbake version: %v\n%s", err, out)
	}
	var order []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "init" {
			order = append(order, f[1])
		}
	}
	early := slices.Index(order, "github.com/hardbake/hardbake/internal/earlysshd")
	osInit := slices.Index(order, "os")
	if early < 0 || osInit < 0 {
		t.Fatalf("no init of earlysshd or os in the trace:\n%s", out)
	}
	if early > osInit {
		t.Errorf("earlysshd is initialised after os (%d > %d): %q", early, osInit, order[:early+1])
	}
}
