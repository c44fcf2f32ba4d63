package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// Mounter is a Runner that can lend a chroot what package managers need and a
// bare image lacks: the kernel filesystems (/proc, /sys, /dev) and the host's
// DNS configuration. Live systems have them already.
type Mounter interface {
	// WithSystem runs fn with the mounts in place and always unmounts them,
	// whether fn fails, panics or the context ends.
	WithSystem(ctx context.Context, fn func() error) error
}

// WithSystem implements Mounter. Mounts that already exist (a caller nesting
// WithSystem, or an admin who mounted /proc in the image) are used as they
// are and left alone; only what this call mounted is unmounted.
func (e Exec) WithSystem(ctx context.Context, fn func() error) (err error) {
	if e.Chroot == "" || e.Chroot == "/" {
		return fn()
	}
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

// mountPoints lists this process's mount points (/proc/self/mountinfo).
func mountPoints() (map[string]bool, error) {
	f, err := os.Open("/proc/self/mountinfo")
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
