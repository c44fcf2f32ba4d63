package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/steps"
	"github.com/hardbake/hardbake/internal/testroot"
)

// imageOf makes a GPT disk (root on partition 2 behind an empty EFI-typed
// partition) or an MBR disk from a root tree: mkfs.ext4 -d, the partition
// table with sgdisk/sfdisk, the filesystem copied to its offset with dd.
func imageOf(t *testing.T, dir, table string) string {
	t.Helper()
	out := t.TempDir()
	fsImg := filepath.Join(out, "fs.img")
	run := func(name string, args ...string) {
		t.Helper()
		if b, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, b)
		}
	}
	run("truncate", "-s", "2G", fsImg)
	run("mkfs.ext4", "-q", "-F", "-d", dir, fsImg)
	disk := filepath.Join(out, table+".raw")
	run("truncate", "-s", fmt.Sprint(2<<30+4<<20), disk)
	switch table {
	case "gpt":
		run("sgdisk", "-n", "1:2048:4095", "-t", "1:ef00", "-n", fmt.Sprintf("2:4096:%d", 4096+(2<<30)/512-1), disk)
	case "mbr":
		cmd := exec.Command("sfdisk", "-q", disk)
		cmd.Stdin = strings.NewReader(fmt.Sprintf("label: dos\n4096,%d,83\n", (2<<30)/512))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sfdisk: %v\n%s", err, b)
		}
	}
	run("dd", "if="+fsImg, "of="+disk, "bs=1M", "seek=2", "conv=notrunc,sparse", "status=none")
	os.Remove(fsImg)
	return disk
}

func checksByID(rep report.Report) map[string]report.Check {
	m := map[string]report.Check{}
	for _, s := range rep.Steps {
		for _, c := range s.Checks {
			m[c.ID] = c
		}
	}
	return m
}

// auditBoth audits the tree with --root and its disk images with --image
// and requires the same verdict and value for every check both ran.
func auditBoth(t *testing.T, dir, prof string, disks []string) (code int, checks map[string]report.Check) {
	t.Helper()
	// The steps audit --image judges by default (imageSteps and seal),
	// judged with --root too.
	only := strings.Join(append(append([]string{}, imageSteps...), "seal"), ",")
	rr := hardbake(t, "audit", "--root", dir, "--profile", prof, "--only", only, "--json")
	want := checksByID(rr.report(t))
	for _, disk := range disks {
		start := time.Now()
		r := hardbake(t, "audit", "--image", disk, "--profile", prof, "--json")
		t.Logf("audit --image %s: exit %d in %s", filepath.Base(disk), r.code, time.Since(start).Round(time.Millisecond))
		if r.code != rr.code {
			t.Errorf("%s: exit %d, audit --root exit %d\n%s", disk, r.code, rr.code, r.stderr)
		}
		got := checksByID(r.report(t))
		shared := 0
		for id, g := range got {
			w, ok := want[id]
			if !ok {
				t.Errorf("%s: check %s only offline", disk, id)
				continue
			}
			shared++
			// Offline, an algorithm list no file sets is sshd's compiled-in
			// default, which only the binary knows: the verdict must agree.
			sameValue := g.Got == w.Got || (strings.EqualFold(g.Got, steps.OfflineUnset) && w.Got != "")
			if g.OK != w.OK || !sameValue {
				t.Errorf("%s: %s: offline ok=%v got %q; --root ok=%v got %q", disk, id, g.OK, g.Got, w.OK, w.Got)
			}
		}
		for id := range want {
			// Only these need the target's own binaries (fail2ban-client -t).
			if _, ok := got[id]; !ok && id != "fail2ban.config_test" {
				t.Errorf("%s: check %s missing offline", disk, id)
			}
		}
		if shared < 25 {
			t.Errorf("%s: only %d shared checks", disk, shared)
		}
		checks = got
	}
	return rr.code, checks
}

func TestAuditImageDebian(t *testing.T) {
	if testing.Short() {
		t.Skip("real mmdebstrap roots and the Debian mirror: not in -short")
	}
	for _, tool := range []string{"mkfs.ext4", "sgdisk", "sfdisk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s missing (make deps)", tool)
		}
	}
	dir := testroot.Debian(t, "bookworm")
	// Without AIDE (minutes of package scripts in a chroot): TestCIS and the
	// e2e suite, whose audit --image reads a golden image with it, cover it.
	prof := filepath.Join(t.TempDir(), "profile.yaml")
	writeFile(t, prof, "audit:\n  aide: false\n")

	// Unbaked: exit 1 with the findings a fresh Debian has.
	code, checks := auditBoth(t, dir, prof, []string{imageOf(t, dir, "gpt"), imageOf(t, dir, "mbr")})
	if code != 1 {
		t.Fatalf("unbaked: exit %d", code)
	}
	for _, id := range []string{"ssh.passwordauthentication", "ssh.permitrootlogin", "updates.package", "fail2ban.packages",
		"firewall.ruleset", "firewall.enabled_at_boot", "services.unwanted_installed", "seal.ssh_host_keys"} {
		if c, ok := checks[id]; !ok || c.OK {
			t.Errorf("unbaked: %s = %+v, want a failure", id, c)
		}
	}
	if c := checks["ssh.passwordauthentication"]; c.Detail != "computed from the files" {
		t.Errorf("offline sshd settings from %q", c.Detail)
	}

	// Baked and sealed: everything passes, offline as with --root.
	if r := hardbake(t, "bake", "--root", dir, "--seal", "--profile", prof); r.code != 0 {
		t.Fatalf("bake: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	code, checks = auditBoth(t, dir, prof, []string{imageOf(t, dir, "gpt"), imageOf(t, dir, "mbr")})
	if code != 0 {
		for id, c := range checks {
			if !c.OK {
				t.Errorf("baked: %s: want %s, got %s", id, c.Want, c.Got)
			}
		}
		t.Fatalf("baked: exit %d", code)
	}
	for _, id := range []string{"firewall.enabled_at_boot", "fail2ban.sshd_ports", "updates.periodic", "seal.ssh_host_keys", "seal.machine_id", "seal.shell_history", "firstboot.enabled"} {
		if !checks[id].OK {
			t.Errorf("baked: %s not ok", id)
		}
	}

	// Bad images: exit 2 with the reason, never a panic.
	bad := filepath.Join(t.TempDir(), "disk.qcow2")
	os.WriteFile(bad, append([]byte("QFI\xfb"), make([]byte, 4096)...), 0o644)
	if r := hardbake(t, "audit", "--image", bad); r.code != 2 || !strings.Contains(r.stderr, "qemu-img convert -O raw") {
		t.Errorf("qcow2: exit %d: %s", r.code, r.stderr)
	}
	if r := hardbake(t, "audit", "--image", bad, "--root", dir); r.code != 2 {
		t.Errorf("--root with --image: exit %d", r.code)
	}
}
