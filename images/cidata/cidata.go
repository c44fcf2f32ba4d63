// Package cidata finds a cloud-init NoCloud seed device (a volume labelled
// cidata or CIDATA) and reads its host data and user-data without mounting it: the kernel
// may lack iso9660/vfat (this build host's does), and firstboot runs before
// anything else would mount it. Labels are read from the volume itself
// (ISO 9660 primary volume descriptor, FAT boot sector), so neither udev's
// /dev/disk/by-label nor blkid is needed; files are read with go-diskfs.
// `hardbake firstboot` gets it as host.Sources.Seed; bootstrap never
// imports images.
package cidata

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/filesystem/fat12"
	"github.com/diskfs/go-diskfs/filesystem/fat16"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"
	"golang.org/x/sys/unix"

	"github.com/hardbake/hardbake/bootstrap/host"
)

// Labels NoCloud accepts, in the order hardbake looks for them.
var Labels = []string{"cidata", "CIDATA"}

// maxUserData bounds what is read: real user-data is kilobytes.
const maxUserData = 1 << 20

// Label returns the volume label of an ISO 9660 or FAT volume, or "".
func Label(r io.ReaderAt) string {
	// ISO 9660: the primary volume descriptor is sector 16 (2048-byte
	// sectors): type 1, "CD001", volume identifier at 40, 32 bytes.
	pvd := make([]byte, 72)
	if _, err := r.ReadAt(pvd, 16*2048); err == nil && pvd[0] == 1 && string(pvd[1:6]) == "CD001" {
		return strings.TrimRight(string(pvd[40:72]), " \x00")
	}
	// FAT: boot sector signature 55 AA; the extended BPB (signature 0x29)
	// holds the label at 43 (FAT12/16) or 71 (FAT32), 11 bytes.
	bs := make([]byte, 512)
	if _, err := r.ReadAt(bs, 0); err != nil || bs[510] != 0x55 || bs[511] != 0xAA {
		return ""
	}
	switch {
	case bs[66] == 0x29 && string(bs[82:87]) == "FAT32":
		return strings.TrimRight(string(bs[71:82]), " \x00")
	case bs[38] == 0x29 && string(bs[54:57]) == "FAT":
		return strings.TrimRight(string(bs[43:54]), " \x00")
	}
	return ""
}

// isISO9660 reports whether r holds an ISO 9660 volume (its primary
// volume descriptor at sector 16).
func isISO9660(r io.ReaderAt) bool {
	pvd := make([]byte, 6)
	_, err := r.ReadAt(pvd, 16*2048)
	return err == nil && pvd[0] == 1 && string(pvd[1:6]) == "CD001"
}

// openVolume reads the ISO 9660 or FAT file system that fills f (an image
// file or a block device), read-only, with go-diskfs's file-system
// packages. They are called directly rather than through go-diskfs's disk
// package, which would link every file system it knows (squashfs and its
// four compressors among them) into the binary, and their initialisation
// into every start of hardbake, first boot included.
func openVolume(f *os.File) (filesystem.FileSystem, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// What go-diskfs's Open takes: a regular file's size and 512-byte
	// sectors; a block device's size and logical sector size.
	size, sector := fi.Size(), int64(512)
	if fi.Mode()&os.ModeDevice != 0 {
		if size, err = f.Seek(0, io.SeekEnd); err != nil {
			return nil, err
		}
		n, err := unix.IoctlGetInt(int(f.Fd()), unix.BLKSSZGET)
		if err != nil {
			return nil, fmt.Errorf("logical sector size: %w", err)
		}
		sector = int64(n)
	}
	b := file.New(f, true)
	if isISO9660(f) {
		// ISO 9660 sectors are 2048 bytes whatever the device's: with a
		// block device's own (512 on virtio-blk) go-diskfs refuses the
		// volume ("unknown filesystem type"), and a seed attached as a
		// disk was unreadable at first boot while the same image file
		// read fine.
		return iso9660.Read(b, size, 0, 2048)
	}
	// The FAT variants, most specific first, as go-diskfs's
	// Disk.GetFilesystem tries them.
	if fsys, err := fat32.Read(b, size, 0, sector); err == nil {
		return fsys, nil
	}
	if fsys, err := fat16.Read(b, size, 0, sector); err == nil {
		return fsys, nil
	}
	fsys, err := fat12.Read(b, size, 0, sector)
	if err != nil {
		return nil, fmt.Errorf("neither ISO 9660 nor FAT: %w", err)
	}
	return fsys, nil
}

