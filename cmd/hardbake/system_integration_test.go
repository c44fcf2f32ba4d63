package main

// Black-box test of every hardening step (ssh, updates, services, fail2ban,
// firewall, seal) on real Debian 12 and 13 roots: the roots' own apt, nft,
// fail2ban-client and dpkg judge the result through chroot.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

func chrootOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("chroot", append([]string{dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("chroot %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// dpkgInstalled reads the root's dpkg database.
func dpkgInstalled(t *testing.T, dir, pkg string) bool {
	t.Helper()
	out, _ := exec.Command("chroot", dir, "dpkg-query", "-W", "-f=${db:Status-Status}", pkg).Output()
	return string(out) == "installed"
}

func TestBakeAllStepsDebianRoots(t *testing.T) {
	if testing.Short() {
		t.Skip("real mmdebstrap roots and the Debian mirror: not in -short")
	}
	for _, suite := range []string{"bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) {
			dir := testroot.Debian(t, suite)
			// A custom SSH port the firewall and the jail must follow, and the
			// build user Packer would have logged in as.
			writeFile(t, filepath.Join(dir, "etc/ssh/sshd_config.d/10-port.conf"), "Port 2222\n")
			chrootOut(t, dir, "useradd", "-m", "-s", "/bin/bash", "packer")
			writeFile(t, filepath.Join(dir, "home/packer/.bash_history"), "sudo -i\n")
			for _, pkg := range []string{"exim4-daemon-light", "rpcbind"} {
				if !dpkgInstalled(t, dir, pkg) {
					t.Fatalf("the test root lacks %s", pkg)
				}
			}
			before := testroot.Digest(t, dir, "/proc", "/sys", "/dev")

			// Bad input: exit 2, a precise message, nothing changed.
			bad := []struct{ yaml, msg string }{
				{"skip: [sshd]\n", `skip[0] (line 1): unknown step "sshd"`},
				{"firewall:\n  allow_tcp: [70000]\n", "firewall.allow_tcp[0] (line 2): 70000 is out of range 1-65535"},
				{"services:\n  remove: [openssh-server]\n", `services.remove[0] (line 2): "openssh-server" is never removed`},
				{"services:\n  remove: [systemd-timesyncd, cloud-init, fail2ban]\n", `services.remove[2] (line 2): "fail2ban" is never removed`},
				{"firewall:\n  backend: ufw\n", "firewall.backend: ufw is not installed"},
			}
			prof := filepath.Join(t.TempDir(), "p.yaml")
			for _, b := range bad {
				writeFile(t, prof, b.yaml)
				r := hardbake(t, "bake", "--root", dir, "--seal", "--profile", prof)
				if r.code != 2 || !strings.Contains(r.stderr, b.msg) {
					t.Fatalf("profile %q: exit %d, want 2 and %q\n%s%s", b.yaml, r.code, b.msg, r.stdout, r.stderr)
				}
			}
			testroot.AssertSame(t, before, testroot.Digest(t, dir, "/proc", "/sys", "/dev"))

			// The whole bake, sealed. Without AIDE (minutes of package
			// scripts in a chroot): TestCIS bakes the default profile with it.
			writeFile(t, prof, "firewall:\n  allow_tcp: [443]\nseal:\n  remove_user: packer\naudit:\n  aide: false\n")
			start := time.Now()
			r := hardbake(t, "bake", "--root", dir, "--seal", "--profile", prof, "--json")
			if r.code != 0 {
				t.Fatalf("bake: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			t.Logf("%s: full bake with seal took %s", suite, time.Since(start).Round(100*time.Millisecond))
			if rep := r.report(t); rep.Changed == 0 || !rep.OK {
				t.Fatalf("bake report: %s", r.stdout)
			}
			if m, _ := runner.MountsUnder(dir); len(m) > 0 {
				t.Fatalf("left mounted: %v", m)
			}
			if _, err := os.Lstat(filepath.Join(dir, "usr/sbin/policy-rc.d")); err == nil {
				t.Error("policy-rc.d left behind")
			}

			// firewall: the root's nft accepts the ruleset, which opens the
			// port sshd really uses.
			chrootOut(t, dir, "nft", "-c", "-f", "/etc/nftables.conf")
			rules, _ := os.ReadFile(filepath.Join(dir, "etc/nftables.d/hardbake.nft"))
			for _, want := range []string{"policy drop", "tcp dport { 2222 } accept", "tcp dport { 443 } accept", "nd-neighbor-solicit"} {
				if !strings.Contains(string(rules), want) {
					t.Errorf("ruleset lacks %q:\n%s", want, rules)
				}
			}
			if _, err := os.Lstat(filepath.Join(dir, "etc/systemd/system/sysinit.target.wants/nftables.service")); err != nil {
				t.Errorf("nftables.service not enabled: %v", err)
			}

			// fail2ban: its own config test, the sshd jail on the journal.
			if out := chrootOut(t, dir, "fail2ban-client", "-t"); !strings.Contains(out, "OK") {
				t.Errorf("fail2ban-client -t: %s", out)
			}
			dump := chrootOut(t, dir, "fail2ban-client", "-d")
			for _, want := range []string{"['add', 'sshd', 'systemd']", "2222", "sshd-session"} {
				if !strings.Contains(dump, want) {
					t.Errorf("fail2ban-client -d lacks %q", want)
				}
			}
			if !dpkgInstalled(t, dir, "python3-systemd") {
				t.Error("backend systemd without python3-systemd: the server would die at start")
			}
			// Debian 13's filter knows sshd-session; Debian 12's gets an override.
			_, err := os.Stat(filepath.Join(dir, "etc/fail2ban/filter.d/sshd.local"))
			if (suite == "bookworm") != (err == nil) {
				t.Errorf("%s: filter.d/sshd.local present = %v", suite, err == nil)
			}

			// updates: apt itself says only the security origin is used.
			var origins []string
			for _, l := range strings.Split(chrootOut(t, dir, "apt-config", "dump"), "\n") {
				if strings.HasPrefix(l, "Unattended-Upgrade::Origins-Pattern:: ") || strings.HasPrefix(l, "Unattended-Upgrade::Allowed-Origins:: ") {
					origins = append(origins, l)
				}
			}
			if len(origins) != 1 || !regexp.MustCompile(`codename=\$\{distro_codename\}-security,label=Debian-Security`).MatchString(origins[0]) {
				t.Errorf("unattended-upgrades origins: %q", origins)
			}

			// services: the unwanted are gone, the needed remain.
			for _, pkg := range []string{"exim4-daemon-light", "exim4-base", "rpcbind"} {
				if dpkgInstalled(t, dir, pkg) {
					t.Errorf("%s still installed", pkg)
				}
			}
			for _, pkg := range []string{"openssh-server", "fail2ban", "nftables", "unattended-upgrades", "cloud-init"} {
				if !dpkgInstalled(t, dir, pkg) {
					t.Errorf("%s not installed", pkg)
				}
			}

			// seal: no host key, an empty machine-id that still exists, no build user.
			if keys, _ := filepath.Glob(filepath.Join(dir, "etc/ssh/ssh_host_*")); len(keys) > 0 {
				t.Errorf("host keys left: %v", keys)
			}
			if fi, err := os.Stat(filepath.Join(dir, "etc/machine-id")); err != nil || fi.Size() != 0 {
				t.Errorf("machine-id: %v %v", fi, err)
			}
			// The root was built as "debian": sealed, it is nobody's name.
			if name, _ := os.ReadFile(filepath.Join(dir, "etc/hostname")); string(name) != "localhost\n" {
				t.Errorf("sealed /etc/hostname = %q, want localhost", name)
			}
			if hosts, _ := os.ReadFile(filepath.Join(dir, "etc/hosts")); strings.Contains(string(hosts), "127.0.1.1") || !strings.Contains(string(hosts), "127.0.0.1\tlocalhost") {
				t.Errorf("sealed /etc/hosts:\n%s", hosts)
			}
			if passwd, _ := os.ReadFile(filepath.Join(dir, "etc/passwd")); strings.Contains(string(passwd), "\npacker:") {
				t.Error("build user still present")
			}
			if _, err := os.Stat(filepath.Join(dir, "home/packer")); err == nil {
				t.Error("build user's home left")
			}

			// Idempotent: a second sealed bake changes nothing.
			r = hardbake(t, "bake", "--root", dir, "--seal", "--profile", prof, "--json")
			if rep := r.report(t); r.code != 0 || rep.Changed != 0 {
				t.Fatalf("second bake: exit %d changed %d\n%s\n%s", r.code, rep.Changed, r.stdout, r.stderr)
			}
			if m, _ := runner.MountsUnder(dir); len(m) > 0 {
				t.Fatalf("left mounted: %v", m)
			}
		})
	}
}
