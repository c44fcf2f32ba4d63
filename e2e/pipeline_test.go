package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/internal/vm"
)

// TestPipeline builds the golden image once per suite with packer and
// checks it from outside; see the package doc.
func TestPipeline(t *testing.T) {
	if !enabled() {
		t.Skip("end-to-end: one packer build and two QEMU boots per suite under TCG (~10 min): set HARDBAKE_E2E=1 (make e2e)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("e2e needs root: the base image is made from an mmdebstrap root")
	}
	suites := strings.Fields(os.Getenv("HARDBAKE_E2E_SUITES"))
	if len(suites) == 0 {
		suites = []string{"bookworm"}
	}
	for _, suite := range suites {
		t.Run(suite, func(t *testing.T) { testSuite(t, suite) })
	}
}

// env is one suite's run: the work directory of scripts/pipeline.sh.
type env struct {
	repo, suite, work string
	image             string // work/image: disk.raw, vmlinuz, initrd.img
	firstboot         bool   // the bake installs hardbake firstboot
	numbers           []string
	lynisAfter        *lynisResult // HARDBAKE_E2E_LYNIS=1: the hardened image's Lynis run
}

func (e *env) number(t *testing.T, format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	e.numbers = append(e.numbers, s)
	t.Logf("number: %s", s)
}

func testSuite(t *testing.T, suite string) {
	e := &env{repo: repoRoot(t), suite: suite, work: t.TempDir()}
	e.image = filepath.Join(e.work, "image")
	for _, b := range []string{"bin/hardbake", "bin/packer-plugin-hardbake"} {
		if _, err := os.Stat(filepath.Join(e.repo, b)); err != nil {
			t.Fatalf("%s missing: run make build first (make e2e does)", b)
		}
	}
	e.firstboot = hardbakeHas(t, e.repo, "hardbake firstboot")
	defer func() {
		t.Logf("numbers for %s:\n  %s", suite, strings.Join(e.numbers, "\n  "))
	}()

	// The one packer build of the suite.
	start := time.Now()
	cacheDir := goldenCacheDir(t, e.repo, suite)
	built := check(t, "packer build of examples/packer/debian-12.pkr.hcl finishes after sealing", func(t *testing.T) {
		cmd := exec.Command("bash", filepath.Join(e.repo, "scripts/pipeline.sh"), "build", e.work)
		cmd.Dir = e.repo
		cmd.Env = append(os.Environ(), "SUITE="+suite)
		if err := runLogged(t, cmd, filepath.Join(e.work, "pipeline-build.log")); err != nil {
			t.Fatalf("scripts/pipeline.sh build: %v", err)
		}
		log, _ := os.ReadFile(filepath.Join(e.work, "packer-build.log"))
		// The build only finishes when Packer's session lived through the
		// seal: the shutdown command runs over it after the provisioner.
		for _, want := range []string{"hardbake: done", "Gracefully halting virtual machine", "Build 'qemu.debian' finished"} {
			if !strings.Contains(string(log), want) {
				t.Errorf("packer build log lacks %q", want)
			}
		}
		// The seal renamed the image localhost and dropped the build
		// machine's 127.0.1.1 line; the running machine took the name too,
		// so the shutdown command's sudo still resolves it.
		if i := strings.Index(string(log), "unable to resolve host"); i >= 0 {
			t.Errorf("packer build log: sudo cannot resolve the host name after the seal: %q", string(log)[max(0, i-80):min(len(log), i+80)])
		}
		for _, f := range []string{"disk.raw", "vmlinuz", "initrd.img"} {
			if _, err := os.Stat(filepath.Join(e.image, f)); err != nil {
				t.Error(err)
			}
		}
		e.packerNumbers(t, string(log))
	})
	e.number(t, "pipeline build (base image from cache or not + packer build): %s", time.Since(start).Round(time.Second))
	if !built {
		t.Fatal("no image: the remaining checks need it")
	}
	storeGolden(t, e.repo, suite, e.work, cacheDir)

	check(t, "provisioner report_path: ok, every step ran", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(e.work, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		var rep report.Report
		if err := json.Unmarshal(data, &rep); err != nil {
			t.Fatal(err)
		}
		if !rep.OK || rep.Command != "bake" {
			t.Errorf("report: ok=%v command=%q error=%q", rep.OK, rep.Command, rep.Error)
		}
		var names []string
		for _, s := range rep.Steps {
			names = append(names, s.Name)
			if s.Error != "" {
				t.Errorf("step %s: %s", s.Name, s.Error)
			}
			for _, c := range s.Checks {
				if c.Failed() {
					t.Errorf("check %s: want %s, got %s", c.ID, c.Want, c.Got)
				}
			}
		}
		want := []string{"ssh", "updates", "services", "fail2ban", "firewall", "seal"}
		if e.firstboot {
			want = append(want, "firstboot")
		}
		for _, w := range want {
			if !slices.Contains(names, w) {
				t.Errorf("report has steps %v, lacks %s", names, w)
			}
		}
		t.Logf("report: %d change(s), steps %v", rep.Changed, names)
	})

	check(t, "hardbake audit --image passes offline on the built image", func(t *testing.T) {
		if !hardbakeHas(t, e.repo, "-image", "audit") {
			t.Skip("this hardbake has no audit --image yet")
		}
		out, err := exec.Command(filepath.Join(e.repo, "bin/hardbake"), "audit", "--image", filepath.Join(e.image, "disk.raw"),
			"--profile", e.profileFile(t, "image-profile.yaml", imageProfile)).CombinedOutput()
		t.Logf("%s", out)
		if err != nil {
			t.Fatalf("audit --image: %v", err)
		}
	})

	// Host data for alice: scripts/pipeline.sh seed writes it and the seed.
	cmd := exec.Command("bash", filepath.Join(e.repo, "scripts/pipeline.sh"), "seed", e.work)
	cmd.Dir = e.repo
	if err := runLogged(t, cmd, filepath.Join(e.work, "pipeline-seed.log")); err != nil {
		t.Fatalf("scripts/pipeline.sh seed: %v", err)
	}

	first := e.bootChecks(t)
	if lynisEnabled() {
		e.lynisHardened(t, first)
	}
	e.secondBoot(t, first)
	if e.firstboot {
		e.powerCut(t)
	}
	if lynisEnabled() {
		e.lynisBase(t)
	}
}

// packerNumbers reads durations out of the -timestamp-ui build log.
func (e *env) packerNumbers(t *testing.T, log string) {
	at := func(marker string) time.Time {
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, marker) {
				if ts, _, ok := strings.Cut(line, ": "); ok {
					if tm, err := time.Parse(time.RFC3339, ts); err == nil {
						return tm
					}
				}
			}
		}
		return time.Time{}
	}
	span := func(name, from, to string) {
		a, b := at(from), at(to)
		if !a.IsZero() && !b.IsZero() {
			e.number(t, "%s: %s", name, b.Sub(a))
		}
	}
	if data, err := os.ReadFile(filepath.Join(e.work, "packer-build.seconds")); err == nil {
		e.number(t, "packer build (wall): %s s", strings.TrimSpace(string(data)))
	}
	span("packer: build VM boot to SSH (cloud-init creates packer)", "Starting VM, booting disk image", "Connected to SSH!")
	span("packer: hardbake bake --seal in the build VM", "hardbake: running", "hardbake: done")
	span("packer: shutdown", "Gracefully halting virtual machine", "Build 'qemu.debian' finished")
}

