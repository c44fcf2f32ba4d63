package e2e

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// cisSysctls are CIS Level 1 kernel settings with the value the kernel step
// writes; the booted image must run with them (systemd-sysctl applied the
// drop-in, nothing later overrode it).
var cisSysctls = map[string]string{
	"kernel.randomize_va_space":                  "2",
	"kernel.yama.ptrace_scope":                   "1",
	"fs.suid_dumpable":                           "0",
	"fs.protected_hardlinks":                     "1",
	"fs.protected_symlinks":                      "1",
	"net.ipv4.conf.all.accept_redirects":         "0",
	"net.ipv4.conf.default.accept_redirects":     "0",
	"net.ipv4.conf.all.send_redirects":           "0",
	"net.ipv4.conf.all.accept_source_route":      "0",
	"net.ipv4.conf.all.log_martians":             "1",
	"net.ipv4.conf.all.rp_filter":                "1",
	"net.ipv4.icmp_echo_ignore_broadcasts":       "1",
	"net.ipv4.icmp_ignore_bogus_error_responses": "1",
	"net.ipv4.tcp_syncookies":                    "1",
	"net.ipv4.ip_forward":                        "0",
	"net.ipv6.conf.all.accept_redirects":         "0",
	"net.ipv6.conf.all.forwarding":               "0",
}

// cisChecks verifies the CIS Level 1 steps by their effect in the booted
// golden image: what the kernel, auditd, the mounts, PAM, AppArmor and
// journald really do, not what the files say.
func (e *env) cisChecks(t *testing.T, b *booted) {
	v := b.v
	run := v.MustRun
	check(t, "kernel: CIS sysctl values are live", func(t *testing.T) {
		// The kernel's own value, /proc/sys/<key with dots as slashes>
		// (sysctl is in /usr/sbin, not on alice's PATH).
		for key, want := range cisSysctls {
			got, err := v.Run("cat /proc/sys/" + strings.ReplaceAll(key, ".", "/"))
			if err != nil || strings.TrimSpace(got) != want {
				t.Errorf("%s = %q (%v), want %s", key, strings.TrimSpace(got), err, want)
			}
		}
	})
	check(t, "kernel: blocked modules cannot be loaded", func(t *testing.T) {
		out, err := v.Run("sudo -n modprobe cramfs 2>&1")
		if err == nil {
			t.Errorf("modprobe cramfs succeeded: %q", out)
		}
		if lsmod := run(t, "lsmod"); strings.Contains(lsmod, "cramfs") {
			t.Errorf("cramfs is loaded:\n%s", lsmod)
		}
	})
	check(t, "mounts: /tmp and /dev/shm are nodev,nosuid,noexec", func(t *testing.T) {
		for _, m := range []string{"/tmp", "/dev/shm"} {
			opts := strings.Split(strings.TrimSpace(run(t, "findmnt -no OPTIONS "+m)), ",")
			for _, want := range []string{"nodev", "nosuid", "noexec"} {
				if !slices.Contains(opts, want) {
					t.Errorf("%s is mounted with %v, lacks %s", m, opts, want)
				}
			}
		}
		// noexec is real: a script copied there does not run.
		if out, err := v.Run("cp /bin/true /tmp/t && /tmp/t"); err == nil {
			t.Errorf("a program in /tmp ran: %q", out)
		}
	})
	check(t, "audit: auditd runs with the CIS rules loaded", func(t *testing.T) {
		status := run(t, "sudo -n auditctl -s")
		if !strings.Contains(status, "enabled 1") && !strings.Contains(status, "enabled 2") {
			t.Errorf("auditctl -s:\n%s", status)
		}
		rules := run(t, "sudo -n auditctl -l")
		n := len(strings.Split(strings.TrimSpace(rules), "\n"))
		for _, want := range []string{"/etc/passwd -p wa", "/etc/sudoers -p wa", "init_module", "mount"} {
			if !strings.Contains(rules, want) {
				t.Errorf("auditctl -l lacks %q (%d rules)", want, n)
			}
		}
		t.Logf("%d audit rules loaded", n)
	})
	check(t, "accounts: pam_faillock counts failures, alice is exempt from password ageing", func(t *testing.T) {
		if out := run(t, "grep -c pam_faillock.so /etc/pam.d/common-auth || true"); strings.TrimSpace(out) == "0" {
			t.Error("pam_faillock is not in common-auth")
		}
		run(t, "sudo -n faillock --user alice")
		chage := run(t, "sudo -n chage -l alice")
		for _, l := range strings.Split(chage, "\n") {
			if strings.HasPrefix(l, "Password expires") && !strings.HasSuffix(strings.TrimSpace(l), ": never") {
				t.Errorf("alice's password ageing:\n%s", chage)
			}
		}
	})
	check(t, "mac: AppArmor is enabled with profiles in enforce mode", func(t *testing.T) {
		out := run(t, "sudo -n aa-status")
		enforced := 0
		for _, l := range strings.Split(out, "\n") {
			if strings.HasSuffix(l, "profiles are in enforce mode.") {
				enforced, _ = strconv.Atoi(strings.Fields(l)[0])
			}
		}
		if enforced == 0 {
			t.Errorf("aa-status:\n%s", out)
		}
	})
	check(t, "logging: the journal is persistent", func(t *testing.T) {
		run(t, "test -d /var/log/journal/$(cat /etc/machine-id)")
	})
}
