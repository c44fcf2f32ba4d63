package root

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Owner is a numeric owner for files written into the root. Names are never
// resolved on the host: a chroot's /etc/passwd is not the host's.
type Owner struct{ UID, GID int }

// RootOwner is uid 0, gid 0.
var RootOwner = Owner{0, 0}

// WriteFile replaces p atomically: a temp file in the same directory, fsync,
// rename, fsync of the directory. An existing file keeps its mode and owner;
// new files get mode and owner. A final symlink is
// resolved inside the root, so /etc/foo -> /usr/share/foo is written to the target.
func (r *Root) WriteFile(p string, data []byte, mode fs.FileMode, owner Owner) error {
	return r.writeFile(p, data, mode, owner, false)
}

// WriteFileMode is WriteFile where an existing file also takes mode (its
// owner is kept): content and mode change in the one rename, so no moment
// shows the new content with the old mode.
func (r *Root) WriteFileMode(p string, data []byte, mode fs.FileMode, owner Owner) error {
	return r.writeFile(p, data, mode, owner, true)
}

func (r *Root) writeFile(p string, data []byte, mode fs.FileMode, owner Owner, exactMode bool) error {
	if !r.Writable() {
		return ErrReadOnly
	}
	if done, err := r.writeIn(clean(p), data, mode, owner, exactMode); done {
		return err
	}
	rp, err := r.Resolve(p)
	if err != nil {
		return err
	}
	dir, name := path.Split(rp)
	dfd, err := openDir(r.HostPath(dir))
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	err = r.replaceAt(dfd, p, dir, name, data, mode, owner, exactMode)
	if err == errFinalLink {
		return fmt.Errorf("write %s: not a regular file", p)
	}
	return err
}

// errFinalLink: the name to replace is a symlink (replaceAt writes no file).
var errFinalLink = errors.New("final symlink")

// replaceAt replaces name in the directory dfd (in-root dir) with data, as
// WriteFile does: an existing regular file keeps its mode (unless exactMode)
// and owner, a symlink is errFinalLink, anything else is refused. p names the
// file in errors.
func (r *Root) replaceAt(dfd int, p, dir, name string, data []byte, mode fs.FileMode, owner Owner, exactMode bool) error {
	var st unix.Stat_t
	switch err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return errFinalLink
	case err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG:
		return fmt.Errorf("write %s: not a regular file", p)
	case err == nil:
		if !exactMode {
			mode = fs.FileMode(st.Mode & 0o777)
		}
		owner = Owner{int(st.Uid), int(st.Gid)}
	case err != unix.ENOENT:
		return &fs.PathError{Op: "stat", Path: r.HostPath(path.Join(dir, name)), Err: err}
	}
	return writeAt(dfd, r.HostPath(dir), name, data, mode, owner)
}

// Sync flushes the root's file system (syncfs(2)): everything written so
// far, by hardbake or by the tools it ran, is on disk when it returns.
func (r *Root) Sync() error {
	if !r.Writable() {
		return ErrReadOnly
	}
	f, err := os.Open(r.HostPath("/"))
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

// writeAtomic writes data to host (with mode and owner, as they are given)
// through a temp file beside it, fsynced and renamed over it, then fsyncs
// the directory.
func writeAtomic(host string, data []byte, mode fs.FileMode, owner Owner) error {
	dir, name := filepath.Split(host)
	dfd, err := openDir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return writeAt(dfd, dir, name, data, mode, owner)
}

func openDir(dir string) (int, error) {
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	return dfd, nil
}

// writeAt writes name in the directory dfd (hostDir names it in errors):
// a temp file ".<name>.hardbake-<random>" gets data, mode and owner and is
// fsynced, then renamed over name, and the directory is fsynced: a power
// cut leaves the old file or the new one, never an empty one.
func writeAt(dfd int, hostDir, name string, data []byte, mode fs.FileMode, owner Owner) error {
	removeStaleTemps(dfd, name)
	tmp, fd, err := createTempAt(dfd, name)
	if err != nil {
		return &fs.PathError{Op: "open", Path: filepath.Join(hostDir, tmp), Err: err}
	}
	fail := func(op string, err error) error {
		unix.Close(fd)
		unix.Unlinkat(dfd, tmp, 0)
		return &fs.PathError{Op: op, Path: filepath.Join(hostDir, tmp), Err: err}
	}
	for b := data; len(b) > 0; {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fail("write", err)
		}
		b = b[n:]
	}
	if err := unix.Fchmod(fd, sysMode(mode)); err != nil {
		return fail("chmod", err)
	}
	if err := unix.Fchown(fd, owner.UID, owner.GID); err != nil {
		return fail("chown", err)
	}
	if err := unix.Fsync(fd); err != nil {
		return fail("sync", err)
	}
	if err := unix.Close(fd); err != nil {
		unix.Unlinkat(dfd, tmp, 0)
		return &fs.PathError{Op: "close", Path: filepath.Join(hostDir, tmp), Err: err}
	}
	if err := unix.Renameat(dfd, tmp, dfd, name); err != nil {
		unix.Unlinkat(dfd, tmp, 0)
		return &os.LinkError{Op: "rename", Old: filepath.Join(hostDir, tmp), New: filepath.Join(hostDir, name), Err: err}
	}
	if err := unix.Fsync(dfd); err != nil && err != unix.EINVAL {
		return &fs.PathError{Op: "sync", Path: hostDir, Err: err}
	}
	return nil
}

