// Package root gives every hardening step one view of "the system": the live
// machine (/), a mounted image or chroot (--root DIR), or a read-only fs.FS such
// as an offline disk image. Steps never touch the host filesystem directly, so the
// same code bakes a live server, a chroot and audits an image (Ignition's DestDir).
package root

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// ErrReadOnly is returned by every write on a read-only root.
var ErrReadOnly = errors.New("root is read-only")

// maxSymlinks bounds symlink resolution the way the kernel's ELOOP limit does.
const maxSymlinks = 40

// Root is a filesystem tree addressed by absolute in-root paths ("/etc/ssh/sshd_config").
// Either Dir is set (a directory on this host, "/" for the live system) or FS is
// set (a read-only tree whose names are io/fs paths: "etc/ssh/sshd_config").
type Root struct {
	Dir string
	FS  fs.FS

	in *inRoot // openat2 reads (inroot.go); nil: always walk
}

// Dir returns a writable root at dir ("/" for the live system).
func Dir(dir string) (*Root, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("root %s: not a directory", dir)
	}
	return &Root{Dir: abs, in: &inRoot{}}, nil
}

// ReadOnly returns a root served from fsys, e.g. a filesystem inside a disk image.
func ReadOnly(fsys fs.FS) *Root { return &Root{FS: fsys} }

// IsLive reports whether the root is the running system.
func (r *Root) IsLive() bool { return r.FS == nil && r.Dir == "/" }

// Writable reports whether writes are possible.
func (r *Root) Writable() bool { return r.FS == nil }

// String names the root for messages.
func (r *Root) String() string {
	if r.FS != nil {
		return "image"
	}
	return r.Dir
}

// clean turns any in-root path into a canonical absolute one that cannot
// escape the root with "..".
func clean(p string) string {
	return path.Clean("/" + p)
}

// HostPath maps an in-root path to a host path without resolving symlinks.
// It is for handing paths to tools that run outside the root (e.g. sshd -f
// under chroot gets the in-root path instead). Read-only roots have none.
func (r *Root) HostPath(p string) string {
	if r.FS != nil {
		return ""
	}
	return filepath.Join(r.Dir, filepath.FromSlash(clean(p)))
}

// Resolve follows symlinks inside the root, so an absolute link target such
// as /run/foo means <root>/run/foo rather than the host's /run/foo. The
// final component is resolved too.
func (r *Root) Resolve(p string) (string, error) {
	return r.resolve(clean(p), true)
}

func (r *Root) resolve(p string, followLast bool) (string, error) {
	links := 0
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := "/"
	for i := 0; i < len(parts); i++ {
		part := parts[i]
		if part == "" || part == "." {
			continue
		}
		if part == ".." {
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, part)
		last := i == len(parts)-1
		if last && !followLast {
			cur = next
			continue
		}
		fi, err := r.lstatRaw(next)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				// The rest does not exist: nothing more to resolve.
				return path.Join(append([]string{next}, parts[i+1:]...)...), nil
			}
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		links++
		if links > maxSymlinks {
			return "", &fs.PathError{Op: "resolve", Path: p, Err: errors.New("too many levels of symbolic links")}
		}
		target, err := r.readlinkRaw(next)
		if err != nil {
			return "", err
		}
		rest := parts[i+1:]
		if strings.HasPrefix(target, "/") {
			cur = "/"
		}
		parts = append(strings.Split(strings.TrimPrefix(target, "/"), "/"), rest...)
		i = -1
	}
	return cur, nil
}

func (r *Root) fsName(p string) string {
	n := strings.TrimPrefix(clean(p), "/")
	if n == "" {
		return "."
	}
	return n
}

func (r *Root) lstatRaw(p string) (fs.FileInfo, error) {
	if r.FS != nil {
		if rlfs, ok := r.FS.(fs.ReadLinkFS); ok {
			return rlfs.Lstat(r.fsName(p))
		}
		return fs.Stat(r.FS, r.fsName(p))
	}
	return os.Lstat(r.HostPath(p))
}

func (r *Root) readlinkRaw(p string) (string, error) {
	if r.FS != nil {
		if rlfs, ok := r.FS.(fs.ReadLinkFS); ok {
			return rlfs.ReadLink(r.fsName(p))
		}
		return "", &fs.PathError{Op: "readlink", Path: p, Err: errors.ErrUnsupported}
	}
	return os.Readlink(r.HostPath(p))
}