// imageProfile is the profile the template bakes with (AIDE left out under
// TCG); hostProfile is it with the host's address family, which first boot
// applies over the image's ssh.address_family.
const (
	imageProfile = "ssh:\n  address_family: any\naudit:\n  aide: false\nseal:\n  remove_user: packer\n"
	hostProfile  = "ssh:\n  address_family: inet\naudit:\n  aide: false\nseal:\n  remove_user: packer\n"
)

func (e *env) profileFile(t *testing.T, name, content string) string {
	p := filepath.Join(e.work, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// boot starts the built image with -snapshot and alice's seed, with a second
// NIC (10.0.3.0/24) whose host forward is the attacker's way in, and waits
// for alice's SSH login.
type booted struct {
	v          *vm.VM
	c          *ssh.Client
	attackPort int
	httpPort   int
	hostKey    ssh.PublicKey
	machineID  string
	bootToSSH  time.Duration
}

func (e *env) boot(t *testing.T, name string) *booted {
	t.Helper()
	b := &booted{}
	var err error
	if b.attackPort, err = vm.FreePort(); err != nil {
		t.Fatal(err)
	}
	if b.httpPort, err = vm.FreePort(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// The VM lives until Stop (cleanup); QEMU dies with ctx.
	v, err := vm.Boot(context.Background(), vm.Options{
		Disk:          filepath.Join(e.image, "disk.raw"),
		Kernel:        filepath.Join(e.image, "vmlinuz"),
		Initrd:        filepath.Join(e.image, "initrd.img"),
		Seed:          filepath.Join(e.work, "seed.iso"),
		Snapshot:      true,
		AllowReboot:   true,
		SerialLog:     filepath.Join(e.work, name+"-serial.log"),
		ExtraForwards: map[int]int{b.httpPort: 8080},
		ExtraArgs: []string{
			"-netdev", fmt.Sprintf("user,id=net1,net=10.0.3.0/24,hostfwd=tcp:127.0.0.1:%d-10.0.3.15:22", b.attackPort),
			"-device", "virtio-net-pci,netdev=net1",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	b.v = v
	t.Cleanup(func() {
		if err := v.Stop(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			t.Logf("%s serial console (tail):\n%s", name, tail(v.SerialLog(), 60))
		}
	})
	// Boot to SSH takes about a minute under TCG; 8 min means it never comes.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	b.c, err = v.WaitSSH(ctx, "alice", loadKey(t, filepath.Join(e.work, "alice_key")))
	noteResets(t, v)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	b.bootToSSH = time.Since(start)
	b.hostKey = v.HostKey()
	e.number(t, "%s: boot of the sealed image to alice's SSH login: %s", name, b.bootToSSH.Round(100*time.Millisecond))
	out, _ := v.Run("timeout 600 systemctl is-system-running --wait; cloud-init status --wait --long 2>&1 | head -n 5; cat /etc/machine-id")
	t.Logf("%s: system state after %s:\n%s", name, time.Since(start).Round(time.Second), out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	b.machineID = lines[len(lines)-1]
	return b
}

func (e *env) bootChecks(t *testing.T) *booted {
	b := e.boot(t, "boot1")
	v := b.v
	key := filepath.Join(e.work, "alice_key")
	run := v.MustRun

	check(t, "alice logs in with her key (OpenSSH client)", func(t *testing.T) {
		out, err := openssh(key, v.SSHPort, "alice", nil, "id -un")
		if err != nil || strings.TrimSpace(out) != "alice" {
			t.Fatalf("ssh alice: %v: %q", err, out)
		}
	})
	check(t, "alice: sudo -n true", func(t *testing.T) {
		if out, err := openssh(key, v.SSHPort, "alice", nil, "sudo -n true"); err != nil {
			t.Fatalf("sudo -n true: %v: %s", err, out)
		}
	})
	check(t, "cloud-init finished clean (status done, not degraded; host data on the seed's hardbake.yaml)", func(t *testing.T) {
		// cloud-init >= 23.4 reports unknown user-data keys as a recoverable
		// error: status "degraded" and exit 2 from status --wait.
		out, err := v.Run("cloud-init status --wait --long")
		if err != nil || !strings.Contains(out, "status: done") {
			t.Fatalf("cloud-init status: %v\n%s", err, out)
		}
	})
	check(t, "no other admin: the sudo group holds only alice, no cloud default user", func(t *testing.T) {
		out, err := v.Run("getent group sudo; getent passwd debian; ls /etc/sudoers.d")
		if !strings.Contains(out, "sudo:x:27:alice\n") || strings.Contains(out, "debian:") || strings.Contains(out, "90-cloud-init-users") {
			t.Errorf("stray admin: %v\n%s", err, out)
		}
	})
	check(t, "the build user packer is gone", func(t *testing.T) {
		out, err := v.Run("getent passwd packer; ls -d /home/packer 2>&1; systemctl is-enabled hardbake-remove-build-user.service 2>&1")
		if strings.Contains(out, "packer:") || !strings.Contains(out, "No such file") {
			t.Errorf("packer still exists: %v\n%s", err, out)
		}
	})
	check(t, "root login refused even with an authorized key", func(t *testing.T) {
		// Give root alice's key without cloud-init's command= prefix, so
		// only sshd's PermitRootLogin stands in the way.
		run(t, "sudo -n install -d -m 700 /root/.ssh && sudo -n install -m 600 ~/.ssh/authorized_keys /root/.ssh/authorized_keys")
		out, err := openssh(key, v.SSHPort, "root", nil, "id -un")
		if err == nil || !strings.Contains(out, "Permission denied") {
			t.Fatalf("root login: %v: %q", err, out)
		}
	})
	check(t, "password and keyboard-interactive login refused: publickey only", func(t *testing.T) {
		out, err := openssh("", v.SSHPort, "alice", []string{"-o", "PubkeyAuthentication=no",
			"-o", "PreferredAuthentications=password,keyboard-interactive"}, "true")
		if err == nil || !strings.Contains(out, "Permission denied (publickey).") {
			t.Fatalf("want only publickey offered: %v: %q", err, out)
		}
	})
	check(t, "sshd -T: hardened values and the host's AddressFamily", func(t *testing.T) {
		checkHardenedSSHD(t, run(t, "sudo -n sshd -T"))
		// The running sshd honours it: IPv4 sockets only.
		ss := run(t, "ss -Hltn 'sport = :22'")
		if strings.Contains(ss, "[::]") || !strings.Contains(ss, "0.0.0.0:22") {
			t.Errorf("sshd listens on:\n%s", ss)
		}
	})
	check(t, "firewall: default deny (a listener on a forwarded port is unreachable, SSH is)", func(t *testing.T) {
		run(t, "setsid -f python3 -m http.server 8080 --bind 0.0.0.0 >/dev/null 2>&1 </dev/null")
		inside := ""
		for i := 0; i < 30; i++ {
			inside, _ = v.Run(`python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:8080/").status)'`)
			if strings.TrimSpace(inside) == "200" {
				break
			}
			time.Sleep(time.Second)
		}
		if strings.TrimSpace(inside) != "200" {
			t.Fatalf("the listener does not answer inside the VM: %s", inside)
		}
		if got, _ := vm.Banner(b.httpPort, "GET / HTTP/1.0\r\n\r\n", 15*time.Second); strings.HasPrefix(got, "HTTP/") {
			t.Errorf("port 8080 answered from outside: %q", got)
		}
		if got, err := vm.Banner(v.SSHPort, "", 30*time.Second); !strings.HasPrefix(got, "SSH-2.0-") {
			t.Errorf("SSH unreachable from outside: %q, %v", got, err)
		}
		t.Logf("ruleset:\n%s", run(t, "sudo -n nft list table inet hardbake"))
	})
	check(t, "fail2ban bans the attacking address; the checking session survives; unban", func(t *testing.T) {
		e.fail2ban(t, b, key)
	})
	check(t, "unattended-upgrades dry run: security origin only", func(t *testing.T) {
		out, err := v.Run("sudo -n unattended-upgrade --dry-run --debug 2>&1 | grep -m1 'Allowed origins are:'")
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		t.Logf("%s", strings.TrimSpace(out))
		_, list, _ := strings.Cut(out, "Allowed origins are:")
		origins := regexp.MustCompile(`origin=[^ ]*`).FindAllString(list, -1)
		if len(origins) == 0 {
			t.Fatalf("no origins in %q", out)
		}
		for _, o := range origins {
			if !strings.Contains(o, "-security") || !strings.Contains(o, "label=Debian-Security") {
				t.Errorf("origin %q is not the security archive", o)
			}
		}
	})
	check(t, "exim4 and rpcbind absent", func(t *testing.T) {
		out := run(t, "dpkg-query -W -f='${binary:Package} ${db:Status-Abbrev}\\n' 'exim4*' rpcbind 2>/dev/null | grep ' ii' || true; ss -Hltnu '( sport = :25 or sport = :111 )'")
		if out != "" {
			t.Errorf("still installed or listening:\n%s", out)
		}
	})
	check(t, "hardbake audit inside the VM passes", func(t *testing.T) {
		bin, err := os.ReadFile(filepath.Join(e.repo, "bin/hardbake"))
		if err != nil {
			t.Fatal(err)
		}
		prof := []byte(hostProfile)
		// Into alice's home: /tmp is mounted noexec in the hardened image.
		if err := upload(b.c, "hardbake", bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := upload(b.c, "audit-profile.yaml", prof, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := v.Run("sudo -n ./hardbake audit --profile audit-profile.yaml")
		t.Logf("%s", out)
		if err != nil {
			t.Fatalf("audit: %v", err)
		}
	})
	e.cisChecks(t, b)
	e.cryptoChecks(t, v.SSHPort, v.Run, key)
	if e.firstboot {
		e.firstbootChecks(t, b)
	}
	return b
}

// fail2ban attacks sshd through the second NIC (the guest sees 10.0.3.2) with
// the real OpenSSH client and an unknown user until the jail bans it, checks
// the ban from the first NIC's session (10.0.2.2), then unbans.
func (e *env) fail2ban(t *testing.T, b *booted, key string) {
	v := b.v
	const attacker = "10.0.3.2"
	if out, err := v.Run("sudo -n ip addr replace 10.0.3.15/24 dev eth1 && sudo -n ip link set eth1 up"); err != nil {
		t.Fatalf("second NIC: %v: %s", err, out)
	}
	var got string
	for i := 0; i < 20; i++ {
		if got, _ = vm.Banner(b.attackPort, "", 10*time.Second); strings.HasPrefix(got, "SSH-2.0-") {
			break
		}
		time.Sleep(time.Second)
	}
	if !strings.HasPrefix(got, "SSH-2.0-") {
		t.Fatalf("sshd not reachable through the second NIC: %q", got)
	}
	status := func() string {
		out, err := v.Run("sudo -n fail2ban-client status sshd")
		if err != nil {
			t.Fatalf("fail2ban-client status sshd: %v: %s", err, out)
		}
		return out
	}
	t.Logf("before:\n%s", status())
	mallory := filepath.Join(e.work, "mallory_key")
	if _, err := os.Stat(mallory); err != nil {
		newKeyFile(t, mallory)
	}
	banned := false
	attempts := 0
	for attempts < 15 && !banned {
		attempts++
		out, err := openssh(mallory, b.attackPort, "mallory", nil, "true")
		if err == nil {
			t.Fatalf("mallory logged in: %s", out)
		}
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) && !banned {
			banned = strings.Contains(status(), attacker)
			time.Sleep(500 * time.Millisecond)
		}
	}
	st := status()
	t.Logf("after %d attack connection(s):\n%s", attempts, st)
	if !banned {
		t.Fatalf("%s not banned after %d attempts", attacker, attempts)
	}
	if attempts < 2 {
		t.Errorf("banned after %d connection: expected the configured max_retry (5) failures first", attempts)
	}
	if got, _ := vm.Banner(b.attackPort, "", 10*time.Second); strings.HasPrefix(got, "SSH-2.0-") {
		t.Errorf("the banned address still reaches sshd: %q", got)
	}
	// The session on the first NIC lives on, and new logins from there work.
	if out, err := v.Run("id -un"); err != nil {
		t.Errorf("checking session broken by the ban: %v %s", err, out)
	}
	if out, err := openssh(key, v.SSHPort, "alice", nil, "true"); err != nil {
		t.Errorf("alice locked out by the attacker's ban: %v: %s", err, out)
	}
	if out, err := v.Run("sudo -n fail2ban-client set sshd unbanip " + attacker); err != nil {
		t.Fatalf("unban: %v: %s", err, out)
	}
	if strings.Contains(status(), attacker) {
		t.Errorf("%s still banned after unbanip", attacker)
	}
	if got, _ := vm.Banner(b.attackPort, "", 15*time.Second); !strings.HasPrefix(got, "SSH-2.0-") {
		t.Errorf("sshd unreachable from %s after the unban: %q", attacker, got)
	}
}

// firstbootChecks: hardbake-firstboot.service ran once, before ssh, and a
// reboot does not run it again.
func (e *env) firstbootChecks(t *testing.T, b *booted) {
	v := b.v
	check(t, "hardbake-firstboot.service succeeded, before ssh.service", func(t *testing.T) {
		fb, err := firstbootUnit(v.Run)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("hardbake-firstboot.service: %s", fb)
		if !fb.succeeded() {
			t.Errorf("hardbake-firstboot.service did not succeed: %s", fb)
		}
		if fb.ran() {
			e.number(t, "hardbake-firstboot.service in the booted image, start to exit (systemd's ExecMain timestamps): %s", fb.took())
		}
		var sshStart int64
		if s, err := v.Run("systemctl show -P ExecMainStartTimestampMonotonic ssh.service"); err == nil {
			fmt.Sscan(strings.TrimSpace(s), &sshStart)
		}
		if sshStart == 0 || fb.exit == 0 || fb.exit > time.Duration(sshStart)*time.Microsecond {
			t.Errorf("firstboot ended at %s, ssh started at %d µs after the kernel", fb.exit, sshStart)
		}
		j, _ := v.Run("sudo -n journalctl -b -o short-monotonic --no-pager -u hardbake-firstboot.service -u ssh.service | head -n 12")
		t.Logf("journal:\n%s", j)
		// hardbake's own account: when it had the host data and when it was done.
		if l, err := v.Run("sudo -n journalctl -b -o cat --no-pager -u hardbake-firstboot.service | grep -E '^firstboot: (host data from|done in)'"); err == nil {
			e.number(t, "hardbake firstboot's own timing in the booted image: %s", strings.Join(strings.Split(strings.TrimSpace(l), "\n"), "; "))
		}
		if ci, err := v.Run("sudo -n cloud-init analyze blame 2>/dev/null | grep -E 'config-(users_groups|users-groups|ssh)\\b' | head -n 4"); err == nil {
			e.number(t, "cloud-init modules in the same boot (cloud-init analyze blame): %s", strings.Join(strings.Fields(ci), " "))
		}
	})
	check(t, "a reboot does not run hardbake-firstboot again", func(t *testing.T) {
		if _, err := v.Run("sudo -n systemctl reboot"); err != nil {
			t.Logf("reboot: %v (the session ends with it)", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		time.Sleep(5 * time.Second)
		c, err := v.WaitSSH(ctx, "alice", loadKey(t, filepath.Join(e.work, "alice_key")))
		noteResets(t, v)
		if err != nil {
			t.Fatal(err)
		}
		b.c = c
		out, _ := v.Run("sudo -n journalctl --list-boots --no-pager | wc -l; systemctl show -P ExecMainStartTimestampMonotonic hardbake-firstboot.service")
		t.Logf("%s", out)
		f := strings.Fields(out)
		if len(f) != 2 || f[1] != "0" {
			t.Errorf("after a reboot: %q (want 2 boots, firstboot not started)", out)
		}
	})
}

// secondBoot boots the same sealed image again: a new machine must get its
// own host keys and machine-id.
func (e *env) secondBoot(t *testing.T, first *booted) {
	first.v.Stop()
	check(t, "two boots of the same sealed image: different host keys and machine-ids", func(t *testing.T) {
		second := e.boot(t, "boot2")
		idRE := regexp.MustCompile(`^[0-9a-f]{32}$`)
		if !idRE.MatchString(first.machineID) || !idRE.MatchString(second.machineID) {
			t.Fatalf("machine-ids %q, %q", first.machineID, second.machineID)
		}
		if first.machineID == second.machineID {
			t.Errorf("both boots have machine-id %s", first.machineID)
		}
		if string(first.hostKey.Marshal()) == string(second.hostKey.Marshal()) {
			t.Errorf("both boots present host key %s", ssh.FingerprintSHA256(first.hostKey))
		}
		t.Logf("boot1: %s %s; boot2: %s %s", first.machineID, ssh.FingerprintSHA256(first.hostKey),
			second.machineID, ssh.FingerprintSHA256(second.hostKey))
	})
}

// checkHardenedSSHD fails t unless `sshd -T` output shows the image
// profile's hardened values and the host data's address family.
func checkHardenedSSHD(t *testing.T, sshdTOutput string) {
	t.Helper()
	got := sshdT(sshdTOutput)
	for k, want := range map[string]string{
		"permitrootlogin": "no", "passwordauthentication": "no", "kbdinteractiveauthentication": "no",
		"pubkeyauthentication": "yes", "maxauthtries": "3", "logingracetime": "30", "x11forwarding": "no",
		"addressfamily": "inet",
	} {
		if len(got[k]) == 0 || got[k][0] != want {
			t.Errorf("sshd -T %s = %v, want %s", k, got[k], want)
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// noteResets says in the log when the harness had to reset a guest whose
// boot stalled (vm.Options.StallReset): a TCG kernel hang, not hardbake.
func noteResets(t *testing.T, v *vm.VM) {
	if n := v.Resets(); n > 0 {
		lines := strings.Split(strings.TrimRight(v.SerialLog(), "\n"), "\n")
		t.Logf("vm: the guest's console stalled before SSH came up; the harness reset it %d time(s); console tail:\n%s",
			n, strings.Join(lines[max(0, len(lines)-30):], "\n"))
	}
}
