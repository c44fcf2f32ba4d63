package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hardbake/hardbake/internal/baseimage"
	"github.com/hardbake/hardbake/internal/vm"
)

// BenchmarkBootToSudo is what a user waits for: power-on to the first
// successful `ssh alice@… sudo -n true`, on the base image (the Debian root
// the golden image is built from, with cloud-init) given alice by a
// cloud-init NoCloud seed, against the sealed golden image given alice by a
// `hardbake seed`. Both seeds make the same admin: account, key, NOPASSWD
// sudo rule. The golden image must not be slower.
//
// The two alternate (base, golden, golden, base, ...: neither always goes
// first while the machine's load drifts), $HARDBAKE_BENCH_BOOTS times each
// (default 3), one VM at a time, each boot fresh (-snapshot). The harness
// tries `ssh ... sudo -n true` with the real OpenSSH client every 200 ms
// from power-on (QEMU's start), so a number is at most one attempt late.
// Under TCG on a shared machine one image's boots swing with the host's
// load (from 32 s to 101 s for the same golden image in one run): compare
// the two medians of one run, whose boots alternate, never numbers of
// different runs.
//
// It reports each boot, the medians as metrics, and for the first boot of
// each image where the boot's time goes (systemd-analyze). Its lines go to
// stdout as they come (benchLog): `go test` keeps only ten lines of a
// benchmark's b.Log output.
//
// It needs HARDBAKE_E2E=1 and root (`make bench` sets it), and a golden
// image: $HARDBAKE_BENCH_GOLDEN, or the one TestPipeline filed in the cache
// for this bin/, or a new packer build (goldenImage).
func BenchmarkBootToSudo(b *testing.B) {
	if !enabled() {
		b.Skip("boots QEMU guests under TCG (minutes): set HARDBAKE_E2E=1 (make bench)")
	}
	if os.Geteuid() != 0 {
		b.Fatal("needs root: the base image is made from an mmdebstrap root")
	}
	suite := os.Getenv("HARDBAKE_BENCH_SUITE")
	if suite == "" {
		suite = "bookworm"
	}
	boots := 3
	if s := os.Getenv("HARDBAKE_BENCH_BOOTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("HARDBAKE_BENCH_BOOTS=%q: want a positive number", s)
		}
		boots = n
	}
	repo := repoRoot(b)
	// HARDBAKE_BENCH_GOLDEN: a golden image built elsewhere (a directory
	// with disk.raw, vmlinuz, initrd.img, e.g. make demo's image/).
	golden := os.Getenv("HARDBAKE_BENCH_GOLDEN")
	if golden == "" {
		golden = goldenImage(b, repo, suite)
	}
	if rep, err := os.ReadFile(filepath.Join(golden, "report.json")); err == nil {
		var r struct{ Version string }
		json.Unmarshal(rep, &r)
		benchLog("golden image %s: baked by hardbake %s", golden, r.Version)
	}
	base, err := baseimage.Build(suite, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	work := b.TempDir()
	// alice's key and the golden image's host data (hardbake seed), as the
	// e2e makes them.
	cmd := exec.Command("bash", filepath.Join(repo, "scripts/pipeline.sh"), "seed", work)
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("scripts/pipeline.sh seed: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(filepath.Join(work, "alice_key.pub"))
	if err != nil {
		b.Fatal(err)
	}
	baseSeed := filepath.Join(work, "base-seed.iso")
	if err := vm.MakeSeedISO(baseSeed, baseUserData(string(pub)), "instance-id: bench-base\nlocal-hostname: base\n", ""); err != nil {
		b.Fatal(err)
	}
	images := []benchImage{
		{name: "base", disk: base.Disk, kernel: base.Kernel, initrd: base.Initrd, seed: baseSeed},
		{name: "golden", disk: filepath.Join(golden, "disk.raw"), kernel: filepath.Join(golden, "vmlinuz"),
			initrd: filepath.Join(golden, "initrd.img"), seed: filepath.Join(work, "seed.iso")},
	}
	key := filepath.Join(work, "alice_key")
	took := map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for r := 0; r < boots; r++ {
			order := images
			if r%2 == 1 {
				order = []benchImage{images[1], images[0]}
			}
			for _, img := range order {
				d := img.bootToSudo(b, key, work, len(took[img.name])+1, r == 0)
				took[img.name] = append(took[img.name], d)
			}
		}
	}
	b.StopTimer()
	med := map[string]time.Duration{}
	for _, img := range images {
		med[img.name] = median(took[img.name])
		var each []string
		for _, d := range took[img.name] {
			each = append(each, d.Round(10*time.Millisecond).String())
		}
		benchLog("number: power-on to alice's `ssh ... sudo -n true`, %s image (%s): median %s of %d boots: %s",
			img.name, suite, med[img.name].Round(10*time.Millisecond), len(took[img.name]), strings.Join(each, " "))
		b.ReportMetric(med[img.name].Seconds(), img.name+"-median-s")
	}
	b.ReportMetric(0, "ns/op") // one op is all the boots: its time says nothing
	benchLog("number: golden/base median boot to sudo: %.3f", med["golden"].Seconds()/med["base"].Seconds())
	if med["golden"] > med["base"] {
		b.Errorf("the golden image reached alice's sudo later than the base image: median %s against %s (where the time goes: systemd-analyze above)",
			med["golden"].Round(10*time.Millisecond), med["base"].Round(10*time.Millisecond))
	}
}

