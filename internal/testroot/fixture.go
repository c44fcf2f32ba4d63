package testroot

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/root"
)

// Small roots for unit tests, beside the real Debian ones: a few files
// written from a map, or a private copy of a fixture tree, opened the way
// hardbake opens --root.

// Files writes files (paths relative to the root, their contents; mode
// 0644) into a new temporary directory and returns it.
func Files(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Copy copies the tree src (owners, modes and links kept: cp -a) into a new
// temporary directory and returns it, so a test may change its copy.
func Copy(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	if out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s: %v %s", src, err, out)
	}
	return dst
}

// Open opens dir as a writable root and detects its distribution.
func Open(t testing.TB, dir string) (*root.Root, distro.Info) {
	t.Helper()
	r, err := root.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := distro.Detect(r)
	if err != nil {
		t.Fatal(err)
	}
	return r, d
}
