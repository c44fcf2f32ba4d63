package root

import (
	"os"
	"path/filepath"
	"testing"
)

// WriteFile keeps an existing file's mode; WriteFileMode gives it the new
// one in the same rename. Both keep the owner.
func TestWriteFileMode(t *testing.T) {
	dir := t.TempDir()
	r, err := Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "f")
	for _, tc := range []struct {
		exact bool
		want  os.FileMode
	}{{false, 0o644}, {true, 0o600}} {
		if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		write := r.WriteFile
		if tc.exact {
			write = r.WriteFileMode
		}
		if err := write("/f", []byte("new\n"), 0o600, RootOwner); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(p)
		if fi.Mode().Perm() != tc.want || string(data) != "new\n" {
			t.Errorf("exact=%v: mode %04o content %q, want %04o \"new\\n\"", tc.exact, fi.Mode().Perm(), data, tc.want)
		}
	}
}