// ReadFile reads an in-root file, following symlinks inside the root.
func (r *Root) ReadFile(p string) ([]byte, error) {
	if data, _, ok, err := r.readIn(clean(p)); ok {
		return data, err
	}
	return walked(r, p, fs.ReadFile, os.ReadFile)
}

// walked is how ReadFile, Open and ReadDir reach p where openat2 does not
// answer (a read-only fs.FS root, no openat2, a magic link): p resolved
// component by component inside the root, then inFS with its fs.FS name or
// onHost with its host path.
func walked[T any](r *Root, p string, inFS func(fs.FS, string) (T, error), onHost func(string) (T, error)) (T, error) {
	rp, err := r.Resolve(p)
	if err != nil {
		var none T
		return none, err
	}
	if r.FS != nil {
		return inFS(r.FS, r.fsName(rp))
	}
	return onHost(r.HostPath(rp))
}

// ReadFileInfo is ReadFile and Stat of the same file (following symlinks
// inside the root), through one descriptor where the kernel resolves it.
func (r *Root) ReadFileInfo(p string) ([]byte, fs.FileInfo, error) {
	if data, fi, ok, err := r.readIn(clean(p)); ok && (err != nil || fi != nil) {
		return data, fi, err
	}
	data, err := r.ReadFile(p)
	if err != nil {
		return nil, nil, err
	}
	fi, err := r.Stat(p)
	if err != nil {
		return nil, nil, err
	}
	return data, fi, nil
}

// Open opens an in-root file for reading, following symlinks inside the
// root (for large files read in blocks, such as binaries to hash).
func (r *Root) Open(p string) (fs.File, error) {
	if f, ok, err := r.openFileIn(clean(p)); ok {
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return walked(r, p, fs.FS.Open, func(name string) (fs.File, error) { return os.Open(name) })
}

// Stat follows symlinks inside the root.
func (r *Root) Stat(p string) (fs.FileInfo, error) {
	if fi, ok, err := r.statIn(clean(p), false); ok {
		return fi, err
	}
	rp, err := r.Resolve(p)
	if err != nil {
		return nil, err
	}
	fi, err := r.lstatRaw(rp)
	return asNamed(p, fi, err)
}

// asNamed names a FileInfo as os.Stat does: after the path asked for (its
// last component, "/" for the root), not after where its symlinks lead.
func asNamed(p string, fi fs.FileInfo, err error) (fs.FileInfo, error) {
	if err != nil {
		return nil, err
	}
	if name := path.Base(clean(p)); name != fi.Name() {
		return named{fi, name}, nil
	}
	return fi, nil
}

// named is a FileInfo under another name.
type named struct {
	fs.FileInfo
	name string
}

func (n named) Name() string { return n.name }

// Lstat does not follow a final symlink.
func (r *Root) Lstat(p string) (fs.FileInfo, error) {
	if fi, ok, err := r.statIn(clean(p), true); ok {
		return fi, err
	}
	rp, err := r.resolve(clean(p), false)
	if err != nil {
		return nil, err
	}
	fi, err := r.lstatRaw(rp)
	return asNamed(p, fi, err)
}

// Exists reports whether p exists (following symlinks).
func (r *Root) Exists(p string) bool {
	_, err := r.Stat(p)
	return err == nil
}

// ReadDir lists a directory, sorted by name.
func (r *Root) ReadDir(p string) ([]fs.DirEntry, error) {
	if entries, ok, err := r.readDirIn(clean(p)); ok {
		return entries, err
	}
	return walked(r, p, fs.ReadDir, os.ReadDir)
}

// Glob expands an absolute in-root pattern; matches are in-root paths,
// sorted lexically like glob(3). Only the last component may hold wildcards
// in practice (sshd Include, jail.d, sources.list.d), but any component works.
func (r *Root) Glob(pattern string) ([]string, error) {
	pattern = clean(pattern)
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, err
	}
	if !hasMeta(pattern) {
		if _, err := r.Lstat(pattern); err != nil {
			return nil, nil
		}
		return []string{pattern}, nil
	}
	dir, file := path.Split(pattern)
	dir = path.Clean(dir)
	var dirs []string
	if hasMeta(dir) {
		var err error
		if dirs, err = r.Glob(dir); err != nil {
			return nil, err
		}
	} else {
		dirs = []string{dir}
	}
	var out []string
	for _, d := range dirs {
		entries, err := r.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if ok, _ := path.Match(file, e.Name()); ok {
				out = append(out, path.Join(d, e.Name()))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }
