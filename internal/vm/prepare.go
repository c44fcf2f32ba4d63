package vm

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"golang.org/x/crypto/ssh"
)

// PrepareRoot makes a root directory (for example a testroot.Debian copy)
// bootable under Boot and reachable over SSH, touching only that copy:
//
//   - AuthorizeKeys for root with keys;
//   - EnsureHostKeys (the cached roots keep the host keys openssh-server made;
//     this only fills in missing ones);
//   - WriteDHCPConfig for the virtio NIC;
//   - CloudInitNoCloudOnly, so boot without a seed is fast and a NoCloud
//     seed (MakeSeedISO) is still honoured.
func PrepareRoot(rootDir string, keys ...ssh.PublicKey) error {
	if len(keys) > 0 {
		if err := AuthorizeKeys(rootDir, "root", keys...); err != nil {
			return err
		}
	}
	if err := EnsureHostKeys(rootDir); err != nil {
		return err
	}
	if err := WriteDHCPConfig(rootDir); err != nil {
		return err
	}
	return CloudInitNoCloudOnly(rootDir)
}

// AuthorizeKeys appends keys to ~user/.ssh/authorized_keys inside rootDir.
// Only root (home /root) and users whose home is /home/USER are supported, and
// for those the files are owned by the uid/gid found in the root's /etc/passwd.
func AuthorizeKeys(rootDir, user string, keys ...ssh.PublicKey) error {
	uid, gid, home, err := lookupUser(rootDir, user)
	if err != nil {
		return err
	}
	dir := filepath.Join(rootDir, home, ".ssh")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	file := filepath.Join(dir, "authorized_keys")
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := f.Write(ssh.MarshalAuthorizedKey(k)); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{dir, file} {
		if err := os.Lchown(p, uid, gid); err != nil {
			return err
		}
	}
	return nil
}

func lookupUser(rootDir, user string) (uid, gid int, home string, err error) {
	data, err := os.ReadFile(filepath.Join(rootDir, "etc", "passwd"))
	if err != nil {
		return 0, 0, "", err
	}
	e, ok := distro.LookupUser(string(data), user)
	if !ok {
		return 0, 0, "", fmt.Errorf("vm: no user %s in %s/etc/passwd", user, rootDir)
	}
	return e.UID, e.GID, e.Home, nil
}

// EnsureHostKeys generates the missing default host keys of rootDir's
// /etc/ssh with the host's `ssh-keygen -A -f rootDir` (keys already there
// are kept).
func EnsureHostKeys(rootDir string) error {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		return fmt.Errorf("vm: ssh-keygen not found (make deps installs openssh-client)")
	}
	if err := os.MkdirAll(filepath.Join(rootDir, "etc", "ssh"), 0o755); err != nil {
		return err
	}
	if b, err := exec.Command(keygen, "-A", "-f", rootDir).CombinedOutput(); err != nil {
		return fmt.Errorf("vm: ssh-keygen -A -f %s: %v\n%s", rootDir, err, b)
	}
	return nil
}

