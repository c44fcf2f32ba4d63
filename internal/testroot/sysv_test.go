package testroot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDebianSysV checks the SysV root is what both its chroot and its boot
// tests rely on: SysV init, no systemd, a kernel with its initramfs, DHCP
// tooling, and none of the packages hardbake must install itself.
func TestDebianSysV(t *testing.T) {
	if testing.Short() {
		t.Skip("real mmdebstrap root: not in -short")
	}
	dir := DebianSysV(t)
	init, err := os.Readlink(filepath.Join(dir, "sbin/init"))
	if err != nil {
		// merged /usr: /sbin is a symlink to usr/sbin, init a regular file.
		if _, err := os.Stat(filepath.Join(dir, "usr/sbin/init")); err != nil {
			t.Fatal(err)
		}
		init = "/usr/sbin/init"
	}
	if strings.Contains(init, "systemd") {
		t.Errorf("/sbin/init is %s", init)
	}
	for _, p := range []string{
		"usr/sbin/sshd", "usr/bin/sudo", "usr/sbin/update-rc.d", "usr/sbin/insserv", "etc/init.d/ssh",
		"etc/init.d/networking", "sbin/dhclient", "etc/init.d/acpid", "etc/acpi/events/powerbtn-acpi-support",
	} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("missing /%s", p)
		}
	}
	for _, p := range []string{"lib/systemd/systemd", "usr/sbin/nft", "usr/bin/fail2ban-client", "usr/sbin/rsyslogd", "usr/sbin/cron"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("/%s is preinstalled; hardbake must install it itself (or, systemd, never be there)", p)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "boot/vmlinuz-*")); len(m) != 1 {
		t.Errorf("kernels in /boot: %v", m)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "boot/initrd.img-*")); len(m) != 1 {
		t.Errorf("initrds in /boot: %v", m)
	}
}
