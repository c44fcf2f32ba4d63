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
// it, at the offset just after its first occurrence past the start; of
// several texts, the one that comes first wins.
func TestConsoleMatch(t *testing.T) {
	console := "[  OK  ] Started foo\r\nfirstboot: host data from seed\r\nhost_keys:\r\nfirstboot: done in 1.2 ms\r\n"
	texts := []string{"firstboot: done in", "\nhost_keys:", "firstboot: host data from"}
	for want, text := range texts {
		for cut1 := 0; cut1 <= len(console); cut1++ {
			for cut2 := cut1; cut2 <= len(console); cut2 += 7 {
				m := newConsoleMatch(0, texts[:want+1]...)
				got, end, found := 0, int64(0), false
				for _, piece := range []string{console[:cut1], console[cut1:cut2], console[cut2:]} {
					if got, end, found = m.feed([]byte(piece)); found {
						break
					}
				}
				wantEnd := int64(strings.Index(console, text) + len(text))
				if !found || got != want || end != wantEnd {
					t.Fatalf("texts %q, split at %d,%d: found=%v text %d at %d, want text %d at %d",
						texts[:want+1], cut1, cut2, found, got, end, want, wantEnd)
				}
			}
		}
	}
	if _, _, ok := newConsoleMatch(0, "not there").feed([]byte(console)); ok {
		t.Error("found text that is not on the console")
	}
}

// TestWaitConsole reads a real file the way it reads QEMU's console: from
// an offset, and until the deadline when the text never comes.
func TestWaitConsole(t *testing.T) {
	dir := t.TempDir()
	v := &VM{serial: filepath.Join(dir, "serial.log"), done: make(chan struct{})}
	const text = "Starting hardbake-firstboot.service"
	first := "boot 1: " + text + "\n"
	if err := os.WriteFile(v.serial, []byte(first+"boot 2: "+text+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, end, err := v.WaitConsole(ctx, 0, 0, text)
	if err != nil || end != int64(len(first)-1) {
		t.Fatalf("first: %d, %v; want %d", end, err, len(first)-1)
	}
	i, end, err := v.WaitConsole(ctx, end, 0, "never", text)
	if want := int64(len(first)*2 - 1); err != nil || i != 1 || end != want {
		t.Fatalf("from the first one on: text %d at %d, %v; want text 1 at %d", i, end, err, want)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, _, err := v.WaitConsole(short, end, 0, text); err == nil {
		t.Fatal("found a third occurrence")
	}
	close(v.done)
	if _, _, err := v.WaitConsole(ctx, 0, 0, "never"); err == nil || !strings.Contains(err.Error(), "qemu exited") {
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
