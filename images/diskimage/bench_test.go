package diskimage

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/steps"
	"github.com/hardbake/hardbake/internal/testroot"
)

// BenchmarkAuditImage is a whole offline audit (open the image, find the
// root, detect the distribution, every check plus seal) of a 2 GiB sparse
// ext4 image of the cached Debian 12 root. Goal: under 1 s.
func BenchmarkAuditImage(b *testing.B) {
	dir := testroot.Debian(b, "bookworm")
	img := MkfsTree(b, dir, filepath.Join(b.TempDir(), "debian.raw"), 2048)
	all, err := steps.Select([]string{"ssh", "updates", "services", "fail2ban", "firewall", "firstboot", "seal"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		im, err := Open(img, 0)
		if err != nil {
			b.Fatal(err)
		}
		d, err := distro.Detect(im.Root)
		if err != nil {
			b.Fatal(err)
		}
		env := &steps.Env{Root: im.Root, Distro: d, Profile: profile.Default()}
		rep, _ := steps.Run(context.Background(), env, steps.ModeAudit, all)
		if len(rep.Steps) != len(all) || len(im.Faults()) > 0 {
			b.Fatalf("steps %d, faults %v", len(rep.Steps), im.Faults())
		}
		im.Close()
	}
}
