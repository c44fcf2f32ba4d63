package distro

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/root"
)

// Real os-release files as shipped (trimmed to the fields that matter).
var osReleases = map[string]string{
	"debian12":   "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
	"ubuntu2204": "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n",
	"ubuntu2404": "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n",
	"fedora41":   "NAME=\"Fedora Linux\"\nVERSION=\"41 (Cloud Edition)\"\nID=fedora\nVERSION_ID=41\nPRETTY_NAME=\"Fedora Linux 41 (Cloud Edition)\"\n",
	"rocky9":     "NAME=\"Rocky Linux\"\nVERSION=\"9.4 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n",
	"alma9":      "NAME=\"AlmaLinux\"\nID=\"almalinux\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n",
	"centos9":    "NAME=\"CentOS Stream\"\nVERSION=\"9\"\nID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"9\"\n",
	"arch":       "NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n",
	"mint":       "NAME=\"Linux Mint\"\nID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=\"21.3\"\n",
}

func TestFamilies(t *testing.T) {
	want := map[string]struct {
		fam   Family
		group string
		svc   string
		pm    string
		auto  string
	}{
		"debian12":   {Debian, "sudo", "ssh", "apt", "unattended-upgrades"},
		"ubuntu2204": {Ubuntu, "sudo", "ssh", "apt", "unattended-upgrades"},
		"ubuntu2404": {Ubuntu, "sudo", "ssh", "apt", "unattended-upgrades"},
		"fedora41":   {Fedora, "wheel", "sshd", "dnf", "dnf-automatic"},
		"rocky9":     {RHEL, "wheel", "sshd", "dnf", "dnf-automatic"},
		"alma9":      {RHEL, "wheel", "sshd", "dnf", "dnf-automatic"},
		"centos9":    {RHEL, "wheel", "sshd", "dnf", "dnf-automatic"},
		"arch":       {Arch, "wheel", "sshd", "pacman", ""},
		"mint":       {Ubuntu, "sudo", "ssh", "apt", "unattended-upgrades"},
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
			os.WriteFile(filepath.Join(dir, "etc/os-release"), []byte(osReleases[name]), 0o644)
			r, _ := root.Dir(dir)
			info, err := Detect(r)
			if err != nil {
				t.Fatal(err)
			}
			if info.Family != w.fam || info.AdminGroup != w.group || info.SSHService != w.svc || info.PackageManager != w.pm || info.AutoUpdates != w.auto {
				t.Fatalf("got %+v", info)
			}
			if info.ServiceManager != Systemd {
				t.Fatalf("bare root should default to systemd, got %s", info.ServiceManager)
			}
		})
	}
}

func TestUbuntuSocketActivation(t *testing.T) {
	for _, c := range []struct {
		rel    string
		socket bool
	}{{"ubuntu2204", false}, {"ubuntu2404", true}} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
		os.MkdirAll(filepath.Join(dir, "lib/systemd/system"), 0o755)
		os.WriteFile(filepath.Join(dir, "etc/os-release"), []byte(osReleases[c.rel]), 0o644)
		os.WriteFile(filepath.Join(dir, "lib/systemd/system/ssh.socket"), []byte("[Socket]\n"), 0o644)
		r, _ := root.Dir(dir)
		info, err := Detect(r)
		if err != nil {
			t.Fatal(err)
		}
		if (info.SSHSocket != "") != c.socket {
			t.Errorf("%s: SSHSocket=%q", c.rel, info.SSHSocket)
		}
	}
}

func TestInitDetection(t *testing.T) {
	mk := func(t *testing.T, setup func(dir string)) ServiceManager {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
		os.WriteFile(filepath.Join(dir, "etc/os-release"), []byte(osReleases["debian12"]), 0o644)
		os.MkdirAll(filepath.Join(dir, "sbin"), 0o755)
		os.MkdirAll(filepath.Join(dir, "lib/systemd"), 0o755)
		setup(dir)
		r, _ := root.Dir(dir)
		info, err := Detect(r)
		if err != nil {
			t.Fatal(err)
		}
		return info.ServiceManager
	}
	// Absolute link target: must resolve inside the root, not on the host.
	if got := mk(t, func(d string) {
		os.WriteFile(filepath.Join(d, "lib/systemd/systemd"), []byte("ELF"), 0o755)
		os.Symlink("/lib/systemd/systemd", filepath.Join(d, "sbin/init"))
	}); got != Systemd {
		t.Errorf("systemd-sysv: got %s", got)
	}
	if got := mk(t, func(d string) {
		os.WriteFile(filepath.Join(d, "sbin/init"), []byte("ELF"), 0o755)
		os.WriteFile(filepath.Join(d, "etc/inittab"), []byte("id:2:initdefault:\n"), 0o644)
	}); got != SysV {
		t.Errorf("sysvinit-core: got %s", got)
	}
}

func TestUnknownDistro(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc/os-release"), []byte("ID=gentoo\nNAME=Gentoo\n"), 0o644)
	r, _ := root.Dir(dir)
	_, err := Detect(r)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `ID="gentoo"`) || !strings.Contains(err.Error(), "debian") {
		t.Fatalf("got %v", err)
	}
	empty, _ := root.Dir(t.TempDir())
	if _, err := Detect(empty); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("missing os-release: %v", err)
	}
}

func TestParseOSRelease(t *testing.T) {
	cases := []struct {
		in   string
		want OSRelease
		err  string
	}{
		{"ID=debian\nVERSION_ID=\"12\"\n", OSRelease{ID: "debian", VersionID: "12"}, ""},
		{"ID='arch'\n", OSRelease{ID: "arch"}, ""},
		{"# comment\n\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n", OSRelease{ID: "rocky", IDLike: []string{"rhel", "centos", "fedora"}}, ""},
		{"PRETTY_NAME=\"A \\\"quoted\\\" name\"\nID=x\n", OSRelease{ID: "x", PrettyName: `A "quoted" name`}, ""},
		{"NAME=foo\n", OSRelease{ID: "linux"}, ""},
		{"ID=\"debian\n", OSRelease{}, "line 1"},
		{"garbage line\n", OSRelease{}, "line 1"},
		{"ID=Debian\n", OSRelease{ID: "debian"}, ""},
	}
	for _, c := range cases {
		got, err := ParseOSRelease(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got.ID != c.want.ID || got.VersionID != c.want.VersionID || strings.Join(got.IDLike, " ") != strings.Join(c.want.IDLike, " ") || got.PrettyName != c.want.PrettyName && c.want.PrettyName != "" {
			t.Errorf("%q: got %+v want %+v", c.in, got, c.want)
		}
	}
}
