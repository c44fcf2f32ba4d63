package diskimage

import (
	"bytes"
	"encoding/binary"
)

// Format is what the first bytes of an image say it is.
type Format string

// Image containers hardbake cannot read directly (raw only).
const (
	FormatRaw   Format = "raw"
	FormatQcow2 Format = "qcow2"
	FormatVMDK  Format = "vmdk"
	FormatVHDX  Format = "vhdx"
	FormatVDI   Format = "vdi"
)

// containerFormat recognizes image containers by their magic.
func containerFormat(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, []byte("QFI\xfb")):
		return FormatQcow2
	case bytes.HasPrefix(head, []byte("KDMV")), bytes.HasPrefix(head, []byte("# Disk DescriptorFile")):
		return FormatVMDK
	case bytes.HasPrefix(head, []byte("vhdxfile")):
		return FormatVHDX
	case len(head) >= 0x44 && binary.LittleEndian.Uint32(head[0x40:]) == 0xbeda107f:
		return FormatVDI
	}
	return FormatRaw
}

// FSType is what a filesystem's superblock magic says it is.
type FSType string

// Filesystems hardbake recognizes on a partition.
const (
	FSExt4    FSType = "ext4" // ext2/3/4: the feature flags tell them apart
	FSXFS     FSType = "xfs"
	FSBtrfs   FSType = "btrfs"
	FSVFAT    FSType = "vfat"
	FSSwap    FSType = "swap"
	FSUnknown FSType = ""
)

// sniffLen is how many bytes of a partition fsType needs.
const sniffLen = 0x10040 + 8

// fsType looks at the start of a partition (at least 4 KiB; btrfs's magic
// is at 64 KiB + 64 and is only seen when head is that long).
func fsType(head []byte) FSType {
	switch {
	case len(head) >= 0x43a && binary.LittleEndian.Uint16(head[0x438:]) == 0xef53:
		return FSExt4
	case bytes.HasPrefix(head, []byte("XFSB")):
		return FSXFS
	case len(head) >= 0x10048 && bytes.Equal(head[0x10040:0x10048], []byte("_BHRfS_M")):
		return FSBtrfs
	case len(head) >= 0x1000 && (bytes.Equal(head[0xff6:0x1000], []byte("SWAPSPACE2")) || bytes.Equal(head[0xff6:0x1000], []byte("SWAP-SPACE"))):
		return FSSwap
	case len(head) >= 512 && head[510] == 0x55 && head[511] == 0xaa &&
		(bytes.Equal(head[0x52:0x57], []byte("FAT32")) || bytes.Equal(head[0x36:0x39], []byte("FAT"))):
		return FSVFAT
	}
	return FSUnknown
}

// ext4 superblock fields (the superblock is at byte 1024 of the filesystem).
const (
	extSuper = 1024

	incompatRecover    = 0x4
	incompatJournalDev = 0x8
	incompatExtents    = 0x40
	incompat64bit      = 0x80
	incompatInlineData = 0x8000
	roCompatMetaCsum   = 0x400
)

// extInfo is what the superblock says about an ext filesystem.
type extInfo struct {
	Size                         uint64 // bytes the filesystem spans
	Extents, MetadataCsum, Bit64 bool
	NeedsRecovery, InlineData    bool
	JournalDev                   bool
	BlockSize                    uint64
}

// parseExt reads the ext superblock from the first 2 KiB of a partition.
func parseExt(head []byte) (extInfo, bool) {
	if len(head) < extSuper+0x160 {
		return extInfo{}, false
	}
	sb := head[extSuper:]
	if binary.LittleEndian.Uint16(sb[0x38:]) != 0xef53 {
		return extInfo{}, false
	}
	logBlock := binary.LittleEndian.Uint32(sb[0x18:])
	if logBlock > 6 { // 1 KiB << 6 = 64 KiB, the largest ext4 block
		return extInfo{}, false
	}
	incompat := binary.LittleEndian.Uint32(sb[0x60:])
	roCompat := binary.LittleEndian.Uint32(sb[0x64:])
	in := extInfo{
		BlockSize:     1024 << logBlock,
		Extents:       incompat&incompatExtents != 0,
		Bit64:         incompat&incompat64bit != 0,
		NeedsRecovery: incompat&incompatRecover != 0,
		InlineData:    incompat&incompatInlineData != 0,
		JournalDev:    incompat&incompatJournalDev != 0,
		MetadataCsum:  roCompat&roCompatMetaCsum != 0,
	}
	blocks := uint64(binary.LittleEndian.Uint32(sb[0x4:]))
	if in.Bit64 {
		blocks |= uint64(binary.LittleEndian.Uint32(sb[0x150:])) << 32
	}
	if blocks > (1<<63)/in.BlockSize {
		return extInfo{}, false
	}
	in.Size = blocks * in.BlockSize
	return in, true
}
