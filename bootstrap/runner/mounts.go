package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Mounter is a Runner that can lend a chroot what package managers need and a
// bare image lacks: the kernel filesystems (/proc, /sys, /dev) and the host's
// DNS configuration. Live systems have them already.
type Mounter interface {
	// WithSystem runs fn with the mounts in place and always unmounts them,
	// whether fn fails, panics or the context ends.
	WithSystem(ctx context.Context, fn func() error) error
}

// WithSystem implements Mounter. The mounts are made in a mount namespace
// of their own, so that hardbake killed mid-way (SIGKILL, a power cut of the
// build VM) leaves nothing mounted on the host: a /dev bound into an image
// that is later removed with rm -rf would take the host's /dev with it.
// fn runs on a goroutine locked to the thread that entered the namespace
// (commands are forked from that thread and inherit it); the thread is
// never unlocked, so it ends with the goroutine and the namespace with it.
// Mounts that already exist (a caller nesting WithSystem, or an admin who
// mounted /proc in the image) are used as they are and left alone; only
// what this call mounted is unmounted.
func (e Exec) WithSystem(ctx context.Context, fn func() error) error {
	if e.Chroot == "" || e.Chroot == "/" {
		return fn()
	}
	if inSession() {
		return e.withMounts(fn) // nested: this thread has its namespace already
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// The main thread cannot end with this goroutine (the runtime
			// keeps it), and the process's view of mounts is its view.
			// Holding it here, the nested call's goroutine lands on
			// another thread.
			done <- e.WithSystem(ctx, fn)
			runtime.UnlockOSThread()
			return
		}
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			done <- fmt.Errorf("a mount namespace for the package session: %w", err)
			return
		}
		// Nothing mounted here may propagate back to the host's namespace.
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			done <- fmt.Errorf("make the package session's mounts private: %w", err)
			return
		}
		done <- e.withMounts(fn)
	}()
	return <-done
}

// inSession reports whether this thread is in a mount namespace other than
// the process's: a WithSystem on it is nested in another.
func inSession() bool {
	thread, err1 := os.Readlink("/proc/thread-self/ns/mnt")
	process, err2 := os.Readlink("/proc/self/ns/mnt")
	return err1 == nil && err2 == nil && thread != process
}

// withMounts mounts what the chroot lacks, runs fn, and unmounts it again.
func (e Exec) withMounts(fn func() error) (err error) {
	var undo []func() error
	defer func() {
		for i := len(undo) - 1; i >= 0; i-- {
			if uerr := undo[i](); uerr != nil && err == nil {
				err = uerr
			}
		}
	}()
	mounted, err := mountPoints()
	if err != nil {
		return err
	}
	type mnt struct {
		src, dir, fstype string
		flags            uintptr
		readOnly         bool
	}
	for _, m := range []mnt{
		{"proc", "/proc", "proc", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, false},
		{"/sys", "/sys", "", syscall.MS_BIND, true},
		{"/dev", "/dev", "", syscall.MS_BIND, false},
	} {
		target := filepath.Join(e.Chroot, m.dir)
		if mounted[target] {
			continue
		}
		if fi, err := os.Lstat(target); err != nil || !fi.IsDir() {
			return fmt.Errorf("mount %s: %s is not a directory in %s", m.dir, m.dir, e.Chroot)
		}
		if err := syscall.Mount(m.src, target, m.fstype, m.flags, ""); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.src, target, err)
		}
		undo = append(undo, unmounter(target))
		if m.readOnly {
			// A bind mount ignores MS_RDONLY until remounted.
			if err := syscall.Mount("", target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
				return fmt.Errorf("remount %s read-only: %w", target, err)
			}
		}
	}
	u, err := lendResolvConf(e.Chroot, mounted)
	undo = append(undo, u...)
	if err != nil {
		return err
	}
	return fn()
}

func unmounter(target string) func() error {
	return func() error {
		if err := syscall.Unmount(target, 0); err != nil {
			// Busy (a daemon a maintainer script left running): detach it so
			// it disappears from the tree now and is freed when unused.
			if err2 := syscall.Unmount(target, syscall.MNT_DETACH); err2 != nil {
				return fmt.Errorf("unmount %s: %w", target, err)
			}
		}
		return nil
	}
}

// lendResolvConf bind-mounts the host's resolv.conf over the root's, wherever
// the root's points (Debian 13 with systemd-resolved links it to
// /run/systemd/resolve/stub-resolv.conf, which only exists on a running
// system). Files and directories it had to create are removed afterwards.
func lendResolvConf(chroot string, mounted map[string]bool) ([]func() error, error) {
	host, err := filepath.EvalSymlinks("/etc/resolv.conf")
	if err != nil {
		return nil, nil // the host has no DNS configuration to lend
	}
	inRoot, err := resolveIn(chroot, "/etc/resolv.conf")
	if err != nil {
		return nil, err
	}
	target := filepath.Join(chroot, inRoot)
	if mounted[target] {
		return nil, nil
	}
	var undo []func() error
	// Create missing parents one by one so exactly those are removed.
	var created []string
	for d := path.Dir(inRoot); d != "/"; d = path.Dir(d) {
		if _, err := os.Lstat(filepath.Join(chroot, d)); err == nil {
			break
		}
		created = append([]string{d}, created...)
	}
	for _, d := range created {
		dir := filepath.Join(chroot, d)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return undo, err
		}
		undo = append(undo, func() error { return os.Remove(dir) })
	}
	if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return undo, err
		}
		f.Close()
		undo = append(undo, func() error { return os.Remove(target) })
	} else if err != nil {
		return undo, err
	}
	if err := syscall.Mount(host, target, "", syscall.MS_BIND, ""); err != nil {
		return undo, fmt.Errorf("bind-mount the host's DNS configuration on %s: %w", target, err)
	}
	return append(undo, unmounter(target)), nil
}

// resolveIn follows symlinks of an in-root path inside chroot, so absolute
// targets stay in the root.
func resolveIn(chroot, p string) (string, error) {
	cur := "/"
	parts := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
	for n, i := 0, 0; i < len(parts); i++ {
		next := path.Join(cur, parts[i])
		target, err := os.Readlink(filepath.Join(chroot, next))
		if err != nil {
			cur = next
			continue
		}
		if n++; n > 40 {
			return "", fmt.Errorf("%s: too many levels of symbolic links", p)
		}
		if strings.HasPrefix(target, "/") {
			cur = "/"
		}
		parts = append(strings.Split(strings.TrimPrefix(target, "/"), "/"), parts[i+1:]...)
		i = -1
	}
	return path.Clean(cur), nil
}

// mountPoints lists the mount points this thread sees: a package session's
// thread has a mount namespace of its own (/proc/self would be the main
// thread's).
func mountPoints() (map[string]bool, error) {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 {
			out[unescapeMount(fields[4])] = true
		}
	}
	return out, sc.Err()
}

// MountsUnder returns the mount points at or below dir, for tests and checks
// that nothing was left mounted.
func MountsUnder(dir string) ([]string, error) {
	m, err := mountPoints()
	if err != nil {
		return nil, err
	}
	var out []string
	for p := range m {
		if p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/") {
			out = append(out, p)
		}
	}
	return out, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
