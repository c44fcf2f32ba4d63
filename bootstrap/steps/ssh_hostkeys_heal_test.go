package steps

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

// TestHostKeysTheImageHas: a Debian 12 root whose ed25519 host key (the
// default profile's only type) is missing or broken in the ways an image
// really holds one. For each, `bake --only ssh` must harden the root (its
// validation with the real sshd gets a temporary key, as first boot will
// make one) and say in ssh.host_keys what first boot will do; first boot
// must then heal the key before sshd starts, so that the root's own
// `sshd -t`, with nothing passed in, accepts the result; a second first
// boot changes nothing.
//
// Before this test's fix, bake failed its own validation and restored every
// file for "rsa and ecdsa only", "empty", "directory" and "garbage", and
// first boot failed on "directory" (it removed the key as a file); "no .pub"
// was healed, but the bake's report did not name the key.
func TestHostKeysTheImageHas(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.Debian(t, "bookworm")
	sshDir := filepath.Join(dir, "etc/ssh")
	pristine := filepath.Join(t.TempDir(), "ssh")
	copyDir(t, sshDir, pristine)
	key := filepath.Join(sshDir, "ssh_host_ed25519_key")

	cases := []struct {
		name  string
		spoil func(t *testing.T)
		why   string // what ssh.host_keys must say is wrong with the key
		aside bool   // first boot moves the broken key aside
	}{
		{"rsa and ecdsa only", func(t *testing.T) {
			noErr(t, os.Remove(key))
			noErr(t, os.Remove(key+".pub"))
		}, "missing", false},
		{"empty", func(t *testing.T) {
			// What a power cut during ssh-keygen can leave.
			noErr(t, os.Truncate(key, 0))
		}, "empty", true},
		{"no .pub", func(t *testing.T) {
			noErr(t, os.Remove(key+".pub"))
		}, "no ssh_host_ed25519_key.pub", false},
		{"another key's .pub", func(t *testing.T) {
			// sshd serves the private key; the .pub shows a wrong fingerprint.
			ecdsa, err := os.ReadFile(filepath.Join(sshDir, "ssh_host_ecdsa_key.pub"))
			noErr(t, err)
			noErr(t, os.WriteFile(key+".pub", ecdsa, 0o644))
		}, "ssh_host_ed25519_key.pub is not this key's public half", false},
		{"directory", func(t *testing.T) {
			// Root reads any file whatever its mode; what root cannot read
			// as a key is a directory (EISDIR) ...
			noErr(t, os.Remove(key))
			noErr(t, os.Mkdir(key, 0o700))
			noErr(t, os.WriteFile(filepath.Join(key, "note"), []byte("someone's\n"), 0o600))
		}, "a directory, not a file", true},
		{"garbage", func(t *testing.T) {
			// ... or bytes that are no key.
			junk := make([]byte, 399)
			rand.Read(junk)
			noErr(t, os.WriteFile(key, junk, 0o600))
		}, "not a private key", true},
		{"readable by others", func(t *testing.T) {
			// sshd ignores it: "UNPROTECTED PRIVATE KEY FILE".
			noErr(t, os.Chmod(key, 0o644))
		}, "mode 0644", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			noErr(t, os.RemoveAll(sshDir))
			copyDir(t, pristine, sshDir)
			c.spoil(t)
			env := debianEnv(t, dir)
			ctx := context.Background()

			// A failed bake restores the files; first boot is still tried.
			if rep, err := Run(ctx, env, ModeBake, []Step{SSH{}}); err != nil {
				t.Errorf("bake --only ssh: %v", err)
			} else {
				hostKeys := findCheck(t, rep, "ssh.host_keys")
				if !hostKeys.OK || !strings.Contains(hostKeys.Detail, "/etc/ssh/ssh_host_ed25519_key ("+c.why) || !strings.Contains(hostKeys.Detail, "first boot") {
					t.Errorf("ssh.host_keys must pass and name the key, what is wrong (%q) and that first boot heals it: %+v", c.why, hostKeys)
				}
				if pw := findCheck(t, rep, "ssh.passwordauthentication"); !pw.OK {
					t.Errorf("not hardened: %+v", pw)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "run/hardbake-sshd-test-*")); len(left) > 0 {
				t.Errorf("temporary host keys left behind: %v", left)
			}

			changes, err := HealHostKeys(ctx, env, env.Profile.SSH.HostKeyTypes, "host1")
			if err != nil {
				t.Fatalf("first boot's host keys: %v", err)
			}
			t.Logf("first boot: %+v", changes)
			assertKeyPair(t, key, "ssh-ed25519")
			aside, _ := filepath.Glob(key + ".broken-*")
			if c.aside && len(aside) == 0 {
				t.Errorf("the broken key was not moved aside (changes %+v)", changes)
			}
			if !c.aside && len(aside) > 0 {
				t.Errorf("nothing was broken, yet %v", aside)
			}
			bootSSHDTest(t, dir)
			if again, err := HealHostKeys(ctx, env, env.Profile.SSH.HostKeyTypes, "host1"); err != nil || len(again) > 0 {
				t.Errorf("a second first boot: %+v, %v", again, err)
			}
		})
	}

	// Group ssh_keys: root:ssh_keys 0640 keys on the RHEL and Fedora
	// families, whose sshd accepts them (the Debian root stands in for the
	// tools: its ssh-keygen, chgrp and chmod); a group of that name on
	// Debian changes nothing, as Debian's sshd would ignore such a key.
	for _, family := range []distro.Family{distro.RHEL, distro.Debian} {
		t.Run("ssh_keys group on "+string(family), func(t *testing.T) {
			noErr(t, os.RemoveAll(sshDir))
			copyDir(t, pristine, sshDir)
			noErr(t, os.Remove(key))
			group := filepath.Join(dir, "etc/group")
			orig, err := os.ReadFile(group)
			noErr(t, err)
			defer os.WriteFile(group, orig, 0o644)
			noErr(t, os.WriteFile(group, append(orig, "ssh_keys:x:996:\n"...), 0o644))
			env := debianEnv(t, dir)
			env.Distro.Family = family
			if _, err := HealHostKeys(context.Background(), env, env.Profile.SSH.HostKeyTypes, "host1"); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(key)
			noErr(t, err)
			mode, gid := fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Gid
			if family == distro.RHEL && (mode != 0o640 || gid != 996) {
				t.Errorf("RHEL family: %s is %#o gid %d, want 0640 root:ssh_keys", key, mode, gid)
			}
			if family == distro.Debian && (mode != 0o600 || gid != 0) {
				t.Errorf("Debian: %s is %#o gid %d, want 0600 root:root", key, mode, gid)
			}
			if again, err := HealHostKeys(context.Background(), env, env.Profile.SSH.HostKeyTypes, "host1"); err != nil || len(again) > 0 {
				t.Errorf("a second first boot: %+v, %v", again, err)
			}
		})
	}
}

