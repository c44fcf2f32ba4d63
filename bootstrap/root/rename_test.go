package root

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// TestRename: a file, a non-empty directory and a symlink (not its target)
// move inside the root; a read-only root refuses.
func TestRename(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc/ssh/key.d"), 0o700)
	os.WriteFile(filepath.Join(dir, "etc/ssh/key.d/x"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "etc/ssh/key"), []byte("k"), 0o600)
	os.Symlink("/etc/ssh/key", filepath.Join(dir, "etc/ssh/link"))
	// An absolute symlink in the path is resolved inside the root.
	os.Symlink("/etc", filepath.Join(dir, "conf"))
	r, err := Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	// from, to, and where from is on the host.
	for _, m := range [][3]string{
		{"/etc/ssh/key", "/etc/ssh/key.old", "etc/ssh/key"},
		{"/etc/ssh/key.d", "/etc/ssh/key.d.old", "etc/ssh/key.d"},
		{"/conf/ssh/link", "/etc/ssh/link.old", "etc/ssh/link"},
	} {
		if err := r.Rename(m[0], m[1]); err != nil {
			t.Fatalf("%s -> %s: %v", m[0], m[1], err)
		}
		if _, err := os.Lstat(filepath.Join(dir, m[2])); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", m[0], err)
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, "etc/ssh/key.old")); err != nil || string(data) != "k" {
		t.Errorf("key.old: %q %v", data, err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "etc/ssh/key.d.old/x")); err != nil || string(data) != "x" {
		t.Errorf("key.d.old/x: %q %v", data, err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "etc/ssh/link.old")); err != nil || target != "/etc/ssh/key" {
		t.Errorf("the link itself must move: %q %v", target, err)
	}
	if err := ReadOnly(fstest.MapFS{}).Rename("/a", "/b"); err != ErrReadOnly {
		t.Errorf("read-only root: %v", err)
	}
}