func isSeedLabel(l string) bool {
	for _, want := range Labels {
		if l == want {
			return true
		}
	}
	return false
}

// Find returns the seed device: /dev/disk/by-label/{cidata,CIDATA} when udev
// made them, otherwise the first block device in /sys/class/block whose own
// label is one of Labels. devDir and sysDir are "/dev" and "/sys" live.
// No seed is "" and no error.
func Find(devDir, sysDir string) (string, error) {
	for _, l := range Labels {
		p := filepath.Join(devDir, "disk/by-label", l)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	entries, err := os.ReadDir(filepath.Join(sysDir, "class/block"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil
		}
		return "", err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "zram") {
			continue
		}
		size, _ := os.ReadFile(filepath.Join(sysDir, "class/block", name, "size"))
		if n, _ := strconv.ParseInt(strings.TrimSpace(string(size)), 10, 64); n == 0 {
			continue // empty drive, unused loop device
		}
		dev := filepath.Join(devDir, name)
		f, err := os.Open(dev)
		if err != nil {
			continue
		}
		l := Label(f)
		f.Close()
		if isSeedLabel(l) {
			return dev, nil
		}
	}
	return "", nil
}

// ReadSeed reads what firstboot wants from the root directory of the seed
// volume in file (an image or a block device) with go-diskfs, read-only:
// hardbake seed's host data file (host.SeedHostFile) and user-data, each
// nil when absent. A volume with neither is an error.
func ReadSeed(file string) (seed *host.Seed, err error) {
	defer func() {
		// A malformed volume must not crash first boot.
		if r := recover(); r != nil {
			seed, err = nil, fmt.Errorf("seed %s: unreadable volume: %v", file, r)
		}
	}()
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if label := Label(f); !isSeedLabel(label) {
		return nil, fmt.Errorf("seed %s: volume label %q is not cidata or CIDATA", file, label)
	}
	fsys, err := openVolume(f)
	if err != nil {
		return nil, fmt.Errorf("seed %s: %w", file, err)
	}
	read := func(name string) ([]byte, error) {
		fi, err := fsys.Stat(name)
		if err != nil {
			return nil, nil // absent (go-diskfs's errors do not wrap fs.ErrNotExist)
		}
		if fi.Size() > maxUserData {
			return nil, fmt.Errorf("seed %s: %s is %d bytes; at most %d", file, name, fi.Size(), maxUserData)
		}
		data, err := fsys.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("seed %s: %s: %w", file, name, err)
		}
		// FAT pads nothing, ISO 9660 nothing either; a NUL tail would be a
		// broken writer, and the YAML parser refuses it anyway.
		return append([]byte{}, bytes.TrimRight(data, "\x00")...), nil
	}
	seed = &host.Seed{Source: "NoCloud seed " + file}
	if seed.HostData, err = read(host.SeedHostFile); err != nil {
		return nil, err
	}
	if seed.UserData, err = read("user-data"); err != nil {
		return nil, err
	}
	if seed.HostData == nil && seed.UserData == nil {
		return nil, fmt.Errorf("seed %s: neither %s nor user-data on the volume", file, host.SeedHostFile)
	}
	return seed, nil
}

// Lookup finds the live seed device and reads it: the function firstboot
// takes as host.Sources.Seed. No device: nil, no error.
func Lookup() (*host.Seed, error) {
	return lookup("/dev", "/sys")
}

func lookup(devDir, sysDir string) (*host.Seed, error) {
	dev, err := Find(devDir, sysDir)
	if err != nil || dev == "" {
		return nil, err
	}
	return ReadSeed(dev)
}

// FromImage reads a seed image file (--seed FILE).
func FromImage(file string) func() (*host.Seed, error) {
	return func() (*host.Seed, error) { return ReadSeed(file) }
}
