package main

// The SysV path booted: a Debian 12 root with sysvinit-core baked with
// `hardbake bake --root --seal`, given host data for its first boot, made
// into a disk image and booted in QEMU (TCG), then judged over SSH by the
// guest's own tools.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/hardbake/hardbake/internal/testroot"
	"github.com/hardbake/hardbake/internal/vm"
)

const (
	// sysvBakeProfile is what the image is baked with; sysvHostProfile is
	// it with the address family the host data sets at first boot.
	// AIDE is left out: its package scripts alone take minutes in a
	// chroot (ucf for ~200 files) and this test is about the init system;
	// TestCIS and the e2e suite bake with it.
	sysvBakeProfile = "ssh:\n  address_family: any\naudit:\n  aide: false\n"
	sysvHostProfile = "ssh:\n  address_family: inet\naudit:\n  aide: false\n"
)

// TestSysVBoot bakes the SysV root (scripts/build-root-sysv.sh) offline,
// boots it and checks every step's result in the running system: SysV is
// PID 1, first boot ran before sshd, sshd is hardened, the firewall was
// loaded at boot by hardbake's init script, fail2ban follows the syslog
// file and bans, and `hardbake audit` passes inside the VM.
// Not in -short; skips without root, QEMU or mkfs.ext4. Under TCG on two
// busy cores the bake takes minutes (apt from the Debian mirror) and the
// boot about a minute: every wait is generous and nothing asserts a time.
func TestSysVBoot(t *testing.T) {
	requireRoot(t)
	for _, tool := range []string{"qemu-system-x86_64", "mkfs.ext4"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s missing (make deps)", tool)
		}
	}
	dir := testroot.DebianSysV(t)

	// Bake offline, sealed, like an image pipeline would.
	prof := filepath.Join(t.TempDir(), "profile.yaml")
	writeFile(t, prof, sysvBakeProfile)
	start := time.Now()
	r := hardbake(t, "bake", "--root", dir, "--seal", "--profile", prof, "--json")
	if r.code != 0 {
		t.Fatalf("bake: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("bake --root --seal of the SysV root: %s", time.Since(start).Round(time.Second))
	rep := r.report(t)
	for _, s := range rep.Steps {
		for _, c := range s.Checks {
			if c.Failed() {
				t.Errorf("bake check %s: want %s, got %s", c.ID, c.Want, c.Got)
			}
		}
	}
	for _, p := range []string{"etc/init.d/hardbake-nftables", "etc/init.d/hardbake-firstboot", "etc/init.d/rsyslog", "var/log/auth.log"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("after the bake: %v", err)
		}
	}
	if keys, _ := filepath.Glob(filepath.Join(dir, "etc/ssh/ssh_host_*")); len(keys) > 0 {
		t.Errorf("sealed image keeps host keys %v", keys)
	}

	// Host data for first boot: alice with a key, IPv4 only.
	alice := vm.NewSigner(t)
	writeSecret(t, filepath.Join(dir, "etc/hardbake/host.yaml"), fmt.Sprintf(
		"user:\n  name: alice\n  sudo: nopasswd\n  authorized_keys:\n    - %s\nssh:\n  address_family: inet\n",
		bytes.TrimSpace(ssh.MarshalAuthorizedKey(alice.PublicKey()))))
	if err := vm.WriteDHCPConfig(dir); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	kernel, initrd, err := vm.CopyKernel(dir, out)
	if err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(out, "disk.raw")
	if err := vm.BuildDiskImage(dir, disk, 2048); err != nil {
		t.Fatal(err)
	}

	attackPort, err := vm.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	httpPort, err := vm.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	v, err := vm.Boot(context.Background(), vm.Options{
		Disk: disk, Kernel: kernel, Initrd: initrd, Snapshot: true,
		SerialLog:     filepath.Join(out, "serial.log"),
		ExtraForwards: map[int]int{httpPort: 8080},
		ExtraArgs:     vm.AttackerNICArgs(attackPort),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := v.Run("sudo -n tail -n 40 /var/log/auth.log /var/log/fail2ban.log /var/log/syslog 2>&1")
			t.Logf("guest logs:\n%s", logs)
			t.Logf("serial console:\n%s", v.SerialLog())
		}
		stop := time.Now()
		if err := v.Stop(); err != nil {
			t.Log(err)
		} else {
			t.Logf("ACPI power-off (acpid) in %s", time.Since(stop).Round(100*time.Millisecond))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	_, err = v.WaitSSH(ctx, "alice", alice)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("boot of the sealed SysV image to alice's SSH login: %s", time.Since(start).Round(100*time.Millisecond))
	run := v.MustRun

	t.Run("sysvinit is PID 1", func(t *testing.T) {
		got := strings.Split(run(t, "sudo -n readlink /proc/1/exe; readlink -f /sbin/init; dpkg-query -S /sbin/init; "+
			"test -e /run/systemd/system && echo systemd-runs || echo no-systemd"), "\n")
		if len(got) != 4 || got[0] != got[1] || got[2] != "sysvinit-core: /sbin/init" || got[3] != "no-systemd" {
			t.Errorf("PID 1 (its executable, /sbin/init, its package, systemd):\n%s", strings.Join(got, "\n"))
		}
	})

	t.Run("first boot ran before sshd", func(t *testing.T) {
		got := run(t, "sudo -n test -s /var/lib/hardbake/firstboot.done && echo marker; "+
			"sudo -n test -e /etc/hardbake/host.yaml && echo host-data-left || echo host-data-consumed; "+
			"id -nG alice; stat -c '%a %U' ~/.ssh ~/.ssh/authorized_keys")
		for _, want := range []string{"marker", "host-data-consumed", "700 alice", "600 alice"} {
			if !strings.Contains(got, want) {
				t.Errorf("lacks %q:\n%s", want, got)
			}
		}
		if !regexp.MustCompile(`(?m)^(.* )?sudo( .*)?$`).MatchString(got) {
			t.Errorf("alice is not in the sudo group:\n%s", got)
		}
		// The marker is written last by firstboot, the pid file first by the
		// sshd that serves us; nanosecond mtimes order them.
		times := strings.Fields(run(t, "sudo -n stat -c %.9Y /var/lib/hardbake/firstboot.done /run/sshd.pid"))
		if len(times) != 2 || times[0] > times[1] {
			t.Errorf("firstboot finished at %v, after sshd started", times)
		}
		links := run(t, "ls /etc/rc2.d")
		if i, j := strings.Index(links, "hardbake-firstboot"), strings.Index(links, "ssh"); i < 0 || j < 0 || i > j {
			t.Errorf("rc2.d order:\n%s", links)
		}
	})

	t.Run("sshd -T: hardened, the host's address family", func(t *testing.T) {
		got := map[string]string{}
		for _, l := range strings.Split(run(t, "sudo -n sshd -T"), "\n") {
			if k, val, ok := strings.Cut(l, " "); ok {
				if _, seen := got[k]; !seen {
					got[k] = val
				}
			}
		}
		for k, want := range map[string]string{
			"permitrootlogin": "no", "passwordauthentication": "no", "kbdinteractiveauthentication": "no",
			"pubkeyauthentication": "yes", "addressfamily": "inet",
		} {
			if got[k] != want {
				t.Errorf("sshd -T %s = %q, want %q", k, got[k], want)
			}
		}
		if ss := run(t, "ss -Hltn 'sport = :22'"); strings.Contains(ss, "[::]") || !strings.Contains(ss, "0.0.0.0:22") {
			t.Errorf("sshd listens on:\n%s", ss)
		}
	})

	t.Run("firewall loaded at boot before the network: default deny, ssh open", func(t *testing.T) {
		// One inet table: the same chain filters IPv4 and IPv6.
		rules := run(t, "sudo -n nft list ruleset")
		for _, re := range []string{`(?m)^table inet hardbake \{$`, `type filter hook input priority filter; policy drop;`, `tcp dport (\{ )?22( \})? accept`} {
			if !regexp.MustCompile(re).MatchString(rules) {
				t.Errorf("ruleset lacks %s:\n%s", re, rules)
			}
		}
		links := run(t, "ls /etc/rcS.d")
		if i, j := strings.Index(links, "hardbake-nftables"), strings.Index(links, "networking"); i < 0 || j < 0 || i > j {
			t.Errorf("rcS.d order:\n%s", links)
		}
		// And it did run before the network came up (the console shows both).
		console := v.SerialLog()
		if i, j := strings.Index(console, "hardbake-nftables: firewall rules loaded"), strings.Index(console, "Configuring network interfaces"); i < 0 || j < 0 || i > j {
			t.Errorf("the console does not show the rules loaded before the network was configured (%d, %d)", i, j)
		}
		// A listener on a forwarded port answers inside, not from outside.
		run(t, "setsid -f python3 -m http.server 8080 --bind 0.0.0.0 >/dev/null 2>&1 </dev/null")
		inside := ""
		for i := 0; i < 30 && inside != "200"; i++ {
			time.Sleep(time.Second)
			o, _ := v.Run(`python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:8080/").status)'`)
			inside = strings.TrimSpace(o)
		}
		if inside != "200" {
			t.Fatalf("the listener does not answer inside the VM: %s", inside)
		}
		if got, _ := vm.Banner(httpPort, "GET / HTTP/1.0\r\n\r\n", 15*time.Second); strings.HasPrefix(got, "HTTP/") {
			t.Errorf("port 8080 answered from outside: %q", got)
		}
	})

	t.Run("fail2ban reads the syslog file and bans", func(t *testing.T) {
		status := func() string {
			t.Helper()
			// fail2ban's server (python under TCG) needs a while after boot.
			var out string
			var err error
			for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Second) {
				if out, err = v.Run("sudo -n fail2ban-client status sshd"); err == nil {
					return out
				}
			}
			t.Fatalf("fail2ban-client status sshd: %v\n%s", err, out)
			return ""
		}
		if st := status(); !strings.Contains(st, "/var/log/auth.log") {
			t.Errorf("jail does not follow /var/log/auth.log:\n%s", st)
		}
		run(t, "pidof rsyslogd && pidof cron")
		run(t, "sudo -n sh -c '"+vm.ConfigureAttackerNIC+"'")
		got := ""
		for i := 0; i < 30 && !strings.HasPrefix(got, "SSH-2.0-"); i++ {
			got, _ = vm.Banner(attackPort, "", 10*time.Second)
		}
		if !strings.HasPrefix(got, "SSH-2.0-") {
			t.Fatalf("sshd not reachable through the attacker NIC: %q", got)
		}
		mallory := vm.NewSigner(t)
		banned := false
		attempts := 0
		for ; attempts < 20 && !banned; attempts++ {
			if err := tryLogin(attackPort, "mallory", mallory); err == nil {
				t.Fatal("mallory logged in")
			}
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !banned; time.Sleep(time.Second) {
				banned = strings.Contains(status(), vm.AttackerAddr)
			}
		}
		t.Logf("after %d attack connection(s):\n%s", attempts, status())
		if !banned {
			t.Fatalf("%s not banned after %d attempts", vm.AttackerAddr, attempts)
		}
		if got, _ := vm.Banner(attackPort, "", 10*time.Second); strings.HasPrefix(got, "SSH-2.0-") {
			t.Errorf("the banned address still reaches sshd: %q", got)
		}
		if _, err := v.Run("true"); err != nil {
			t.Errorf("the checking session broke with the ban: %v", err)
		}
	})

	t.Run("hardbake audit inside the VM passes", func(t *testing.T) {
		bin, err := os.ReadFile(hardbakeBin(t))
		if err != nil {
			t.Fatal(err)
		}
		// Into alice's home: the mounts step made /tmp noexec.
		if err := v.Upload("/home/alice/hardbake", bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := v.Upload("/home/alice/audit-profile.yaml", []byte(sysvHostProfile), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := v.Run("sudo -n /home/alice/hardbake audit --profile /home/alice/audit-profile.yaml")
		t.Logf("%s", out)
		if err != nil {
			t.Fatalf("audit: %v", err)
		}
	})
}

// tryLogin attempts a public-key login through 127.0.0.1:port.
func tryLogin(port int, user string, signer ssh.Signer) error {
	c, err := ssh.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 30 * time.Second,
	})
	if err == nil {
		c.Close()
	}
	return err
}
