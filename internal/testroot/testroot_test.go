package testroot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyIgnoresComments(t *testing.T) {
	a := Key([]byte("#!/bin/bash\n# doc\nset -e\n\nmmdebstrap --include=a,b\n"))
	b := Key([]byte("#!/usr/bin/env bash\n  # other doc\nset -e\nmmdebstrap --include=a,b\n"))
	c := Key([]byte("set -e\nmmdebstrap --include=a,b,c\n"))
	if a != b {
		t.Errorf("comments and blank lines changed the key: %s != %s", a, b)
	}
	if a == c {
		t.Errorf("a different package list kept the key %s", a)
	}
	if len(a) != 12 {
		t.Errorf("key %q: want 12 hex digits", a)
	}
}

func TestTarballPath(t *testing.T) {
	t.Setenv("HARDBAKE_CACHE", "/nonexistent/cache")
	p, err := TarballPath("bookworm")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p, "/nonexistent/cache/roots/debian-bookworm-") || !strings.HasSuffix(p, ".tar") {
		t.Errorf("TarballPath = %s", p)
	}
	if _, err := TarballPath("sid"); err == nil {
		t.Error("unknown suite accepted")
	}
}

// TestDebian checks that each suite's root is a private, writable copy with
// what the chroot and VM tests rely on.
func TestDebian(t *testing.T) {
	if testing.Short() {
		t.Skip("real mmdebstrap roots: not in -short")
	}
	for _, suite := range Suites {
		t.Run(suite, func(t *testing.T) {
			dir := Debian(t, suite)
			osr, err := os.ReadFile(filepath.Join(dir, "etc/os-release"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(osr), "VERSION_CODENAME="+suite) {
				t.Errorf("os-release is not %s:\n%s", suite, osr)
			}
			for _, p := range []string{
				"usr/sbin/sshd", "usr/bin/sudo", "usr/bin/cloud-init", "usr/sbin/exim4", "sbin/rpcbind",
				"etc/ssh/ssh_host_ed25519_key", "etc/ssh/sshd_config", "usr/bin/less",
			} {
				if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
					t.Errorf("missing /%s", p)
				}
			}
			for _, p := range []string{"usr/sbin/nft", "usr/bin/fail2ban-client", "usr/bin/unattended-upgrade"} {
				if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
					t.Errorf("/%s is preinstalled; hardbake must install it itself", p)
				}
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "boot/vmlinuz-*")); len(m) != 1 {
				t.Errorf("kernels in /boot: %v", m)
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "boot/initrd.img-*")); len(m) != 1 {
				t.Errorf("initrds in /boot: %v", m)
			}
			// Private and writable: a second copy does not see this one's changes.
			if err := os.WriteFile(filepath.Join(dir, "etc/hardbake-probe"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			other := Debian(t, suite)
			if _, err := os.Stat(filepath.Join(other, "etc/hardbake-probe")); err == nil {
				t.Error("copies share files")
			}
		})
	}
}
