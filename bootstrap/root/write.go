package root

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Owner is a numeric owner for files written into the root. Names are never
// resolved on the host: a chroot's /etc/passwd is not the host's.
type Owner struct{ UID, GID int }

// RootOwner is uid 0, gid 0.
var RootOwner = Owner{0, 0}

// WriteFile replaces p atomically: a temp file in the same directory, fsync,
// rename, fsync of the directory. An existing file keeps its mode and owner
// unless keep is false; new files get mode and owner. A final symlink is
// resolved inside the root, so /etc/foo -> /usr/share/foo is written to the target.
func (r *Root) WriteFile(p string, data []byte, mode fs.FileMode, owner Owner) error {
	if !r.Writable() {
		return ErrReadOnly
	}
	if done, err := r.writeIn(clean(p), data, mode, owner); done {
		return err
	}
	rp, err := r.Resolve(p)
	if err != nil {
		return err
	}
	host := r.HostPath(rp)
	if fi, err := os.Lstat(host); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("write %s: not a regular file", p)
		}
		mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			owner = Owner{int(st.Uid), int(st.Gid)}
		}
	}
	if err := writeAtomic(host, data, mode, owner); err != nil {
		return err
	}
	if r.DeferDirSync {
		return nil
	}
	return syncDir(filepath.Dir(host))
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

// writeAtomic writes a temp file beside host, fsyncs it and renames it
// over host. The caller makes the rename durable (syncDir or Sync).
func writeAtomic(host string, data []byte, mode fs.FileMode, owner Owner) (err error) {
	dir := filepath.Dir(host)
	f, err := os.CreateTemp(dir, "."+filepath.Base(host)+".hardbake-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err = f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err = f.Chown(owner.UID, owner.GID); err != nil {
		f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, host)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
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

// Remove deletes p (a file, symlink or empty directory); a missing file is not an error.
func (r *Root) Remove(p string) error {
	if !r.Writable() {
		return ErrReadOnly
	}
	rp, err := r.resolve(clean(p), false)
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
	if !r.Writable() {
		return ErrReadOnly
	}
	rp, err := r.resolve(clean(p), false)
	if err != nil {
		return err
	}
	if rp == "/" {
		return errors.New("refusing to remove the root")
	}
	return os.RemoveAll(r.HostPath(rp))
}
