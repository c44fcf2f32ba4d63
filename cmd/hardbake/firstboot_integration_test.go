package main

// Black-box tests of `hardbake firstboot` on real Debian 12 and 13 roots
// after `bake --only ssh,firstboot`: the roots' own useradd, visudo,
// ssh-keygen and sshd do the work and judge it through chroot.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hardbake/hardbake/bootstrap/firstboot"
	"github.com/hardbake/hardbake/internal/testroot"
)

const aliceKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL/24x1N6/StptXPjMdGTu0bJCVv29PkBnNDgt6brKwj alice@laptop"

const hostYAML = `user:
  name: alice
  groups: [adm]
  sudo: nopasswd
  authorized_keys:
    - ` + aliceKey + `
ssh:
  address_family: inet
  port: 2222
hostname: web-1.example.com
`

func statOwner(t *testing.T, p string) (mode os.FileMode, uid, gid uint32) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fi.Mode(), st.Uid, st.Gid
}

func writeSecret(t *testing.T, p, content string) {
	t.Helper()
	writeFile(t, p, content)
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("real mmdebstrap roots: not in -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("chroot, useradd and chown need root")
	}
}

func TestFirstbootDebianRoots(t *testing.T) {
	requireRoot(t)
	for _, suite := range []string{"bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) {
			dir := testroot.Debian(t, suite)
			if r := hardbake(t, "bake", "--only", "ssh,firstboot", "--root", dir); r.code != 0 {
				t.Fatalf("bake: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if _, err := os.Lstat(filepath.Join(dir, "etc/systemd/system/multi-user.target.wants/hardbake-firstboot.service")); err != nil {
				t.Fatalf("unit not enabled: %v", err)
			}
			if out, err := exec.Command("chroot", dir, "/usr/local/sbin/hardbake", "version").CombinedOutput(); err != nil || string(out) != "hardbake test\n" {
				t.Fatalf("binary in the image: %v %s", err, out)
			}
			// A sealed image has no host keys: firstboot makes them.
			keys, _ := filepath.Glob(filepath.Join(dir, "etc/ssh/ssh_host_*"))
			for _, k := range keys {
				os.Remove(k)
			}
			cfgDir := t.TempDir()

			// Hostile input: exit 2, the field named, the tree untouched.
			before := testroot.Digest(t, dir, "/proc", "/sys", "/dev")
			bad := []struct{ yaml, msg string }{
				{strings.Replace(hostYAML, "- ssh-ed25519", "- command=\"/bin/sh\" ssh-ed25519", 1), "user.authorized_keys[0] (line 6): has authorized_keys options (command)"},
				{strings.Replace(hostYAML, "name: alice", "name: daemon", 1), `user.name (line 2): "daemon" is an existing system account (uid 1`},
				{strings.Replace(hostYAML, "name: alice", "name: root", 1), `user.name (line 2): "root" is refused`},
				{strings.Replace(hostYAML, "[adm]", "[adm, docker]", 1), `user.groups[1] (line 3): group "docker" does not exist in the image`},
				{strings.Replace(hostYAML, "sudo: nopasswd", "sudo: nopasswd\n  shell: /usr/bin/zsh", 1), `user.shell (line 5): "/usr/bin/zsh" is not listed in the image's /etc/shells`},
				{strings.Replace(hostYAML, "inet", "ipv4", 1), `ssh.address_family (line 8): "ipv4" is not one of any, inet, inet6`},
				{strings.Replace(hostYAML, "2222", "0", 1), "ssh.port (line 9): 0 is out of range 1-65535"},
				{hostYAML + "password: hunter2\n", "password (line 11): unknown key"},
			}
			cfg := filepath.Join(cfgDir, "host.yaml")
			for _, b := range bad {
				writeSecret(t, cfg, b.yaml)
				r := hardbake(t, "firstboot", "--root", dir, "--config", cfg)
				if r.code != 2 || !strings.Contains(r.stderr, b.msg) {
					t.Fatalf("exit %d, want 2 and %q:\n%s%s", r.code, b.msg, r.stdout, r.stderr)
				}
			}
			// The in-image file, world-writable or not root's: refused.
			inImage := filepath.Join(dir, "etc/hardbake/host.yaml")
			writeFile(t, inImage, hostYAML)
			os.Chmod(inImage, 0o666)
			before[filepath.Join("etc/hardbake/host.yaml")] = "" // compared below, after removal
			if r := hardbake(t, "firstboot", "--root", dir); r.code != 2 || !strings.Contains(r.stderr, "is writable by group or others (mode 0666)") {
				t.Fatalf("world-writable: exit %d\n%s", r.code, r.stderr)
			}
			os.Chmod(inImage, 0o600)
			os.Chown(inImage, 1000, 1000)
			if r := hardbake(t, "firstboot", "--root", dir); r.code != 2 || !strings.Contains(r.stderr, "is owned by uid 1000, not root") {
				t.Fatalf("not root's: exit %d\n%s", r.code, r.stderr)
			}
			os.Remove(inImage)
			delete(before, "etc/hardbake/host.yaml")
			testroot.AssertSame(t, before, testroot.Digest(t, dir, "/proc", "/sys", "/dev"))

			// The real run, from the in-image file (what write_files leaves).
			writeSecret(t, inImage, hostYAML)
			start := time.Now()
			r := hardbake(t, "firstboot", "--root", dir, "--json")
			if r.code != 0 {
				t.Fatalf("firstboot: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			t.Logf("%s: firstboot with ed25519 host key generation: %s", suite, time.Since(start).Round(time.Millisecond))
			rep := r.report(t)
			if !rep.OK || rep.Changed == 0 {
				t.Fatalf("report: %s", r.stdout)
			}
			if strings.Contains(r.stdout+r.stderr, "AAAAC3Nza") || !strings.Contains(r.stdout, "SHA256:s/0c+jTalkaGTh2+E7Xx3FRfZxzdmKdqNnR5FzObL1U") {
				t.Fatalf("the report must show fingerprints, never keys:\n%s", r.stdout)
			}
			if _, err := os.Stat(inImage); !os.IsNotExist(err) {
				t.Fatalf("host data not removed: %v", err)
			}

			// The user, its groups, files, modes and owners.
			passwd := chrootOut(t, dir, "getent", "passwd", "alice")
			if !strings.HasPrefix(passwd, "alice:x:1000:1000::/home/alice:/bin/bash") {
				t.Fatalf("passwd: %q", passwd)
			}
			if groups := chrootOut(t, dir, "id", "-nG", "alice"); strings.Join(strings.Fields(groups), " ") != "alice adm sudo" {
				t.Fatalf("groups: %q", groups)
			}
			for _, f := range []struct {
				path string
				mode os.FileMode
				uid  uint32
			}{
				{"home/alice/.ssh", os.ModeDir | 0o700, 1000},
				{"home/alice/.ssh/authorized_keys", 0o600, 1000},
				{"etc/sudoers.d/90-hardbake-alice", 0o440, 0},
				{"etc/ssh/ssh_host_ed25519_key", 0o600, 0},
				{"var/lib/hardbake/firstboot.done", 0o644, 0},
			} {
				mode, uid, gid := statOwner(t, filepath.Join(dir, f.path))
				if mode != f.mode || uid != f.uid || gid != f.uid {
					t.Errorf("%s: %v %d:%d, want %v %d:%d", f.path, mode, uid, gid, f.mode, f.uid, f.uid)
				}
			}
			ak, _ := os.ReadFile(filepath.Join(dir, "home/alice/.ssh/authorized_keys"))
			if lines := strings.Split(strings.TrimSpace(string(ak)), "\n"); len(lines) != 2 || lines[1] != aliceKey {
				t.Fatalf("authorized_keys:\n%s", ak)
			}
			if rsa, _ := filepath.Glob(filepath.Join(dir, "etc/ssh/ssh_host_rsa_key*")); len(rsa) > 0 {
				t.Errorf("RSA host key made although the profile did not ask: %v", rsa)
			}
			chrootOut(t, dir, "visudo", "-c")
			if out := chrootOut(t, dir, "sudo", "-l", "-U", "alice"); !strings.Contains(out, "NOPASSWD: ALL") {
				t.Errorf("sudo -l: %s", out)
			}
			wantSSHD(t, sshdT(t, dir), map[string]string{
				"addressfamily": "inet", "port": "2222", "passwordauthentication": "no", "permitrootlogin": "no",
			})
			if h, _ := os.ReadFile(filepath.Join(dir, "etc/hostname")); string(h) != "web-1.example.com\n" {
				t.Errorf("hostname %q", h)
			}
			if h, _ := os.ReadFile(filepath.Join(dir, "etc/hosts")); !strings.Contains(string(h), "127.0.1.1\tweb-1.example.com web-1\n") {
				t.Errorf("hosts:\n%s", h)
			}
			var m firstboot.MarkerData
			data, _ := os.ReadFile(filepath.Join(dir, firstboot.Marker))
			if err := json.Unmarshal(data, &m); err != nil || !m.Consumed || m.Kind != "file" || m.User != "alice" || len(m.Keys) != 1 {
				t.Fatalf("marker %s: %v", data, err)
			}

			// Second run: the marker makes it a no-op, byte for byte.
			before = testroot.Digest(t, dir, "/proc", "/sys", "/dev")
			writeSecret(t, cfg, hostYAML)
			r = hardbake(t, "firstboot", "--root", dir, "--config", cfg, "--json")
			if rep := r.report(t); r.code != 0 || rep.Changed != 0 {
				t.Fatalf("second run: exit %d changed %d\n%s", r.code, rep.Changed, r.stdout)
			}
			testroot.AssertSame(t, before, testroot.Digest(t, dir, "/proc", "/sys", "/dev"))

			// A power cut before the marker: the next run completes the
			// same state without redoing what exists.
			os.Remove(filepath.Join(dir, firstboot.Marker))
			os.Remove(filepath.Join(dir, "home/alice/.ssh/authorized_keys"))
			r = hardbake(t, "firstboot", "--root", dir, "--config", cfg, "--json")
			if r.code != 0 {
				t.Fatalf("rerun: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if out := r.stdout; strings.Contains(out, "useradd") || strings.Contains(out, "ssh-keygen") || !strings.Contains(out, "authorized_keys") {
				t.Fatalf("rerun redid or skipped work:\n%s", out)
			}
			if ak2, _ := os.ReadFile(filepath.Join(dir, "home/alice/.ssh/authorized_keys")); string(ak2) != strings.Replace(string(ak), "/etc/hardbake/host.yaml", cfg, 1) {
				t.Fatalf("authorized_keys after rerun:\n%s", ak2)
			}
		})
	}
}

// TestFirstbootRefusesSymlinkedSSHDir: a ~/.ssh planted as a symlink (to
// /etc here) is refused, and nothing is written through it.
func TestFirstbootRefusesSymlinkedSSHDir(t *testing.T) {
	requireRoot(t)
	dir := testroot.Debian(t, "bookworm")
	chrootOut(t, dir, "useradd", "-m", "-s", "/bin/bash", "alice")
	os.Symlink("/etc", filepath.Join(dir, "home/alice/.ssh"))
	cfg := filepath.Join(t.TempDir(), "h.yaml")
	writeSecret(t, cfg, hostYAML)
	r := hardbake(t, "firstboot", "--root", dir, "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "/home/alice/.ssh") || !strings.Contains(r.stderr, "symbolic link is refused") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "etc/authorized_keys")); err == nil {
		t.Fatal("wrote through the symlink")
	}
	if _, err := os.Stat(filepath.Join(dir, firstboot.Marker)); err == nil {
		t.Fatal("marker written after a failure")
	}
}

// TestFirstbootFromSeed: host data under `hardbake:` in the user-data of a
// NoCloud seed image, read with go-diskfs; the seed itself is read-only, so
// consumption is recorded in the marker.
func TestFirstbootFromSeed(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("genisoimage"); err != nil {
		t.Skip("genisoimage not installed")
	}
	dir := testroot.Debian(t, "trixie")
	seedDir := t.TempDir()
	ud := "#cloud-config\nhardbake:\n" + indent(hostYAML) + "runcmd: [[true]]\n"
	writeFile(t, filepath.Join(seedDir, "user-data"), ud)
	writeFile(t, filepath.Join(seedDir, "meta-data"), "instance-id: t\n")
	iso := filepath.Join(seedDir, "seed.iso")
	c := exec.Command("genisoimage", "-quiet", "-output", iso, "-volid", "cidata", "-joliet", "-rock", "user-data", "meta-data")
	c.Dir = seedDir
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	bad := filepath.Join(seedDir, "bad.iso")
	writeFile(t, filepath.Join(seedDir, "user-data"), strings.Replace(ud, "name: alice", "name: Alice", 1))
	c = exec.Command("genisoimage", "-quiet", "-output", bad, "-volid", "cidata", "-joliet", "-rock", "user-data", "meta-data")
	c.Dir = seedDir
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if r := hardbake(t, "firstboot", "--root", dir, "--seed", bad); r.code != 2 || !strings.Contains(r.stderr, `hardbake.user.name (line 4): "Alice" is not a valid user name on debian`) {
		t.Fatalf("bad seed: exit %d\n%s", r.code, r.stderr)
	}
	r := hardbake(t, "firstboot", "--root", dir, "--seed", iso)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	data, _ := os.ReadFile(filepath.Join(dir, firstboot.Marker))
	if !strings.Contains(string(data), `"source_kind": "seed"`) || !strings.Contains(string(data), `"consumed": true`) {
		t.Fatalf("marker: %s", data)
	}
	if _, err := os.Stat(iso); err != nil {
		t.Fatal("the seed image is read-only input; it must stay")
	}
	wantSSHD(t, sshdT(t, dir), map[string]string{"addressfamily": "inet", "port": "2222"})
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  ") + "\n"
}

// TestFirstbootNoData: no host data anywhere: host keys are made, a loud
// warning, no marker (host data arriving later is still applied).
func TestFirstbootNoData(t *testing.T) {
	requireRoot(t)
	dir := testroot.Debian(t, "bookworm")
	keys, _ := filepath.Glob(filepath.Join(dir, "etc/ssh/ssh_host_*"))
	for _, k := range keys {
		os.Remove(k)
	}
	r := hardbake(t, "firstboot", "--root", dir)
	if r.code != 0 || !strings.Contains(r.stderr, "WARNING: no host data with a user and no account has an SSH key") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "etc/ssh/ssh_host_ed25519_key")); err != nil {
		t.Fatal("no host key made")
	}
	if _, err := os.Stat(filepath.Join(dir, firstboot.Marker)); err == nil {
		t.Fatal("marker written without host data")
	}
	wantSSHD(t, sshdT(t, dir), map[string]string{"passwordauthentication": "no"})
}
