package diskimage

import (
	"encoding/binary"
	"errors"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap"
)

func copyFile(t *testing.T, src, dst string) string {
	t.Helper()
	sh(t, "cp", "--sparse=always", src, dst)
	return dst
}

func patch(t *testing.T, file string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// Every image go-diskfs cannot read (or nobody could) is refused with a
// message naming the file and partition and saying what to do: an error
// wrapping bootstrap.ErrInvalid (exit 2), never a panic or a wrong audit.
func TestMalformedImages(t *testing.T) {
	needTools(t, "debugfs", "sgdisk", "sfdisk")
	dir := t.TempDir()
	tree := smallTree(t)
	fsImg := MkfsTree(t, tree, filepath.Join(dir, "fs.img"), 16)
	gpt := filepath.Join(dir, "gpt.img")
	Partitioned(t, fsImg, TableGPT, gpt)

	cases := []struct {
		name string
		make func(out string)
		kind error
		msg  string
	}{
		{"zero-size file", func(out string) { os.WriteFile(out, nil, 0o644) }, ErrMalformed, "is empty (0 bytes)"},
		{"random bytes", func(out string) {
			b := make([]byte, 1<<20)
			rand.New(rand.NewSource(7)).Read(b)
			os.WriteFile(out, b, 0o644)
		}, ErrMalformed, "no partition table (GPT or MBR) and no filesystem"},
		{"qcow2", func(out string) {
			if _, err := exec.LookPath("qemu-img"); err == nil {
				sh(t, "qemu-img", "create", "-q", "-f", "qcow2", out, "1G")
			} else {
				os.WriteFile(out, append([]byte("QFI\xfb"), make([]byte, 4092)...), 0o644)
			}
		}, ErrUnsupported, "is a qcow2 image; only raw images are read offline: convert it first with `qemu-img convert -O raw"},
		{"truncated GPT image", func(out string) {
			copyFile(t, gpt, out)
			os.Truncate(out, rootStart+4<<20)
		}, ErrMalformed, "partition 2: ends at byte"},
		{"truncated bare filesystem", func(out string) {
			copyFile(t, fsImg, out)
			os.Truncate(out, 4<<20)
		}, ErrMalformed, "the image is truncated"},
		{"GPT header bad CRC", func(out string) {
			copyFile(t, gpt, out)
			patch(t, out, 512+56, []byte{0xff}) // a byte of the disk GUID
		}, ErrMalformed, "GPT header CRC32 is"},
		{"GPT entries bad CRC", func(out string) {
			copyFile(t, gpt, out)
			patch(t, out, 1024+56, []byte("x")) // partition 1's name
		}, ErrMalformed, "GPT partition entries CRC32 is"},
		{"XFS root", func(out string) {
			copyFile(t, gpt, out)
			patch(t, out, rootStart, append([]byte("XFSB"), make([]byte, 2048)...))
		}, ErrUnsupported, "partition 2: holds XFS"},
		{"btrfs root", func(out string) {
			copyFile(t, gpt, out)
			patch(t, out, rootStart, make([]byte, 4096))
			patch(t, out, rootStart+0x10040, []byte("_BHRfS_M"))
		}, ErrUnsupported, "partition 2: holds btrfs"},
		{"ext4 without metadata_csum", func(out string) {
			MkfsTree(t, tree, out, 16, "-O", "^metadata_csum")
		}, ErrUnsupported, "ext4 without metadata_csum"},
		{"ext2", func(out string) {
			MkfsTree(t, tree, out, 16, "-t", "ext2")
		}, ErrUnsupported, "ext2/ext3"},
		{"dirty journal", func(out string) {
			copyFile(t, fsImg, out)
			sh(t, "debugfs", "-w", "-R", "feature needs_recovery", out)
		}, ErrUnsupported, "dirty journal (needs_recovery"},
		{"no root filesystem", func(out string) {
			empty := t.TempDir()
			MkfsTree(t, empty, out, 16)
		}, ErrNoRoot, "no partition holds a root filesystem with /etc/os-release"},
		{"MBR without partitions", func(out string) {
			b := make([]byte, 1<<20)
			b[510], b[511] = 0x55, 0xaa
			os.WriteFile(out, b, 0o644)
		}, ErrMalformed, "the MBR lists no partitions"},
		{"partition past the end", func(out string) {
			b := make([]byte, 1<<20)
			b[510], b[511] = 0x55, 0xaa
			e := b[446:]
			e[4] = 0x83
			binary.LittleEndian.PutUint32(e[8:], 1<<30)
			binary.LittleEndian.PutUint32(e[12:], 100)
			os.WriteFile(out, b, 0o644)
		}, ErrMalformed, "partition 1: starts at byte"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "disk.raw")
			c.make(out)
			im, err := Open(out, 0)
			if err == nil {
				im.Close()
				t.Fatal("opened")
			}
			if !errors.Is(err, bootstrap.ErrInvalid) || !errors.Is(err, c.kind) {
				t.Errorf("error %v is not %v (exit 2)", err, c.kind)
			}
			if !strings.Contains(err.Error(), out) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q lacks the file name or %q", err, c.msg)
			}
		})
	}
	if _, err := Open(dir, 0); !errors.Is(err, ErrUnsupported) {
		t.Errorf("a directory: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing"), 0); !errors.Is(err, bootstrap.ErrInvalid) {
		t.Errorf("a missing file: %v", err)
	}
}
