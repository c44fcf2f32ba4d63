package distro

import (
	"slices"
	"strings"
	"testing"
)

// TestEveryFamilyHasItsPackageManager: each family's package manager is in
// the table, and every command that changes packages runs the manager's
// Binary, so IsPackageManager (first boot's "this plan installs
// something") recognises all of them.
func TestEveryFamilyHasItsPackageManager(t *testing.T) {
	for fam, f := range table {
		m := Info{PackageManager: f.pkg}.Packages()
		if m.Name != f.pkg {
			t.Errorf("%s: package manager %q is not in the table", fam, f.pkg)
			continue
		}
		for name, op := range map[string][]string{"Refresh": m.Refresh, "Upgrade": m.Upgrade, "Install": m.Install, "Remove": m.Remove} {
			if len(op) == 0 || op[0] != m.Binary || !IsPackageManager(op[0]) {
				t.Errorf("%s: %s is %q, not a command of %s", m.Name, name, op, m.Binary)
			}
		}
		if len(m.Pending) == 0 || m.PendingPackage == nil || len(m.RemoveTest) == 0 {
			t.Errorf("%s: no way to ask for pending upgrades or test a removal", m.Name)
		}
		if where := btoi(m.StatusFile != "") + btoi(m.LocalDB != "") + btoi(m.Query != nil); where != 1 {
			t.Errorf("%s: installed packages known from %d places, want exactly one", m.Name, where)
		}
	}
	for _, program := range []string{"rpm", "systemctl", "dpkg-query", ""} {
		if IsPackageManager(program) {
			t.Errorf("IsPackageManager(%q) = true", program)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestCommandFillsTheLockTimeout(t *testing.T) {
	apt := Info{PackageManager: "apt"}.Packages()
	got := strings.Join(Command(apt.Install, 600, "fail2ban", "nftables"), " ")
	want := "apt-get -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -y --no-install-recommends install fail2ban nftables"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	dnf := Info{PackageManager: "dnf"}.Packages()
	if got := strings.Join(Command(dnf.Install, 600, "fail2ban-server"), " "); got != "dnf -y install fail2ban-server" {
		t.Errorf("dnf: %s", got)
	}
	// The table itself keeps its placeholder for the next run.
	if !slices.Contains(apt.Install, "DPkg::Lock::Timeout={lock}") {
		t.Errorf("Command changed the table: %q", apt.Install)
	}
}

// TestPendingAndRemovedOutput reads each manager's output as the tools
// print it.
func TestPendingAndRemovedOutput(t *testing.T) {
	cases := []struct {
		manager, pending string
		wantPending      []string
		removed          string
		named, wantGone  []string
	}{
		{
			manager: "apt",
			pending: "NOTE: This is only a simulation!\nReading package lists...\nThe following packages will be upgraded:\n  libc6 openssl\n2 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n" +
				"Inst libc6 [2.36-9+deb12u3] (2.36-9+deb12u4 Debian:12.5/stable [amd64])\nInst openssl [3.0.11-1~deb12u2] (3.0.13-1~deb12u1 Debian-Security:12/stable-security [amd64])\nConf libc6 (2.36-9+deb12u4 Debian:12.5/stable [amd64])\n",
			wantPending: []string{"libc6", "openssl"},
			removed:     "The following packages will be REMOVED:\n  exim4-base* exim4-daemon-light*\nPurg exim4-daemon-light [4.96-15+deb12u5]\nRemv exim4-base [4.96-15+deb12u5]\n",
			named:       []string{"exim4-daemon-light"},
			wantGone:    []string{"exim4-daemon-light", "exim4-base"},
		},
		{
			manager:     "dnf",
			pending:     "\nopenssl.x86_64                1:3.0.7-27.el9              baseos\nkernel.x86_64                 5.14.0-427.el9              baseos\nObsoleting Packages\ngrub2-tools.x86_64            1:2.06-77.el9               baseos\nSecurity: kernel-core-5.14.0-427.el9.x86_64 is an installed security update\n",
			wantPending: []string{"openssl.x86_64", "kernel.x86_64", "grub2-tools.x86_64"},
			removed:     "",
			named:       []string{"postfix", "rpcbind"},
			wantGone:    []string{"postfix", "rpcbind"},
		},
		{
			manager:     "pacman",
			pending:     "linux 6.6.1.arch1-1 -> 6.6.2.arch1-1\nopenssh 9.5p1-1 -> 9.6p1-1 [ignored]\n",
			wantPending: []string{"linux", "openssh"},
			removed:     "rpcbind\nlibtirpc\n",
			named:       []string{"rpcbind"},
			wantGone:    []string{"rpcbind", "libtirpc"},
		},
	}
	for _, c := range cases {
		m := Info{PackageManager: c.manager}.Packages()
		if got := m.PendingUpgrades(c.pending); !slices.Equal(got, c.wantPending) {
			t.Errorf("%s pending: %q, want %q", c.manager, got, c.wantPending)
		}
		if got := m.Removed(c.removed, c.named); !slices.Equal(got, c.wantGone) {
			t.Errorf("%s removed: %q, want %q", c.manager, got, c.wantGone)
		}
	}
}