// WriteDHCPConfig configures DHCP on the guest's first ethernet NIC the way
// the root's own network stack expects:
//
//   - ifupdown (the bookworm root): /etc/network/interfaces.d/hardbake-dhcp
//     for eth0 — Boot's default kernel line has net.ifnames=0, so the virtio
//     NIC is eth0 whatever PCI slot QEMU gives it;
//   - netplan (the trixie root, like Debian's own cloud images):
//     /etc/netplan/90-hardbake-dhcp.yaml matching every en*/eth* NIC,
//     rendered for systemd-networkd (netplan's generator enables it at boot);
//   - otherwise systemd-networkd directly: /etc/systemd/network/
//     90-hardbake-dhcp.network, and the unit enabled by symlink.
//
// cloud-init's own network rendering would write a second, conflicting
// definition of the same NIC, so CloudInitNoCloudOnly turns it off.
func WriteDHCPConfig(rootDir string) error {
	switch {
	case exists(filepath.Join(rootDir, "sbin", "ifup")) && exists(filepath.Join(rootDir, "etc", "network", "interfaces")):
		return writeFile(filepath.Join(rootDir, "etc/network/interfaces.d/hardbake-dhcp"), 0o644,
			"# written by hardbake's internal/vm: DHCP on the QEMU user-network NIC\n"+
				"auto eth0\nallow-hotplug eth0\niface eth0 inet dhcp\n")
	case exists(filepath.Join(rootDir, "usr", "sbin", "netplan")):
		// netplan refuses world-readable configs with a warning: 0600.
		return writeFile(filepath.Join(rootDir, "etc/netplan/90-hardbake-dhcp.yaml"), 0o600,
			"# written by hardbake's internal/vm: DHCP on the QEMU user-network NIC\n"+
				"network:\n  version: 2\n  renderer: networkd\n  ethernets:\n    hardbake-dhcp:\n"+
				"      match:\n        name: \"e*\"\n      dhcp4: true\n      dhcp6: false\n")
	default:
		if err := writeFile(filepath.Join(rootDir, "etc/systemd/network/90-hardbake-dhcp.network"), 0o644,
			"# written by hardbake's internal/vm: DHCP on the QEMU user-network NIC\n"+
				"[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n"); err != nil {
			return err
		}
		return enableUnit(rootDir, "systemd-networkd.service", "multi-user.target")
	}
}

// CloudInitNoCloudOnly writes /etc/cloud/cloud.cfg.d/90-hardbake-vm.cfg:
//
//	datasource_list: [ NoCloud, ConfigDrive ]
//	network: {config: disabled}
//	locale: C.UTF-8
//
// The list holds only datasources that look at local disks, never at a
// metadata server, and it has two entries on purpose: with one entry (or one
// plus None) ds-identify skips its checks and enables cloud-init
// unconditionally, which then falls back to DataSourceNone, regenerates the
// host keys and runs every module. With two, ds-identify searches: a drive
// labelled "cidata" (MakeSeedISO) enables cloud-init with NoCloud; nothing
// found disables cloud-init for that boot (policy notfound=disabled), so an
// unseeded boot runs no cloud-init at all and keeps the image's host keys.
// (The kernel argument cloud-init=disabled does the same for one boot.)
//
// network is disabled because WriteDHCPConfig already defines the NIC and
// cloud-init would write a second, conflicting definition. locale is C.UTF-8
// because bookworm's cloud-init (22.4) sets en_US.UTF-8 by default and
// cannot generate it (Debian's locale-gen ignores its arguments), which fails
// cloud-config.service and leaves the system "degraded".
func CloudInitNoCloudOnly(rootDir string) error {
	if !exists(filepath.Join(rootDir, "etc", "cloud")) {
		return nil
	}
	return writeFile(filepath.Join(rootDir, "etc/cloud/cloud.cfg.d/90-hardbake-vm.cfg"), 0o644,
		"# written by hardbake's internal/vm for QEMU test boots\n"+
			"datasource_list: [ NoCloud, ConfigDrive ]\n"+
			"network: {config: disabled}\n"+
			"locale: C.UTF-8\n")
}

func writeFile(path string, mode os.FileMode, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

// enableUnit does what `systemctl enable` does for a unit installed WantedBy
// target, without running anything inside the root.
func enableUnit(rootDir, unit, target string) error {
	var src string
	for _, d := range []string{"usr/lib/systemd/system", "lib/systemd/system"} {
		if exists(filepath.Join(rootDir, d, unit)) {
			src = "/" + d + "/" + unit
			break
		}
	}
	if src == "" {
		return fmt.Errorf("vm: no unit %s in %s", unit, rootDir)
	}
	dir := filepath.Join(rootDir, "etc/systemd/system", target+".wants")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	link := filepath.Join(dir, unit)
	if exists(link) {
		return nil
	}
	return os.Symlink(src, link)
}

// NewSigner makes a fresh ed25519 key for a test boot: the harness logs in
// with it (AuthorizeKeys, host data) and nothing else ever sees it. A
// failure fails t.
func NewSigner(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