// sysMode is mode as chmod(2) takes it (os.Chmod's conversion).
func sysMode(mode fs.FileMode) uint32 {
	m := uint32(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		m |= unix.S_ISUID
	}
	if mode&fs.ModeSetgid != 0 {
		m |= unix.S_ISGID
	}
	if mode&fs.ModeSticky != 0 {
		m |= unix.S_ISVTX
	}
	return m
}

// removeStaleTemps deletes the temp files createTempAt made for name in dfd
// that are still there: a run killed (SIGKILL, a power cut) between creating
// one and renaming it leaves it behind, and nothing else would ever remove
// it. Nothing else makes such names, and the write about to happen replaces
// what they were going to become. (Two runs writing the same file at the
// same moment are not supported anyway: the last rename would win.)
func removeStaleTemps(dfd int, name string) {
	d, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	dir := os.NewFile(uintptr(d), ".")
	defer dir.Close()
	names, _ := dir.Readdirnames(-1)
	for _, n := range names {
		if isTempFor(n, name) {
			unix.Unlinkat(dfd, n, 0)
		}
	}
}

// isTempFor reports whether n is a name createTempAt makes for name:
// ".<name>.hardbake-<digits>".
func isTempFor(n, name string) bool {
	rest, ok := strings.CutPrefix(n, "."+name+".hardbake-")
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// createTempAt creates ".<name>.hardbake-<random>" in dfd (mode 0600).
func createTempAt(dfd int, name string) (string, int, error) {
	for try := 0; ; try++ {
		tmp := "." + name + ".hardbake-" + strconv.FormatUint(uint64(rand.Uint32()), 10)
		fd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
		if err == unix.EEXIST && try < 100 {
			continue
		}
		return tmp, fd, err
	}
}

// MkdirAll creates p and missing parents (parents get 0755 root:root, p gets
// mode and owner). Existing directories are left as they are.
func (r *Root) MkdirAll(p string, mode fs.FileMode, owner Owner) error {
	if !r.Writable() {
		return ErrReadOnly
	}
	p = clean(p)
	if p == "/" {
		return nil
	}
	if fi, err := r.Stat(p); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("mkdir %s: exists and is not a directory", p)
		}
		return nil
	}
	if err := r.MkdirAll(path.Dir(p), 0o755, RootOwner); err != nil {
		return err
	}
	parent, err := r.Resolve(path.Dir(p))
	if err != nil {
		return err
	}
	host := r.HostPath(path.Join(parent, path.Base(p)))
	if err := os.Mkdir(host, mode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := os.Chmod(host, mode); err != nil {
		return err
	}
	return os.Lchown(host, owner.UID, owner.GID)
}

// removable resolves p for removal: the link itself when p is one, never
// what it points to; a read-only root removes nothing.
func (r *Root) removable(p string) (string, error) {
	if !r.Writable() {
		return "", ErrReadOnly
	}
	return r.resolve(clean(p), false)
}

// Remove deletes p (a file, symlink or empty directory); a missing file is not an error.
func (r *Root) Remove(p string) error {
	rp, err := r.removable(p)
	if err != nil {
		return err
	}
	if err := os.Remove(r.HostPath(rp)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// RemoveAll deletes p and everything below it without following symlinks.
func (r *Root) RemoveAll(p string) error {
	rp, err := r.removable(p)
	if err != nil {
		return err
	}
	if rp == "/" {
		return errors.New("refusing to remove the root")
	}
	return os.RemoveAll(r.HostPath(rp))
}

// WriteAt replaces name in the open directory dirFD (dir names it in
// errors) the way WriteFile does, with mode and owner as given: for callers
// that reached the directory without following links themselves (a user's
// ~/.ssh), where a path through the root could be redirected.
func WriteAt(dirFD int, dir, name string, data []byte, mode fs.FileMode, owner Owner) error {
	return writeAt(dirFD, dir, name, data, mode, owner)
}

// Chmod sets the permission bits of p (a final symlink is resolved inside
// the root, as WriteFile does): for files whose content is right but whose
// mode is not, which WriteFile keeps.
func (r *Root) Chmod(p string, mode fs.FileMode) error {
	if !r.Writable() {
		return ErrReadOnly
	}
	rp, err := r.Resolve(p)
	if err != nil {
		return err
	}
	return os.Chmod(r.HostPath(rp), mode)
}