// benchLog prints a line of the benchmark's log on stdout at once.
func benchLog(format string, args ...any) {
	fmt.Printf("bench: "+format+"\n", args...)
}

// baseUserData is cloud-init user-data giving the base image what the
// golden image's host data gives: alice, her key, a NOPASSWD sudo rule.
// Nothing else (cloud-init locks her password by default).
func baseUserData(pub string) string {
	return fmt.Sprintf("#cloud-config\nusers:\n"+
		"  - name: alice\n    shell: /bin/bash\n    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n"+
		"    ssh_authorized_keys:\n      - %s\n", strings.TrimSpace(pub))
}

// benchImage is one image of the benchmark with the seed that gives it alice.
type benchImage struct {
	name, disk, kernel, initrd, seed string
}

// sshPoll is the interval of the login attempts from power-on.
const sshPoll = 200 * time.Millisecond

// bootToSudo boots img fresh and returns the time from QEMU's start to the
// first `ssh alice@127.0.0.1 sudo -n true` that succeeds. With describe it
// then logs where the boot's time went.
func (img benchImage) bootToSudo(b *testing.B, key, work string, n int, describe bool) time.Duration {
	b.Helper()
	start := time.Now()
	v, err := vm.Boot(context.Background(), vm.Options{
		Disk: img.disk, Kernel: img.kernel, Initrd: img.initrd, Seed: img.seed,
		Snapshot:  true,
		SerialLog: filepath.Join(work, fmt.Sprintf("%s-%d-serial.log", img.name, n)),
	})
	if err != nil {
		b.Fatal(err)
	}
	// -snapshot: nothing on the disk is kept, so no clean shutdown is owed.
	defer v.Kill()
	attempts := 0
	var took time.Duration
	for {
		attempts++
		// A shorter ConnectTimeout than openssh's: a guest that accepts
		// and stalls must not hold the next attempt back for long.
		out, err := openssh(key, v.SSHPort, "alice", []string{"-o", "ConnectTimeout=10"}, "sudo -n true")
		if err == nil {
			took = time.Since(start)
			break
		}
		if v.Exited() || time.Since(start) > 8*time.Minute {
			b.Fatalf("%s boot %d: no `sudo -n true` as alice after %s (%d attempts; last: %v: %s)\nserial console tail:\n%s",
				img.name, n, time.Since(start).Round(time.Second), attempts, err, strings.TrimSpace(out), tail(v.SerialLog(), 40))
		}
		// The next attempt starts on the next multiple of sshPoll after
		// power-on, however long this one took.
		time.Sleep(time.Until(start.Add(time.Since(start).Truncate(sshPoll) + sshPoll)))
	}
	benchLog("%s boot %d: power-on to alice's sudo -n true over ssh: %s (%d attempts)", img.name, n, took.Round(10*time.Millisecond), attempts)
	if describe {
		run := func(cmd string) (string, error) { return openssh(key, v.SSHPort, "alice", nil, cmd) }
		out, _ := run("timeout 300 systemctl is-system-running --wait; systemd-analyze time; " +
			"systemd-analyze blame --no-pager | head -n 15; systemd-analyze critical-chain --no-pager ssh.service")
		benchLog("%s boot %d: where the boot's time goes:\n%s", img.name, n, out)
		if img.name == "golden" {
			if fb, err := firstbootUnit(run); err == nil {
				benchLog("golden boot %d: hardbake-firstboot.service: %s", n, fb)
			}
		} else {
			ci, _ := run("sudo -n cloud-init analyze blame 2>/dev/null | head -n 12")
			benchLog("base boot %d: cloud-init analyze blame:\n%s", n, ci)
		}
	}
	return took
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
