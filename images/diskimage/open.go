package diskimage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	diskfile "github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/ext4"
	"github.com/hardbake/hardbake/bootstrap/root"
)

// Image is a disk image opened read-only, with its root filesystem.
type Image struct {
	File      string
	Partition Partition
	// Root serves the root filesystem to the steps (read-only).
	Root *root.Root
	FS   *FS
	f    *os.File
}

// Close releases the image file.
func (img *Image) Close() error { return img.f.Close() }

// Faults are the read errors met while auditing (see FS.Faults).
func (img *Image) Faults() []error { return img.FS.Faults() }

// Where names the image and partition for messages.
func (img *Image) Where() string { return where(img.File, img.Partition.Number) }

func where(file string, part int) string {
	if part == 0 {
		return file
	}
	return fmt.Sprintf("%s partition %d", file, part)
}

// Open opens file read-only and finds its root filesystem: the partition
// whose filesystem holds /etc/os-release, or partition (1-based) when it is
// not 0. It never writes to the file. Images it cannot read give an *Error
// wrapping ErrUnsupported, ErrMalformed or ErrNoRoot (all exit code 2).
func Open(file string, partition int) (img *Image, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, newErr(file, 0, ErrMalformed, "%v", err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = newErr(file, partition, ErrRead, "go-diskfs panicked: %v", r)
		}
		if err != nil {
			f.Close()
			img = nil
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return nil, newErr(file, 0, ErrMalformed, "%v", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, newErr(file, 0, ErrUnsupported, "not a regular file (%s): give a raw disk image file", fi.Mode().Type())
	}
	size := fi.Size()
	if size == 0 {
		return nil, newErr(file, 0, ErrMalformed, "is empty (0 bytes): not a disk image")
	}
	head := make([]byte, min(size, 4096))
	if _, err := f.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, newErr(file, 0, ErrMalformed, "%v", err)
	}
	if cf := containerFormat(head); cf != FormatRaw {
		return nil, newErr(file, 0, ErrUnsupported, "is a %s image; only raw images are read offline: convert it first with `qemu-img convert -O raw %s disk.raw`", cf, file)
	}
	parts, err := readPartitions(f, size)
	if err != nil {
		return nil, newErr(file, 0, ErrMalformed, "%v", err)
	}
	if partition != 0 {
		var chosen []Partition
		for _, p := range parts {
			if p.Number == partition {
				chosen = append(chosen, p)
			}
		}
		if len(chosen) == 0 {
			return nil, newErr(file, 0, ErrNoRoot, "has no partition %d (%s)", partition, listParts(parts))
		}
		parts = chosen
	}
	var found []string
	var firstErr error
	for _, p := range parts {
		e, fsName, perr := openPartition(f, file, size, p)
		if perr != nil {
			if firstErr == nil || (errors.Is(firstErr, ErrNoRoot) && !errors.Is(perr, ErrNoRoot)) {
				firstErr = perr
			}
			found = append(found, fmt.Sprintf("%d: %s", p.Number, fsName))
			continue
		}
		fsys := newFS(e, where(file, p.Number))
		r := root.ReadOnly(fsys)
		if r.Exists("/etc/os-release") || r.Exists("/usr/lib/os-release") {
			return &Image{File: file, Partition: p, Root: r, FS: fsys, f: f}, nil
		}
		if faults := fsys.Faults(); len(faults) > 0 {
			return nil, faults[0]
		}
		found = append(found, fmt.Sprintf("%d: %s without /etc/os-release", p.Number, fsName))
		if partition != 0 {
			return nil, newErr(file, p.Number, ErrNoRoot, "holds an ext4 filesystem without /etc/os-release: not a root filesystem")
		}
	}
	if firstErr != nil && (len(parts) == 1 || !errors.Is(firstErr, ErrNoRoot)) {
		return nil, firstErr
	}
	return nil, newErr(file, 0, ErrNoRoot, "no partition holds a root filesystem with /etc/os-release (%s); choose one with --partition N", strings.Join(found, "; "))
}

