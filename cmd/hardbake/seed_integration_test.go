package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/firstboot"
	"github.com/hardbake/hardbake/internal/testroot"
)

// TestSeedPassesCloudInitSchema: the user-data `hardbake seed` writes is
// valid to Debian 13's own cloud-init (25.1) — a hardbake: key in user-data
// is not (cloud-init ≥ 23.4 warns and calls the boot degraded, so
// `cloud-init status --wait` exits 2), which is why the host data travels as
// hardbake.yaml beside it. firstboot then applies that file from the seed.
func TestSeedPassesCloudInitSchema(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("isoinfo"); err != nil {
		t.Skip("isoinfo not installed (make deps)")
	}
	dir := testroot.Debian(t, "trixie")
	work := t.TempDir()
	hostFile := filepath.Join(work, "host.yaml")
	writeFile(t, hostFile, hostYAML)
	iso := filepath.Join(work, "seed.iso")
	if r := hardbake(t, "seed", "--host", hostFile, "-o", iso); r.code != 0 {
		t.Fatalf("seed: exit %d\n%s", r.code, r.stderr)
	}
	ud, err := exec.Command("isoinfo", "-R", "-x", "/user-data", "-i", iso).Output()
	if err != nil {
		t.Fatal(err)
	}
	schema := func(name, text string) (string, error) {
		t.Helper()
		writeFile(t, filepath.Join(dir, "tmp", name), text)
		out, err := exec.Command("chroot", dir, "cloud-init", "schema", "--config-file", "/tmp/"+name).CombinedOutput()
		return string(out), err
	}
	if out, err := schema("seed-user-data", string(ud)); err != nil || !strings.Contains(out, "Valid schema") {
		t.Fatalf("cloud-init schema on hardbake seed's user-data: %v\n%s\n%s", err, out, ud)
	}
	keyed := "#cloud-config\nhardbake:\n" + indent(hostYAML)
	if out, err := schema("keyed-user-data", keyed); err == nil || !strings.Contains(out, "'hardbake' was unexpected") {
		t.Errorf("cloud-init %s accepts a hardbake: key now (%v):\n%s\nthe seed could carry it in user-data again", "25.1", err, out)
	}

	r := hardbake(t, "firstboot", "--root", dir, "--seed", iso, "--json")
	if r.code != 0 {
		t.Fatalf("firstboot: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	marker, _ := os.ReadFile(filepath.Join(dir, firstboot.Marker))
	if !strings.Contains(string(marker), "hardbake.yaml") {
		t.Errorf("marker does not name the seed's hardbake.yaml as the source:\n%s", marker)
	}
	wantSSHD(t, sshdT(t, dir), map[string]string{"addressfamily": "inet", "port": "2222"})
}
