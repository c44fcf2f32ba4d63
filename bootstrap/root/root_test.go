package root

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"testing/fstest"
)

func newRoot(t *testing.T) (*Root, string) {
	dir := t.TempDir()
	r, err := Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r, dir
}

func TestAbsoluteSymlinkStaysInRoot(t *testing.T) {
	r, dir := newRoot(t)
	os.MkdirAll(filepath.Join(dir, "usr/share"), 0o755)
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "usr/share/os-release"), []byte("ID=inside\n"), 0o644)
	// On the host this link would point at the host's file.
	os.Symlink("/usr/share/os-release", filepath.Join(dir, "etc/os-release"))
	data, err := r.ReadFile("/etc/os-release")
	if err != nil || string(data) != "ID=inside\n" {
		t.Fatalf("got %q, %v", data, err)
	}
	// ".." cannot climb out of the root.
	os.Symlink("../../../../../../etc/passwd", filepath.Join(dir, "etc/escape"))
	if _, err := r.ReadFile("/etc/escape"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("escaped the root: %v", err)
	}
	if got := r.HostPath("/../../etc/shadow"); got != filepath.Join(dir, "etc/shadow") {
		t.Fatalf("HostPath escaped: %s", got)
	}
}

// TestOpenFollowsSymlinksInRoot: Open resolves like ReadFile, on a
// directory root and on a read-only file system.
func TestOpenFollowsSymlinksInRoot(t *testing.T) {
	r, dir := newRoot(t)
	os.MkdirAll(filepath.Join(dir, "usr/sbin"), 0o755)
	os.WriteFile(filepath.Join(dir, "usr/sbin/sshd.real"), []byte("inside"), 0o755)
	os.Symlink("/usr/sbin/sshd.real", filepath.Join(dir, "usr/sbin/sshd"))
	os.Symlink("../../../../../../etc/passwd", filepath.Join(dir, "escape"))
	ro := ReadOnly(fstest.MapFS{"usr/sbin/sshd": {Data: []byte("inside")}})
	for _, r := range []*Root{r, ro} {
		f, err := r.Open("/usr/sbin/sshd")
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil || string(data) != "inside" {
			t.Fatalf("%s: %q %v", r, data, err)
		}
	}
	if _, err := r.Open("/escape"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("escaped the root: %v", err)
	}
}

func TestSymlinkLoop(t *testing.T) {
	r, dir := newRoot(t)
	os.Symlink("/b", filepath.Join(dir, "a"))
	os.Symlink("/a", filepath.Join(dir, "b"))
	if _, err := r.ReadFile("/a"); err == nil {
		t.Fatal("loop not detected")
	}
}

func TestWriteFileKeepsModeAndOwner(t *testing.T) {
	r, dir := newRoot(t)
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("old"), 0o640)
	os.Chown(p, 1234, 5678)
	if err := r.WriteFile("/f", []byte("new"), 0o644, RootOwner); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o640 || (os.Geteuid() == 0 && (st.Uid != 1234 || st.Gid != 5678)) {
		t.Fatalf("mode %v owner %d:%d", fi.Mode(), st.Uid, st.Gid)
	}
	if data, _ := os.ReadFile(p); string(data) != "new" {
		t.Fatalf("content %q", data)
	}
	// No temp files left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
	// New file: given mode.
	if err := r.WriteFile("/g", []byte("x"), 0o600, RootOwner); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "g")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("new file mode %v", fi.Mode())
	}
}

func TestWriteThroughSymlinkWritesTarget(t *testing.T) {
	r, dir := newRoot(t)
	os.MkdirAll(filepath.Join(dir, "real"), 0o755)
	os.WriteFile(filepath.Join(dir, "real/f"), []byte("a"), 0o644)
	os.Symlink("/real/f", filepath.Join(dir, "link"))
	if err := r.WriteFile("/link", []byte("b"), 0o644, RootOwner); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(filepath.Join(dir, "link")); fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("symlink replaced by a file")
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "real/f")); string(data) != "b" {
		t.Fatalf("target %q", data)
	}
}

func TestSnapshotRestore(t *testing.T) {
	r, dir := newRoot(t)
	os.WriteFile(filepath.Join(dir, "a"), []byte("A"), 0o600)
	s := r.Snapshot()
	s.Save("/a")
	s.Save("/b")
	r.WriteFile("/a", []byte("changed"), 0o644, RootOwner)
	r.WriteFile("/b", []byte("new"), 0o644, RootOwner)
	if err := s.Restore(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "a")); string(data) != "A" {
		t.Fatalf("a = %q", data)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "a")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("a mode %v", fi.Mode())
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("b not removed")
	}
}

func TestGlobSorted(t *testing.T) {
	r, dir := newRoot(t)
	os.MkdirAll(filepath.Join(dir, "etc/ssh/sshd_config.d"), 0o755)
	for _, n := range []string{"60-b.conf", "50-cloud-init.conf", "00-hardbake.conf", "x.txt"} {
		os.WriteFile(filepath.Join(dir, "etc/ssh/sshd_config.d", n), nil, 0o644)
	}
	got, err := r.Glob("/etc/ssh/sshd_config.d/*.conf")
	want := []string{"/etc/ssh/sshd_config.d/00-hardbake.conf", "/etc/ssh/sshd_config.d/50-cloud-init.conf", "/etc/ssh/sshd_config.d/60-b.conf"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v %v", got, err)
	}
	if got, _ := r.Glob("/nope/*.conf"); len(got) != 0 {
		t.Fatalf("got %v", got)
	}
}

func TestReadOnlyFS(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/os-release":     {Data: []byte("ID=debian\n")},
		"usr/lib/os-release": {Data: []byte("ID=x\n")},
		"etc/ssh/a.conf":     {Data: []byte("a")},
	}
	r := ReadOnly(fsys)
	if data, err := r.ReadFile("/etc/os-release"); err != nil || string(data) != "ID=debian\n" {
		t.Fatalf("%q %v", data, err)
	}
	if got, _ := r.Glob("/etc/ssh/*.conf"); len(got) != 1 || got[0] != "/etc/ssh/a.conf" {
		t.Fatalf("glob %v", got)
	}
	if err := r.WriteFile("/x", nil, 0o644, RootOwner); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("write on read-only: %v", err)
	}
	if r.IsLive() || r.Writable() {
		t.Fatal("read-only root claims to be live or writable")
	}
}

func TestMkdirAllModeOwner(t *testing.T) {
	r, dir := newRoot(t)
	if err := r.MkdirAll("/home/alice/.ssh", 0o700, Owner{1000, 1000}); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "home/alice/.ssh"))
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if os.Geteuid() == 0 && fi.Sys().(*syscall.Stat_t).Uid != 1000 {
		t.Fatal("owner not set")
	}
}

// TestWriteAndSync: WriteFile replaces a file atomically, keeping its mode,
// and leaves no temp file; Sync flushes, and refuses on a read-only root.
func TestWriteAndSync(t *testing.T) {
	r, dir := newRoot(t)
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc/hosts"), []byte("old\n"), 0o640)
	if err := r.WriteFile("/etc/hosts", []byte("new\n"), 0o644, RootOwner); err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "etc/hosts"))
	fi, _ := os.Stat(filepath.Join(dir, "etc/hosts"))
	if string(data) != "new\n" || fi.Mode().Perm() != 0o640 {
		t.Fatalf("%q %v", data, fi.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "etc/.hosts.hardbake-*")); len(left) > 0 {
		t.Fatalf("temp files left: %v", left)
	}
	if err := ReadOnly(fstest.MapFS{}).Sync(); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Sync on a read-only root: %v", err)
	}
}
