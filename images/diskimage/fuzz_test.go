package diskimage

import (
	"bytes"
	"testing"
)

// FuzzHeaders feeds arbitrary image headers to the parsers (container
// magic, MBR, GPT with its CRCs, filesystem magic, the ext4 superblock) and
// check that a partition lies inside the image: they must return an error
// or a result, never panic. (Open itself is not fuzzed: it needs a file per
// input; TestMalformedImages covers it on real broken images.) Seeds in
// testdata/fuzz/FuzzHeaders are the first 20 KiB of real images made by
// mkfs.ext4, sgdisk and sfdisk, plus qcow2 and XFS headers.
func FuzzHeaders(f *testing.F) {
	f.Add([]byte{})
	f.Add(append([]byte("QFI\xfb"), make([]byte, 100)...))
	f.Fuzz(func(t *testing.T, head []byte) {
		r := bytes.NewReader(head)
		parts, err := readPartitions(r, int64(len(head)))
		if err == nil && len(parts) == 0 {
			t.Fatal("no error and no partitions")
		}
		for _, p := range parts {
			if p.Start < 0 || p.Size <= 0 {
				t.Fatalf("partition %d: start %d size %d", p.Number, p.Start, p.Size)
			}
		}
		fsType(head)
		parseExt(head)
		containerFormat(head)

	})
}
