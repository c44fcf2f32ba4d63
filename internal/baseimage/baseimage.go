// Package baseimage builds the bootable Debian raw disks that the Packer
// pipeline starts from (examples/packer/debian-12.pkr.hcl, scripts/pipeline.sh
// and the e2e suite), and caches them under <CacheDir>/images.
//
// An image is the cached mmdebstrap root of internal/testroot (kernel,
// initramfs, openssh-server, sudo, cloud-init) made into one ext4 filesystem
// over the whole disk by internal/vm.BuildDiskImage, with its kernel and
// initrd copied beside it: the VM boots them directly (QEMU -kernel/-initrd,
// root=/dev/vda), so the disk needs no bootloader, partition table or EFI.
// The root is changed only the way a cloud provider's image would be:
//
//   - apt sources for the release, its -updates and its -security archive
//     (mmdebstrap writes only the release), so the bake's upgrade and the
//     security-only unattended-upgrades have a security archive to use;
//   - every pending upgrade applied in a chroot on the host, as a provider's
//     current image would be: under TCG the bake's own upgrade of a stale
//     root (a kernel and its initramfs among ~20 packages) took over ten
//     minutes, on the host it takes about one;
//   - DHCP on the virtio NIC and cloud-init limited to NoCloud/ConfigDrive
//     (internal/vm.WriteDHCPConfig, CloudInitNoCloudOnly), so an unseeded boot
//     is fast and a "cidata" seed is honoured.
//
// It holds no user and no key: whoever boots it says who logs in through a
// NoCloud seed (the Packer template creates its build user `packer` that way).
//
// The cache key hashes the root tarball's name (which carries the build
// script's own key), Recipe and the disk size, so changing any of them makes
// a new image; builds are atomic (a temporary directory renamed into place)
// and serialized by a flock, and nothing depends on the cache being there.
package baseimage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
	"github.com/hardbake/hardbake/internal/vm"
)

// Recipe names what Build does to the root; bump it when that changes.
const Recipe = "v2: sources+updates+security, dist-upgrade, dhcp, nocloud-only"

// SizeMiB is the (sparse) disk size: the root is ~1 GiB, the bake installs
// fail2ban, nftables and unattended-upgrades and applies every upgrade.
const SizeMiB = 3072

// Image is a bootable raw disk and the kernel and initrd that boot it.
type Image struct {
	Suite  string
	Dir    string
	Disk   string // disk.raw: ext4 over the whole disk, label vm.RootLabel
	Kernel string // vmlinuz
	Initrd string // initrd.img
}

func paths(suite, dir string) Image {
	return Image{Suite: suite, Dir: dir,
		Disk:   filepath.Join(dir, "disk.raw"),
		Kernel: filepath.Join(dir, "vmlinuz"),
		Initrd: filepath.Join(dir, "initrd.img")}
}

// Build returns the cached image of suite ("bookworm" or "trixie"), building
// the root (testroot.Build) and the image first when missing. Progress goes to
// logf (may be nil). Needs root when it has to build.
func Build(suite string, logf func(format string, args ...any)) (Image, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	tar, err := testroot.Build(suite, logf)
	if err != nil {
		return Image{}, err
	}
	h := sha256.Sum256([]byte(filepath.Base(tar) + "\n" + Recipe + "\n" + fmt.Sprint(SizeMiB)))
	dir := filepath.Join(testroot.CacheDir(), "images", fmt.Sprintf("debian-%s-%s", suite, hex.EncodeToString(h[:])[:12]))
	img := paths(suite, dir)
	if complete(img) {
		return img, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return Image{}, err
	}
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return Image{}, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return Image{}, fmt.Errorf("baseimage: flock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if complete(img) {
		return img, nil
	}
	start := time.Now()
	logf("baseimage: building %s from %s", dir, filepath.Base(tar))
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-")
	if err != nil {
		return Image{}, err
	}
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		return Image{}, err
	}
	if err := testroot.Extract(tar, root); err != nil {
		return Image{}, err
	}
	if err := prepare(suite, root, logf); err != nil {
		return Image{}, err
	}
	out := paths(suite, filepath.Join(tmp, "image"))
	if _, _, err := vm.CopyKernel(root, out.Dir); err != nil {
		return Image{}, err
	}
	if err := vm.BuildDiskImage(root, out.Disk, SizeMiB); err != nil {
		return Image{}, err
	}
	os.RemoveAll(dir) // an incomplete leftover
	if err := os.Rename(out.Dir, dir); err != nil {
		return Image{}, err
	}
	logf("baseimage: built %s in %s", dir, time.Since(start).Round(time.Second))
	prune(suite, dir, logf)
	return img, nil
}

func complete(img Image) bool {
	for _, p := range []string{img.Disk, img.Kernel, img.Initrd} {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

// prepare changes the root the way a cloud image is set up (see the package
// doc).
func prepare(suite, root string, logf func(string, ...any)) error {
	sources := fmt.Sprintf("# written by hardbake's internal/baseimage, like Debian's cloud images\n"+
		"deb http://deb.debian.org/debian %[1]s main\n"+
		"deb http://deb.debian.org/debian %[1]s-updates main\n"+
		"deb http://deb.debian.org/debian-security %[1]s-security main\n", suite)
	if err := os.WriteFile(filepath.Join(root, "etc/apt/sources.list"), []byte(sources), 0o644); err != nil {
		return err
	}
	// trixie's mmdebstrap writes deb822 sources; one definition is enough.
	os.Remove(filepath.Join(root, "etc/apt/sources.list.d/debian.sources"))
	if err := upgrade(root, logf); err != nil {
		return err
	}
	if err := vm.WriteDHCPConfig(root); err != nil {
		return err
	}
	return vm.CloudInitNoCloudOnly(root)
}

// upgrade applies every pending upgrade inside root with apt-get in a chroot
// (/proc, /sys, /dev and the host's resolv.conf lent by runner.WithSystem).
// A policy-rc.d keeps package scripts from starting daemons on the host.
func upgrade(root string, logf func(string, ...any)) error {
	policy := filepath.Join(root, "usr/sbin/policy-rc.d")
	if err := os.WriteFile(policy, []byte("#!/bin/sh\nexit 101\n"), 0o755); err != nil {
		return err
	}
	defer os.Remove(policy)
	start := time.Now()
	err := runner.Exec{Chroot: root}.WithSystem(context.Background(), func() error {
		for _, args := range [][]string{
			{"apt-get", "-q", "update"},
			{"apt-get", "-q", "-y", "-o", "Dpkg::Options::=--force-confold", "dist-upgrade"},
			{"apt-get", "-q", "clean"},
		} {
			cmd := exec.Command("chroot", append([]string{root}, args...)...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C.UTF-8")
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("baseimage: chroot %s: %v\n%s", args, err, out)
			}
		}
		return nil
	})
	if err == nil {
		logf("baseimage: dist-upgrade in the chroot took %s", time.Since(start).Round(time.Second))
	}
	return err
}

// prune removes this suite's images made from other inputs (each is ~1 GiB
// on disk), keeping keep.
func prune(suite, keep string, logf func(string, ...any)) {
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(keep), "debian-"+suite+"-*"))
	for _, p := range old {
		if p == keep || p == keep+".lock" {
			continue
		}
		logf("baseimage: removing the outdated %s", p)
		os.RemoveAll(p)
	}
}
