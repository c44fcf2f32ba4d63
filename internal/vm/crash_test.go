package vm

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestConsoleMatch: the text is found wherever the console's reads split
// it, at the offset just after its first occurrence past the start.
func TestConsoleMatch(t *testing.T) {
	console := "[  OK  ] Started foo\r\nfirstboot: host data from seed\r\nfirstboot: host data from again\r\n"
	const text = "firstboot: host data from"
	want := int64(strings.Index(console, text) + len(text))
	for cut1 := 0; cut1 <= len(console); cut1++ {
		for cut2 := cut1; cut2 <= len(console); cut2 += 7 {
			m := consoleMatch{text: []byte(text)}
			var got int64
			found := false
			for _, piece := range []string{console[:cut1], console[cut1:cut2], console[cut2:]} {
				if end, ok := m.feed([]byte(piece)); ok {
					got, found = end, true
					break
				}
			}
			if !found || got != want {
				t.Fatalf("split at %d,%d: found=%v at %d, want %d", cut1, cut2, found, got, want)
			}
		}
	}
	m := consoleMatch{text: []byte("not there")}
	if _, ok := m.feed([]byte(console)); ok {
		t.Error("found text that is not on the console")
	}
}

// TestWaitConsole reads a real file the way it reads QEMU's console: from
// an offset, and until the deadline when the text never comes.
func TestWaitConsole(t *testing.T) {
	dir := t.TempDir()
	v := &VM{serial: filepath.Join(dir, "serial.log"), done: make(chan struct{})}
	first := "boot 1: Starting hardbake-firstboot.service\n"
	if err := os.WriteFile(v.serial, []byte(first+"boot 2: Starting hardbake-firstboot.service\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	end, err := v.WaitConsole(ctx, "Starting hardbake-firstboot.service", 0, 0)
	if err != nil || end != int64(len(first)-1) {
		t.Fatalf("first: %d, %v; want %d", end, err, len(first)-1)
	}
	end, err = v.WaitConsole(ctx, "Starting hardbake-firstboot.service", end, 0)
	if want := int64(len(first)*2 - 1); err != nil || end != want {
		t.Fatalf("from the first one on: %d, %v; want %d", end, err, want)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := v.WaitConsole(short, "Starting hardbake-firstboot.service", end, 0); err == nil {
		t.Fatal("found a third occurrence")
	}
	close(v.done)
	if _, err := v.WaitConsole(ctx, "never", 0, 0); err == nil || !strings.Contains(err.Error(), "qemu exited") {
		t.Fatalf("after QEMU's exit: %v", err)
	}
}

// TestInspectCrashed on a disk made by BuildDiskImage: the files and
// directory entries that are there, and no journal to replay on a clean
// file system.
func TestInspectCrashed(t *testing.T) {
	if _, err := lookSbin("debugfs"); err != nil {
		t.Fatal(err) // e2fsprogs: make deps installs it
	}
	root := t.TempDir()
	for path, content := range map[string]string{
		"etc/os-release":                     "ID=debian\n",
		"var/lib/hardbake/firstboot.done":    "{}\n",
		"etc/ssh/sshd_config.d/00-test.conf": "PermitRootLogin no\n",
	} {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "home"), 0o755); err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(t.TempDir(), "disk.raw")
	if err := BuildDiskImage(root, disk, 32); err != nil {
		t.Fatal(err)
	}
	c, err := InspectCrashed(disk, []string{"/var/lib/hardbake/firstboot.done", "/home/alice"},
		[]string{"/var/lib/hardbake", "/home", "/etc/sudoers.d"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Recovered {
		t.Errorf("a clean file system had its journal replayed:\n%s", c.Fsck)
	}
	if !c.Exists["/var/lib/hardbake/firstboot.done"] || c.Exists["/home/alice"] {
		t.Errorf("exists: %v", c.Exists)
	}
	if got := c.Dirs["/var/lib/hardbake"]; !slices.Equal(got, []string{"firstboot.done"}) {
		t.Errorf("/var/lib/hardbake holds %q", got)
	}
	if got := c.Dirs["/home"]; got == nil || len(got) != 0 {
		t.Errorf("/home (empty) holds %q", got)
	}
	if got := c.Dirs["/etc/sudoers.d"]; got != nil {
		t.Errorf("/etc/sudoers.d (missing) holds %q", got)
	}
	if _, err := os.Stat(disk + ".inspect"); err == nil {
		t.Error("the inspected copy was left behind")
	}
}
