package root

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// trickyTree is a root whose paths exercise every resolution rule: absolute
// and relative symlinks, ".." at the top, links to directories, dangling
// links, a loop, a file used as a directory, special mode bits.
func trickyTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"etc/ssh/sshd_config.d", "usr/share/zoneinfo", "usr/lib/os", "var/tmp", "home/alice/.ssh"} {
		must(os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	files := map[string]string{
		"etc/ssh/sshd_config":              "Include /etc/ssh/sshd_config.d/*.conf\n",
		"etc/ssh/sshd_config.d/00-a.conf":  "PasswordAuthentication no\n",
		"usr/share/zoneinfo/UTC":           "TZif",
		"usr/lib/os/os-release":            "ID=inside\n",
		"home/alice/.ssh/authorized_keys":  "ssh-ed25519 AAAA\n",
		"etc/big":                          string(make([]byte, 70000)),
		"etc/empty":                        "",
		"usr/lib/os/sub-of-file-is-a-file": "x",
	}
	for name, data := range files {
		must(os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	must(syscall.Chmod(filepath.Join(dir, "var/tmp"), 0o1777))
	must(syscall.Chmod(filepath.Join(dir, "usr/share/zoneinfo/UTC"), 0o4755))
	links := map[string]string{
		"etc/localtime":        "/usr/share/zoneinfo/UTC",
		"etc/os-release":       "../usr/lib/os/os-release",
		"etc/abs-os-release":   "/usr/lib/os/os-release",
		"etc/escape":           "../../../../../../../../etc/passwd",
		"etc/escape-abs":       "/../../../etc/hostname",
		"etc/dangling":         "/nonexistent/file",
		"etc/loop-a":           "/etc/loop-b",
		"etc/loop-b":           "/etc/loop-a",
		"etc/sshdir":           "/etc/ssh",
		"etc/ssh-rel":          "ssh/sshd_config.d",
		"lib":                  "usr/lib",
		"home/alice/.ssh/link": "/etc/ssh/sshd_config",
	}
	for name, target := range links {
		must(os.Symlink(target, filepath.Join(dir, name)))
	}
	return dir
}

var trickyPaths = []string{
	"/", "/etc", "/etc/ssh/sshd_config", "/etc/localtime", "/etc/os-release", "/etc/abs-os-release",
	"/etc/escape", "/etc/escape-abs", "/etc/dangling", "/etc/loop-a", "/etc/sshdir/sshd_config",
	"/etc/sshdir/sshd_config.d/00-a.conf", "/etc/ssh-rel/00-a.conf", "/lib/os/os-release", "/lib/../etc/big",
	"/../../etc/empty", "/etc/big", "/etc/empty", "/var/tmp", "/usr/share/zoneinfo/UTC",
	"/usr/lib/os/sub-of-file-is-a-file/x", "/missing", "/missing/deeper", "/home/alice/.ssh/link",
	"/etc/sshdir", "/lib", "/etc/./ssh//sshd_config",
}

// TestInRootMatchesWalk: the openat2 reads give what the component walk
// gives, path by path: the same bytes, the same file (inode, mode, size,
// name) for Stat and Lstat, the same directory listing, the same kind of
// error.
func TestInRootMatchesWalk(t *testing.T) {
	dir := trickyTree(t)
	fast, err := Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fast.rootFD() < 0 {
		t.Skip("openat2 is not available here")
	}
	walk := &Root{Dir: fast.Dir} // no inRoot: always the walk
	errKind := func(err error) string {
		switch {
		case err == nil:
			return "ok"
		case errors.Is(err, fs.ErrNotExist):
			return "not exist"
		case errors.Is(err, syscall.ENOTDIR):
			return "not a directory"
		case errors.Is(err, syscall.EISDIR):
			return "is a directory"
		default:
			return "other error"
		}
	}
	sameInfo := func(t *testing.T, what string, a, b fs.FileInfo, ea, eb error) {
		t.Helper()
		if errKind(ea) != errKind(eb) {
			t.Fatalf("%s: openat2 %v, walk %v", what, ea, eb)
		}
		if ea != nil {
			return
		}
		sa, sb := a.Sys().(*syscall.Stat_t), b.Sys().(*syscall.Stat_t)
		if sa.Ino != sb.Ino || a.Mode() != b.Mode() || a.Size() != b.Size() || a.Name() != b.Name() ||
			a.IsDir() != b.IsDir() || !a.ModTime().Equal(b.ModTime()) {
			t.Fatalf("%s: openat2 %s %v %d ino %d, walk %s %v %d ino %d", what,
				a.Name(), a.Mode(), a.Size(), sa.Ino, b.Name(), b.Mode(), b.Size(), sb.Ino)
		}
	}
	for _, p := range trickyPaths {
		t.Run(p, func(t *testing.T) {
			da, ea := fast.ReadFile(p)
			db, eb := walk.ReadFile(p)
			if errKind(ea) != errKind(eb) || string(da) != string(db) {
				// A directory: the walk's os.ReadFile and the fast read
				// both fail with EISDIR.
				t.Fatalf("ReadFile: openat2 %d bytes %v, walk %d bytes %v", len(da), ea, len(db), eb)
			}
			fa, ea := fast.Stat(p)
			fb, eb := walk.Stat(p)
			sameInfo(t, "Stat", fa, fb, ea, eb)
			rda, ria, ea := fast.ReadFileInfo(p)
			rdb, rib, eb := walk.ReadFileInfo(p)
			if string(rda) != string(rdb) {
				t.Fatalf("ReadFileInfo: %d bytes, walk %d", len(rda), len(rdb))
			}
			sameInfo(t, "ReadFileInfo", ria, rib, ea, eb)
			la, ea := fast.Lstat(p)
			lb, eb := walk.Lstat(p)
			sameInfo(t, "Lstat", la, lb, ea, eb)
			if fast.Exists(p) != walk.Exists(p) {
				t.Fatal("Exists differs")
			}
			ra, ea := fast.ReadDir(p)
			rb, eb := walk.ReadDir(p)
			names := func(es []fs.DirEntry) (out []string) {
				for _, e := range es {
					out = append(out, e.Name()+":"+e.Type().String())
				}
				return out
			}
			if errKind(ea) != errKind(eb) || !slices.Equal(names(ra), names(rb)) {
				t.Fatalf("ReadDir: openat2 %v %v, walk %v %v", names(ra), ea, names(rb), eb)
			}
			oa, ea := fast.Open(p)
			ob, eb := walk.Open(p)
			if errKind(ea) != errKind(eb) {
				t.Fatalf("Open: openat2 %v, walk %v", ea, eb)
			}
			if ea == nil {
				ia, _ := oa.Stat()
				ib, _ := ob.Stat()
				if ia.Sys().(*syscall.Stat_t).Ino != ib.Sys().(*syscall.Stat_t).Ino {
					t.Fatal("Open: different files")
				}
				if !ia.IsDir() {
					ba, _ := io.ReadAll(oa)
					bb, _ := io.ReadAll(ob)
					if string(ba) != string(bb) {
						t.Fatal("Open: different contents")
					}
				}
				oa.Close()
				ob.Close()
			}
		})
	}
	// Globs go through ReadDir and Lstat.
	for _, g := range []string{"/etc/ssh/sshd_config.d/*.conf", "/etc/sshdir/sshd_config.d/*", "/lib/os/*", "/etc/*/sshd_config"} {
		a, _ := fast.Glob(g)
		b, _ := walk.Glob(g)
		if !slices.Equal(a, b) || len(a) == 0 {
			t.Fatalf("Glob %s: openat2 %v, walk %v", g, a, b)
		}
	}
}

// TestInRootStaysInRoot: the kernel's resolution keeps absolute links and
// ".." inside the root (a plain openat would read the host's files), and a
// file read in pieces comes back whole.
func TestInRootStaysInRoot(t *testing.T) {
	dir := trickyTree(t)
	r, _ := Dir(dir)
	if r.rootFD() < 0 {
		t.Skip("openat2 is not available here")
	}
	if data, err := r.ReadFile("/etc/abs-os-release"); err != nil || string(data) != "ID=inside\n" {
		t.Fatalf("absolute link: %q %v", data, err)
	}
	for _, p := range []string{"/etc/escape", "/etc/escape-abs", "/../../../../etc/passwd"} {
		if data, err := r.ReadFile(p); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s escaped the root: %q %v", p, data, err)
		}
	}
	if data, err := r.ReadFile("/etc/big"); err != nil || len(data) != 70000 {
		t.Fatalf("big file: %d bytes, %v", len(data), err)
	}
	fi, err := r.Lstat("/etc/localtime")
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 || fi.Name() != "localtime" {
		t.Fatalf("Lstat of a link: %v %v", fi, err)
	}
	if fi, err := r.Stat("/var/tmp"); err != nil || fi.Mode() != fs.ModeDir|fs.ModeSticky|0o777 {
		t.Fatalf("sticky dir mode: %v %v", fi.Mode(), err)
	}
}

// TestInRootFallsBack: a root without openat2 (refused by the kernel or a
// filter) reads the same through the walk.
func TestInRootFallsBack(t *testing.T) {
	dir := trickyTree(t)
	r, _ := Dir(dir)
	openat2Refused.Store(true)
	defer openat2Refused.Store(false)
	if r.rootFD() != -1 {
		t.Fatal("openat2 still used")
	}
	if data, err := r.ReadFile("/etc/abs-os-release"); err != nil || string(data) != "ID=inside\n" {
		t.Fatalf("walk: %q %v", data, err)
	}
}

// treeState describes every entry under dir: kind, mode, owner, content or
// link target; the temp files of an unfinished write would show too.
func treeState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, _ := os.Lstat(p)
		st := fi.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc += " -> " + target
		case fi.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			desc += " " + string(data)
		}
		out[rel] = desc
		return nil
	})
	return out
}

