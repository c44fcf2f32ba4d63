package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWithSystemUnmounts: /proc, /sys, /dev and resolv.conf are there during
// fn, and nothing stays mounted or created afterwards, also when fn fails.
func TestWithSystemUnmounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	for _, link := range []bool{false, true} {
		dir := t.TempDir()
		for _, d := range []string{"proc", "sys", "dev", "etc"} {
			os.Mkdir(filepath.Join(dir, d), 0o755)
		}
		if link {
			// Debian 13 with systemd-resolved: a link into an empty /run.
			os.Symlink("../run/systemd/resolve/stub-resolv.conf", filepath.Join(dir, "etc/resolv.conf"))
		}
		e := Exec{Chroot: dir}
		boom := errors.New("boom")
		err := e.WithSystem(context.Background(), func() error {
			for _, p := range []string{"proc/self/status", "sys/kernel", "dev/null"} {
				if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
					t.Errorf("during: %v", err)
				}
			}
			// The host's namespace (the process's main thread) sees none of
			// them: a kill now leaves nothing mounted there.
			if host, err := os.ReadFile("/proc/self/mountinfo"); err != nil || strings.Contains(string(host), dir) {
				t.Errorf("the session's mounts are visible outside it (%v)", err)
			}
			if _, err := os.ReadFile(filepath.Join(dir, "etc/resolv.conf")); err != nil && link {
				t.Errorf("resolv.conf through the link: %v", err)
			}
			// Nesting uses the existing mounts.
			if err := e.WithSystem(context.Background(), func() error { return nil }); err != nil {
				t.Error(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "proc/self")); err != nil {
				t.Errorf("nested call unmounted the outer mounts")
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v", err)
		}
		if m, _ := MountsUnder(dir); len(m) > 0 {
			t.Fatalf("left mounted: %v", m)
		}
		if link {
			if _, err := os.Lstat(filepath.Join(dir, "run")); err == nil {
				t.Error("created /run left behind")
			}
		} else if _, err := os.Lstat(filepath.Join(dir, "etc/resolv.conf")); err == nil {
			t.Error("created resolv.conf left behind")
		}
	}
}
