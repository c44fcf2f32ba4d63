package diskimage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/diskfs/go-diskfs/filesystem/ext4"
)

// maxFileSize bounds one file read into memory: configuration files are
// small, and a corrupt inode must not make the audit allocate gigabytes.
const maxFileSize = 256 << 20

// FS is an ext4 filesystem inside an image as a read-only io/fs tree with
// symlinks (fs.ReadLinkFS), so bootstrap/root resolves absolute links such
// as /etc/systemd/system/*.wants/* inside the image. Lookups are cached:
// the image never changes under us. Any go-diskfs failure other than "does
// not exist" (and any panic) is recorded: see Faults.
type FS struct {
	fsys  *ext4.FileSystem
	where string // "disk.raw partition 1", for messages

	mu     sync.Mutex
	lstat  map[string]lstatResult
	dirs   map[string][]fs.DirEntry
	faults []error
}

type lstatResult struct {
	fi  fs.FileInfo
	err error
}

var (
	_ fs.ReadLinkFS = (*FS)(nil)
	_ fs.ReadFileFS = (*FS)(nil)
	_ fs.ReadDirFS  = (*FS)(nil)
	_ fs.StatFS     = (*FS)(nil)
)

func newFS(e *ext4.FileSystem, where string) *FS {
	return &FS{fsys: e, where: where, lstat: map[string]lstatResult{}, dirs: map[string][]fs.DirEntry{}}
}

// Faults returns the read errors met so far (not "does not exist"): when
// there are any, a check may have seen a file as missing that is there.
func (f *FS) Faults() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.faults)
}

// guard turns a go-diskfs panic into an error naming the file and records it.
func (f *FS) guard(op, name string, err *error) {
	if r := recover(); r != nil {
		*err = f.fault(op, name, fmt.Errorf("go-diskfs panicked: %v", r))
	}
}

func (f *FS) fault(op, name string, err error) error {
	e := &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%w: %s: %v", ErrRead, f.where, err)}
	f.mu.Lock()
	f.faults = append(f.faults, e)
	f.mu.Unlock()
	return e
}

func notExist(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

// Lstat does not follow a final symlink (go-diskfs's Stat never does).
func (f *FS) Lstat(name string) (fi fs.FileInfo, err error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return rootInfo{}, nil
	}
	f.mu.Lock()
	r, ok := f.lstat[name]
	f.mu.Unlock()
	if ok {
		return r.fi, r.err
	}
	fi, err = f.lstatUncached(name)
	f.mu.Lock()
	f.lstat[name] = lstatResult{fi, err}
	f.mu.Unlock()
	return fi, err
}

func (f *FS) lstatUncached(name string) (fi fs.FileInfo, err error) {
	defer f.guard("lstat", name, &err)
	fi, err = f.fsys.Stat(name)
	if err == nil {
		return fi, nil
	}
	if strings.Contains(err.Error(), "does not exist") {
		return nil, notExist("lstat", name)
	}
	// go-diskfs says only "could not read directory entries" whether the
	// parent is missing, not a directory, or unreadable: ask the parent.
	parent := path.Dir(name)
	pfi, perr := f.Lstat(parent)
	switch {
	case errors.Is(perr, fs.ErrNotExist):
		return nil, notExist("lstat", name)
	case perr != nil:
		return nil, perr
	case !pfi.IsDir():
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: syscall.ENOTDIR}
	}
	return nil, f.fault("lstat", name, err)
}

// ReadLink returns a symlink's target as stored (absolute targets are
// relative to the image's root, which bootstrap/root handles).
func (f *FS) ReadLink(name string) (target string, err error) {
	fi, err := f.Lstat(name)
	if err != nil {
		return "", err
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	defer f.guard("readlink", name, &err)
	t, err := f.fsys.ReadLink(name)
	if err != nil {
		return "", f.fault("readlink", name, err)
	}
	return t, nil
}

// resolve follows symlinks in every component of name inside the image.
func (f *FS) resolve(name string) (string, error) {
	parts := strings.Split(name, "/")
	cur := "."
	for links, i := 0, 0; i < len(parts); i++ {
		p := parts[i]
		if p == "" || p == "." {
			continue
		}
		if p == ".." {
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, p)
		fi, err := f.Lstat(next)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > 40 {
			return "", &fs.PathError{Op: "resolve", Path: name, Err: errors.New("too many levels of symbolic links")}
		}
		t, err := f.ReadLink(next)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(t, "/") {
			cur = "."
		}
		parts = append(strings.Split(strings.TrimPrefix(t, "/"), "/"), parts[i+1:]...)
		i = -1
	}
	return cur, nil
}

// Stat follows symlinks inside the image.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	rp, err := f.resolve(name)
	if err != nil {
		return nil, err
	}
	return f.Lstat(rp)
}

