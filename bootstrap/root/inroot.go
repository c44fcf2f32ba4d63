package root

import (
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The reads of a directory root let the kernel resolve the path the way
// resolve does: openat2(2) with RESOLVE_IN_ROOT treats the root directory as
// "/" for absolute symlinks and "..", as a chroot would. One call replaces
// an lstat per path component, and the file is read through its descriptor
// without os.File's poller registration: on a first boot hardbake reads a
// few hundred small files, and these system calls were most of its own
// time. Where openat2 is missing (Linux < 5.6) or refused (a seccomp
// filter), and for what it cannot express (a "magic" /proc link), the
// component-by-component walk answers instead.

// inRoot holds the root directory's descriptor, opened on first use and
// closed when no copy of the Root refers to it any more.
type inRoot struct {
	once sync.Once
	fd   int // -1: openat2 is not used for this root
}

const resolveFlags = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openat2Refused is true once the kernel said it has no openat2 (ENOSYS) or
// a filter refused it (EPERM): no root tries it again.
var openat2Refused atomic.Bool

// rootFD returns the root directory's O_PATH descriptor, or -1.
func (r *Root) rootFD() int {
	if r.in == nil || openat2Refused.Load() {
		return -1
	}
	r.in.once.Do(func() {
		r.in.fd = -1
		fd, err := unix.Open(r.Dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == nil {
			r.in.fd = fd
			runtime.AddCleanup(r.in, func(fd int) { unix.Close(fd) }, fd)
		}
	})
	return r.in.fd
}

// openIn opens the in-root path p (clean, absolute) relative to the root.
// ok is false when the caller must use the walk instead.
func (r *Root) openIn(p string, flags int) (fd int, ok bool, err error) {
	dirfd := r.rootFD()
	if dirfd < 0 {
		return -1, false, nil
	}
	name := p[1:]
	if name == "" {
		name = "."
	}
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolveFlags}
	for {
		fd, err = unix.Openat2(dirfd, name, &how)
		if err != unix.EINTR {
			break
		}
	}
	switch err {
	case nil:
		return fd, true, nil
	case unix.ENOSYS, unix.EPERM:
		if err == unix.ENOSYS || flags&unix.O_PATH != 0 {
			// EPERM on an O_PATH open can only be a filter: no access
			// check applies to it.
			openat2Refused.Store(true)
		}
		return -1, false, nil
	case unix.ELOOP, unix.EXDEV, unix.EAGAIN, unix.EINVAL:
		// A magic link, a loop (the walk reports it in its own words), a
		// rename racing the lookup, or flags this kernel does not know.
		return -1, false, nil
	}
	return -1, true, &fs.PathError{Op: "open", Path: r.HostPath(p), Err: err}
}

// readIn reads the whole file at p and stats it (one descriptor for both);
// ok is false when the walk must answer.
func (r *Root) readIn(p string) (data []byte, fi fs.FileInfo, ok bool, err error) {
	fd, ok, err := r.openIn(p, unix.O_RDONLY)
	if !ok || err != nil {
		return nil, nil, ok, err
	}
	defer unix.Close(fd)
	info := &statInfo{name: path.Base(p)}
	size := 512
	if syscall.Fstat(fd, &info.st) == nil {
		if info.st.Mode&syscall.S_IFMT == syscall.S_IFREG && info.st.Size > 0 {
			size = int(info.st.Size) + 1 // one more byte sees EOF in the same pass
		}
		fi = info
	}
	data = make([]byte, 0, size)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := unix.Read(fd, data[len(data):cap(data)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, nil, true, &fs.PathError{Op: "read", Path: r.HostPath(p), Err: err}
		}
		if n == 0 {
			return data, fi, true, nil
		}
		data = data[:len(data)+n]
	}
}

// statIn stats p, following a final symlink unless noFollow.
func (r *Root) statIn(p string, noFollow bool) (fi fs.FileInfo, ok bool, err error) {
	flags := unix.O_PATH
	if noFollow {
		flags |= unix.O_NOFOLLOW
	}
	fd, ok, err := r.openIn(p, flags)
	if !ok || err != nil {
		return nil, ok, err
	}
	defer unix.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, true, &fs.PathError{Op: "stat", Path: r.HostPath(p), Err: err}
	}
	return &statInfo{name: path.Base(p), st: st}, true, nil
}

// openFileIn opens p for reading as an *os.File (directories too).
func (r *Root) openFileIn(p string) (f *os.File, ok bool, err error) {
	fd, ok, err := r.openIn(p, unix.O_RDONLY)
	if !ok || err != nil {
		return nil, ok, err
	}
	return os.NewFile(uintptr(fd), r.HostPath(p)), true, nil
}

// readDirIn lists the directory p sorted by name, like os.ReadDir.
func (r *Root) readDirIn(p string) (entries []fs.DirEntry, ok bool, err error) {
	f, ok, err := r.openFileIn(p)
	if !ok || err != nil {
		return nil, ok, err
	}
	defer f.Close()
	entries, err = f.ReadDir(-1)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return entries, true, err
}

// statInfo is an fs.FileInfo from fstat(2), with the same Mode and Sys
// (*syscall.Stat_t) as os.Stat gives.
type statInfo struct {
	name string
	st   syscall.Stat_t
}

func (s *statInfo) Name() string       { return s.name }
func (s *statInfo) Size() int64        { return s.st.Size }
func (s *statInfo) ModTime() time.Time { return time.Unix(s.st.Mtim.Unix()) }
func (s *statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s *statInfo) Sys() any           { return &s.st }

// Mode converts st_mode as os does (os/stat_linux.go).
func (s *statInfo) Mode() fs.FileMode {
	m := fs.FileMode(s.st.Mode & 0o777)
	switch s.st.Mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if s.st.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if s.st.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if s.st.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// writeIn is WriteFile through the parent directory's descriptor, opened
// with openat2(RESOLVE_IN_ROOT): the temp file, its rename and the
// directory fsync are *at calls on it, with no path walked again. done is
// false when the walk must do it: a final symlink (written through to its
// target), a parent that cannot be opened (the walk reports it), no openat2.
func (r *Root) writeIn(p string, data []byte, mode fs.FileMode, owner Owner, exactMode bool) (done bool, err error) {
	if p == "/" {
		return false, nil
	}
	dir, name := path.Split(p)
	dfd, ok, err := r.openIn(path.Clean(dir), unix.O_RDONLY|unix.O_DIRECTORY)
	if !ok || err != nil {
		return false, nil
	}
	defer unix.Close(dfd)
	err = r.replaceAt(dfd, p, dir, name, data, mode, owner, exactMode)
	if err == errFinalLink {
		return false, nil
	}
	return true, err
}
