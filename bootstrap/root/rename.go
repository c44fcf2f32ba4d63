package root

import (
	"io/fs"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// Rename moves oldp to newp inside the root (rename(2): atomic, and newp is
// replaced when it exists). The final components are not followed: a
// symlink is moved, not its target. The directories are fsynced, so a
// power cut after Rename returns keeps the move.
func (r *Root) Rename(oldp, newp string) error {
	if !r.Writable() {
		return ErrReadOnly
	}
	ro, err := r.resolve(clean(oldp), false)
	if err != nil {
		return err
	}
	rn, err := r.resolve(clean(newp), false)
	if err != nil {
		return err
	}
	if err := os.Rename(r.HostPath(ro), r.HostPath(rn)); err != nil {
		return err
	}
	dirs := []string{path.Dir(ro)}
	if d := path.Dir(rn); d != dirs[0] {
		dirs = append(dirs, d)
	}
	for _, dir := range dirs {
		dfd, err := openDir(r.HostPath(dir))
		if err != nil {
			return err
		}
		err = unix.Fsync(dfd)
		unix.Close(dfd)
		if err != nil && err != unix.EINVAL {
			return &fs.PathError{Op: "sync", Path: r.HostPath(dir), Err: err}
		}
	}
	return nil
}