func debianEnv(t *testing.T, dir string) *Env {
	t.Helper()
	r, err := root.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Root: r, Run: runner.Exec{Chroot: dir}, Profile: profile.Default()}
	if env.Distro, err = distro.Detect(r); err != nil {
		t.Fatal(err)
	}
	return env
}

func findCheck(t *testing.T, rep *report.Report, id string) report.Check {
	t.Helper()
	for _, s := range rep.Steps {
		for _, c := range s.Checks {
			if c.ID == id {
				return c
			}
		}
	}
	t.Fatalf("no check %s in the report", id)
	return report.Check{}
}

// assertKeyPair: key is a private key of type typ that only root may read,
// and key.pub, world-readable, is its public half.
func assertKeyPair(t *testing.T, key, typ string) {
	t.Helper()
	fi, err := os.Stat(key)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v", key, fi, err)
	}
	data, _ := os.ReadFile(key)
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	if signer.PublicKey().Type() != typ {
		t.Errorf("%s is %s, want %s", key, signer.PublicKey().Type(), typ)
	}
	if fi, err := os.Stat(key + ".pub"); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("%s.pub: %v %v", key, fi, err)
	}
	line, _ := os.ReadFile(key + ".pub")
	pub, _, _, _, err := ssh.ParseAuthorizedKey(line)
	if err != nil || !bytes.Equal(pub.Marshal(), signer.PublicKey().Marshal()) {
		t.Errorf("%s.pub is not the key's public half (%v): %s", key, err, line)
	}
}

// bootSSHDTest runs the root's own `sshd -t` as its boot would: the host keys on
// disk and nothing else.
func bootSSHDTest(t *testing.T, dir string) {
	t.Helper()
	run := filepath.Join(dir, "run/sshd")
	noErr(t, os.MkdirAll(run, 0o755))
	defer os.Remove(run)
	res, err := runner.Exec{Chroot: dir}.Run(context.Background(), runner.Cmd{Name: SSHDBinary, Args: []string{"-t"}})
	if err != nil {
		t.Fatalf("the root's sshd -t after first boot: %v %s", err, res.Stderr)
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestHostKeyOrder(t *testing.T) {
	if got := hostKeyOrder([]string{"rsa", "ecdsa", "ed25519"}); !slices.Equal(got, []string{"ed25519", "rsa", "ecdsa"}) {
		t.Fatalf("%v", got)
	}
	if got := hostKeyOrder(nil); !slices.Equal(got, []string{"ed25519"}) {
		t.Fatalf("%v", got)
	}
}
