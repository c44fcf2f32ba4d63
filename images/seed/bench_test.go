package seed

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkSeedISO and BenchmarkCloudLocalds make the same NoCloud ISO
// (same user-data and meta-data) with hardbake and with cloud-localds
// (cloud-image-utils, which runs genisoimage).
func BenchmarkSeedISO(b *testing.B) {
	s := build(b, Input{})
	out := filepath.Join(b.TempDir(), "seed.iso")
	for b.Loop() {
		if err := Write(out, FormatISO, s.Contents); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeedVFAT(b *testing.B) {
	s := build(b, Input{})
	out := filepath.Join(b.TempDir(), "seed.img")
	for b.Loop() {
		if err := Write(out, FormatVFAT, s.Contents); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCloudLocalds(b *testing.B) {
	need(b, "cloud-localds")
	s := build(b, Input{})
	dir := b.TempDir()
	ud, md := filepath.Join(dir, "user-data"), filepath.Join(dir, "meta-data")
	os.WriteFile(ud, s.UserData, 0o644)
	os.WriteFile(md, s.MetaData, 0o644)
	out := filepath.Join(dir, "seed.iso")
	for b.Loop() {
		if o, err := exec.Command("cloud-localds", out, ud, md).CombinedOutput(); err != nil {
			b.Fatalf("cloud-localds: %v\n%s", err, o)
		}
	}
}