// ReadFile reads a whole file with ONE Read of its size: go-diskfs's
// chunked reads (io.ReadAll, its own ReadFile) panic on multi-extent files.
func (f *FS) ReadFile(name string) (data []byte, err error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	rp, err := f.resolve(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Lstat(rp)
	if err != nil {
		return nil, err
	}
	switch {
	case fi.IsDir():
		return nil, &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	case !fi.Mode().IsRegular():
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("not a regular file (%s)", fi.Mode().Type())}
	case fi.Size() > maxFileSize:
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%d bytes: larger than %d, not read", fi.Size(), maxFileSize)}
	case fi.Size() == 0:
		return []byte{}, nil
	}
	defer f.guard("read", name, &err)
	fh, err := f.fsys.Open(rp)
	if err != nil {
		return nil, f.fault("open", name, err)
	}
	defer fh.Close()
	buf := make([]byte, fi.Size())
	n, err := fh.Read(buf)
	if err != nil && err != io.EOF {
		return nil, f.fault("read", name, err)
	}
	if n != len(buf) {
		return nil, f.fault("read", name, fmt.Errorf("read %d of %d bytes", n, len(buf)))
	}
	return buf, nil
}

// ReadDir lists a directory sorted by name, following symlinks to it.
func (f *FS) ReadDir(name string) (out []fs.DirEntry, err error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	rp, err := f.resolve(name)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	cached, ok := f.dirs[rp]
	f.mu.Unlock()
	if ok {
		return slices.Clone(cached), nil
	}
	fi, err := f.Lstat(rp)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: syscall.ENOTDIR}
	}
	defer f.guard("readdir", name, &err)
	dn := rp
	if dn == "." {
		dn = "/"
	}
	entries, err := f.fsys.ReadDir(dn)
	if err != nil {
		return nil, f.fault("readdir", name, err)
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	f.mu.Lock()
	f.dirs[rp] = entries
	f.mu.Unlock()
	return slices.Clone(entries), nil
}

// Open opens a file for reading; its contents are read at once (see ReadFile).
func (f *FS) Open(name string) (fs.File, error) {
	fi, err := f.Stat(name)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		entries, err := f.ReadDir(name)
		if err != nil {
			return nil, err
		}
		return &openDir{fi: fi, entries: entries}, nil
	}
	data, err := f.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &openFile{fi: fi, r: strings.NewReader(string(data))}, nil
}

type openFile struct {
	fi fs.FileInfo
	r  *strings.Reader
}

func (o *openFile) Stat() (fs.FileInfo, error) { return o.fi, nil }
func (o *openFile) Read(b []byte) (int, error) { return o.r.Read(b) }
func (o *openFile) Close() error               { return nil }

type openDir struct {
	fi      fs.FileInfo
	entries []fs.DirEntry
}

func (o *openDir) Stat() (fs.FileInfo, error) { return o.fi, nil }
func (o *openDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: o.fi.Name(), Err: syscall.EISDIR}
}
func (o *openDir) Close() error { return nil }
func (o *openDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		out := o.entries
		o.entries = nil
		return out, nil
	}
	if len(o.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(o.entries))
	out := o.entries[:n]
	o.entries = o.entries[n:]
	return out, nil
}

// rootInfo is the filesystem's root directory ("."), which go-diskfs
// cannot stat by name.
type rootInfo struct{}

func (rootInfo) Name() string       { return "." }
func (rootInfo) Size() int64        { return 0 }
func (rootInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o755 }
func (rootInfo) ModTime() time.Time { return time.Time{} }
func (rootInfo) IsDir() bool        { return true }
func (rootInfo) Sys() any           { return nil }
