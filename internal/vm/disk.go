package vm

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// RootLabel is the ext4 label BuildDiskImage gives the root filesystem.
const RootLabel = "hardbake-root"

// BuildDiskImage writes out as a raw disk image holding one ext4 filesystem
// over the whole disk (no partition table: the kernel is booted directly, see
// Boot, so nothing needs a boot sector, and the guest sees the root as
// /dev/vda). The filesystem is made by `mkfs.ext4 -d rootDir` (e2fsprogs
// copies owners, modes, device nodes, hard links and xattrs) with the mke2fs
// defaults, metadata_csum included, and labelled RootLabel.
//
// sizeMiB is the disk size; 0 or less picks the size of rootDir plus half of
// it plus 512 MiB of free space (the product installs packages at bake time).
// The file is sparse, so unused space costs nothing on the host.
func BuildDiskImage(rootDir, out string, sizeMiB int) error {
	if _, err := os.Stat(filepath.Join(rootDir, "etc", "os-release")); err != nil {
		if _, err2 := os.Stat(filepath.Join(rootDir, "usr", "lib", "os-release")); err2 != nil {
			return fmt.Errorf("vm: %s does not look like a root filesystem: %w", rootDir, err)
		}
	}
	mkfs, err := lookSbin("mkfs.ext4")
	if err != nil {
		return err
	}
	if sizeMiB <= 0 {
		used, err := duMiB(rootDir)
		if err != nil {
			return err
		}
		sizeMiB = used + used/2 + 512
	}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := f.Truncate(int64(sizeMiB) << 20); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	cmd := exec.Command(mkfs, "-q", "-F", "-t", "ext4", "-L", RootLabel, "-d", rootDir, tmp)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("vm: mkfs.ext4 -d %s (%d MiB): %v\n%s", rootDir, sizeMiB, err, b)
	}
	return os.Rename(tmp, out)
}

func duMiB(dir string) (int, error) {
	b, err := exec.Command("du", "-s", "-x", "--block-size=1M", dir).Output()
	if err != nil {
		return 0, fmt.Errorf("vm: du %s: %w", dir, err)
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0, fmt.Errorf("vm: du %s: no output", dir)
	}
	return strconv.Atoi(fields[0])
}

func lookSbin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("vm: %s not found (make deps installs it)", name)
}

// FindKernel returns the newest /boot/vmlinuz-* and its matching
// /boot/initrd.img-* inside rootDir.
func FindKernel(rootDir string) (kernel, initrd string, err error) {
	matches, _ := filepath.Glob(filepath.Join(rootDir, "boot", "vmlinuz-*"))
	if len(matches) == 0 {
		return "", "", fmt.Errorf("vm: no %s", filepath.Join(rootDir, "boot", "vmlinuz-*"))
	}
	sort.Slice(matches, func(i, j int) bool {
		return versionLess(filepath.Base(matches[i]), filepath.Base(matches[j]))
	})
	kernel = matches[len(matches)-1]
	version := strings.TrimPrefix(filepath.Base(kernel), "vmlinuz-")
	initrd = filepath.Join(rootDir, "boot", "initrd.img-"+version)
	if _, err := os.Stat(initrd); err != nil {
		return "", "", fmt.Errorf("vm: kernel %s has no initramfs: %w", version, err)
	}
	return kernel, initrd, nil
}

// CopyKernel copies the newest kernel and its initrd out of rootDir/boot into
// outDir (as vmlinuz and initrd.img) and returns their paths. Boot loads them
// with -kernel/-initrd, so an image built by BuildDiskImage is only bootable
// together with these two files: ship them beside the disk.
func CopyKernel(rootDir, outDir string) (kernel, initrd string, err error) {
	k, i, err := FindKernel(rootDir)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", "", err
	}
	kernel = filepath.Join(outDir, "vmlinuz")
	initrd = filepath.Join(outDir, "initrd.img")
	if err := copyFile(k, kernel); err != nil {
		return "", "", err
	}
	if err := copyFile(i, initrd); err != nil {
		return "", "", err
	}
	return kernel, initrd, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// versionLess orders names like vmlinuz-6.1.0-9-cloud-amd64 numerically by
// their digit runs.
func versionLess(a, b string) bool {
	for a != "" && b != "" {
		da, ra := splitDigits(a)
		db, rb := splitDigits(b)
		if da != "" && db != "" {
			na, _ := strconv.Atoi(da)
			nb, _ := strconv.Atoi(db)
			if na != nb {
				return na < nb
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func splitDigits(s string) (digits, rest string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i], s[i:]
}

// exists reports whether path exists (without following a final symlink).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
