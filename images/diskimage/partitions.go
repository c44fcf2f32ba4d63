package diskimage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// sector is the logical sector size of raw images (GPT LBAs, MBR offsets).
const sector = 512

// Partition is one partition of a disk image, or the whole image when it
// holds a bare filesystem (Number 0).
type Partition struct {
	Number int // 1-based table index as Linux numbers it; 0: whole image
	Start  int64
	Size   int64
	Table  string // "gpt", "mbr" or "" (bare filesystem)
}

// Table kinds.
const (
	TableGPT = "gpt"
	TableMBR = "mbr"
)

// readPartitions finds the partition table (GPT or MBR) or a bare
// filesystem. It reads through r only, checks every offset against size and
// never panics: it is the fuzz target's subject.
func readPartitions(r io.ReaderAt, size int64) ([]Partition, error) {
	head := make([]byte, min(size, sniffLen))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, err
	}
	if fsType(head) != FSUnknown && fsType(head) != FSVFAT {
		return []Partition{{Number: 0, Start: 0, Size: size}}, nil
	}
	if len(head) < sector || head[510] != 0x55 || head[511] != 0xaa {
		if fsType(head) == FSVFAT {
			return []Partition{{Number: 0, Start: 0, Size: size}}, nil
		}
		return nil, fmt.Errorf("no partition table (GPT or MBR) and no filesystem found at its start: not a raw disk image")
	}
	mbr := parseMBR(head)
	for _, p := range mbr {
		if p.typ == 0xee {
			return readGPT(r, size)
		}
	}
	if fsType(head) == FSVFAT { // a FAT boot sector also ends in 55 AA
		return []Partition{{Number: 0, Start: 0, Size: size}}, nil
	}
	var out []Partition
	for _, p := range mbr {
		if p.typ == 0 || p.sectors == 0 {
			continue
		}
		switch p.typ {
		case 0x05, 0x0f, 0x85:
			continue // extended: logical partitions are not followed
		}
		out = append(out, Partition{Number: p.num, Start: int64(p.lba) * sector, Size: int64(p.sectors) * sector, Table: TableMBR})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the MBR lists no partitions")
	}
	return out, nil
}

type mbrEntry struct {
	num          int
	typ          byte
	lba, sectors uint32
}

func parseMBR(b []byte) []mbrEntry {
	var out []mbrEntry
	for i := 0; i < 4; i++ {
		e := b[446+16*i:]
		out = append(out, mbrEntry{num: i + 1, typ: e[4], lba: binary.LittleEndian.Uint32(e[8:]), sectors: binary.LittleEndian.Uint32(e[12:])})
	}
	return out
}

// readGPT reads the primary GPT header at LBA 1 and its entries, checking
// both CRC32s as firmware and the kernel do. A bad CRC is an error: the
// backup header is not tried, since a half-written table is worth knowing.
func readGPT(r io.ReaderAt, size int64) ([]Partition, error) {
	if size < 2*sector {
		return nil, fmt.Errorf("protective MBR but the image ends before the GPT header: truncated")
	}
	h := make([]byte, sector)
	if _, err := r.ReadAt(h, sector); err != nil && err != io.EOF {
		return nil, err
	}
	if !bytes.Equal(h[:8], []byte("EFI PART")) {
		return nil, fmt.Errorf("protective MBR but no GPT header (\"EFI PART\") at LBA 1")
	}
	hsize := binary.LittleEndian.Uint32(h[12:])
	if hsize < 92 || hsize > sector {
		return nil, fmt.Errorf("GPT header size %d is invalid", hsize)
	}
	want := binary.LittleEndian.Uint32(h[16:])
	hc := append([]byte{}, h[:hsize]...)
	binary.LittleEndian.PutUint32(hc[16:], 0)
	if got := crc32.ChecksumIEEE(hc); got != want {
		return nil, fmt.Errorf("GPT header CRC32 is %08x, the header says %08x: the partition table is corrupt", got, want)
	}
	entriesLBA := binary.LittleEndian.Uint64(h[72:])
	n := binary.LittleEndian.Uint32(h[80:])
	esize := binary.LittleEndian.Uint32(h[84:])
	if esize < 128 || esize > 4096 || esize%8 != 0 || n == 0 || n > 1024 {
		return nil, fmt.Errorf("GPT lists %d entries of %d bytes: invalid", n, esize)
	}
	total := int64(n) * int64(esize)
	if entriesLBA > uint64(size/sector) || int64(entriesLBA)*sector+total > size {
		return nil, fmt.Errorf("GPT entries at LBA %d lie past the end of the image: truncated", entriesLBA)
	}
	entries := make([]byte, total)
	if _, err := r.ReadAt(entries, int64(entriesLBA)*sector); err != nil && err != io.EOF {
		return nil, err
	}
	if got, want := crc32.ChecksumIEEE(entries), binary.LittleEndian.Uint32(h[88:]); got != want {
		return nil, fmt.Errorf("GPT partition entries CRC32 is %08x, the header says %08x: the partition table is corrupt", got, want)
	}
	var out []Partition
	for i := 0; i < int(n); i++ {
		e := entries[i*int(esize):]
		if bytes.Equal(e[:16], make([]byte, 16)) {
			continue
		}
		first, last := binary.LittleEndian.Uint64(e[32:]), binary.LittleEndian.Uint64(e[40:])
		if last < first || last >= 1<<54 {
			return nil, fmt.Errorf("GPT entry %d spans LBA %d-%d: invalid", i+1, first, last)
		}
		out = append(out, Partition{Number: i + 1, Start: int64(first) * sector, Size: int64(last-first+1) * sector, Table: TableGPT})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the GPT lists no partitions")
	}
	return out, nil
}