// TestWriteInMatchesWalk: WriteFile through the parent's descriptor leaves
// the same tree as the component walk: new and existing files (mode and
// owner kept), through linked parent directories, through a final link to
// its target, refused on a directory or a missing parent, no temp files.
func TestWriteInMatchesWalk(t *testing.T) {
	for _, p := range []string{
		"/etc/new", "/etc/big", "/etc/sshdir/sshd_config", "/etc/ssh-rel/00-a.conf", "/lib/os/os-release",
		"/etc/localtime", "/etc/os-release", "/etc/escape", "/etc/dangling", "/var/tmp", "/missing/file",
		"/etc/escape-abs", "/../../etc/new2", "/usr/lib/os/sub-of-file-is-a-file/x", "/etc/loop-a",
	} {
		t.Run(p, func(t *testing.T) {
			a, b := trickyTree(t), trickyTree(t)
			if os.Geteuid() == 0 {
				os.Chown(filepath.Join(a, "etc/big"), 1234, 5678)
				os.Chown(filepath.Join(b, "etc/big"), 1234, 5678)
			}
			fast, _ := Dir(a)
			if fast.rootFD() < 0 {
				t.Skip("openat2 is not available here")
			}
			walk := &Root{Dir: b}
			ea := fast.WriteFile(p, []byte("written\n"), 0o640, Owner{0, 0})
			eb := walk.WriteFile(p, []byte("written\n"), 0o640, Owner{0, 0})
			if (ea == nil) != (eb == nil) {
				t.Fatalf("openat2: %v, walk: %v", ea, eb)
			}
			sa, sb := treeState(t, a), treeState(t, b)
			for k, v := range sb {
				if sa[k] != v {
					t.Errorf("%s: openat2 %q, walk %q", k, sa[k], v)
				}
			}
			for k, v := range sa {
				if _, ok := sb[k]; !ok {
					t.Errorf("%s: only after openat2: %q", k, v)
				}
			}
		})
	}
}