func listParts(parts []Partition) string {
	var s []string
	for _, p := range parts {
		if p.Number == 0 {
			return "it holds a bare filesystem: leave out --partition"
		}
		s = append(s, fmt.Sprint(p.Number))
	}
	return "partitions: " + strings.Join(s, ", ")
}

// openPartition refuses, with a reason, every filesystem go-diskfs would
// misread, and opens the rest. The second result names the filesystem.
func openPartition(f *os.File, file string, size int64, p Partition) (*ext4.FileSystem, string, error) {
	fail := func(kind error, format string, args ...any) (*ext4.FileSystem, string, error) {
		return nil, "", newErr(file, p.Number, kind, format, args...)
	}
	if p.Start >= size {
		return fail(ErrMalformed, "starts at byte %d, past the end of the image (%d bytes): the image is truncated", p.Start, size)
	}
	if p.Start+p.Size > size {
		return fail(ErrMalformed, "ends at byte %d, past the end of the image (%d bytes): the image is truncated", p.Start+p.Size, size)
	}
	head := make([]byte, min(p.Size, sniffLen))
	if _, err := f.ReadAt(head, p.Start); err != nil && err != io.EOF {
		return fail(ErrMalformed, "%v", err)
	}
	t := fsType(head)
	name := string(t)
	switch t {
	case FSXFS:
		return nil, "xfs", newErr(file, p.Number, ErrUnsupported, "holds XFS (the RHEL/Fedora default root): go-diskfs reads only ext4; audit it mounted with `hardbake audit --root DIR`")
	case FSBtrfs:
		return nil, "btrfs", newErr(file, p.Number, ErrUnsupported, "holds btrfs (the Fedora default root): go-diskfs reads only ext4; audit it mounted with `hardbake audit --root DIR`")
	case FSExt4:
	case FSUnknown:
		return nil, "unknown", newErr(file, p.Number, ErrNoRoot, "holds no filesystem hardbake recognizes")
	default:
		return nil, name, newErr(file, p.Number, ErrNoRoot, "holds %s, not a root filesystem", t)
	}
	in, ok := parseExt(head)
	switch {
	case !ok:
		return nil, "ext4", newErr(file, p.Number, ErrMalformed, "the ext4 superblock is invalid")
	case in.JournalDev:
		return nil, "ext4 journal", newErr(file, p.Number, ErrNoRoot, "is an external ext4 journal device")
	case !in.Extents:
		return nil, "ext2/ext3", newErr(file, p.Number, ErrUnsupported, "holds ext2/ext3 (no extents): go-diskfs reads only ext4")
	case !in.MetadataCsum:
		return nil, "ext4", newErr(file, p.Number, ErrUnsupported, "holds ext4 without metadata_csum (made by an old mke2fs or with -O ^metadata_csum): go-diskfs cannot read it; enable it on a copy with `tune2fs -O metadata_csum` (after `e2fsck -f`) or audit it mounted with `hardbake audit --root DIR`")
	case in.InlineData:
		return nil, "ext4", newErr(file, p.Number, ErrUnsupported, "holds ext4 with inline_data, which go-diskfs cannot read")
	case in.NeedsRecovery:
		return nil, "ext4", newErr(file, p.Number, ErrUnsupported, "holds ext4 with a dirty journal (needs_recovery: not cleanly unmounted); go-diskfs ignores the journal and would read stale files: run `e2fsck -fy` on a copy, or shut the machine down cleanly, then audit")
	case in.Size > uint64(p.Size):
		return nil, "ext4", newErr(file, p.Number, ErrMalformed, "the ext4 filesystem is %d bytes but its partition only %d: the image is truncated", in.Size, p.Size)
	}
	// The backend is read-only: go-diskfs corrupts ext4 it writes to.
	e, err := ext4.Read(diskfile.New(f, true), p.Size, p.Start, sector)
	if err != nil {
		return nil, "ext4", newErr(file, p.Number, ErrMalformed, "go-diskfs cannot read the ext4 filesystem: %v", err)
	}
	return e, "ext4", nil
}
