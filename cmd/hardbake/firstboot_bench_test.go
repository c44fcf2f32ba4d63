package main

// Issue 5's speed goal, measured like for like: a whole first boot without
// host-key generation by hardbake, and cloud-init's users-groups, ssh and
// set-passwords modules doing the same job (user alice with bash, adm and
// sudo, a NOPASSWD sudo rule, her authorized key, password login off, host
// keys kept), on the same cached Debian 12 root, in a chroot with /proc,
// /sys and /dev mounted, on the same machine. Every iteration starts from
// the same state: the files both touch are put back (alice absent, sshd and
// sudoers as baked) outside the timer, so each one does the whole job.
//
//	go test -run '^$' -bench 'Firstboot|CloudInit' -count 5 ./cmd/hardbake/
//
// hardbake does more than cloud-init here: the host name, the sshd port and
// address family, `sshd -t` before the change stays and `sshd -T` after it,
// a syncfs and the marker.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/firstboot"
	"github.com/hardbake/hardbake/bootstrap/host"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/steps"
	"github.com/hardbake/hardbake/internal/testroot"
)

// benchReset lists what either tool changes; put back between iterations.
var benchReset = []string{
	"/etc/passwd*", "/etc/group*", "/etc/shadow*", "/etc/gshadow*", "/etc/subuid*", "/etc/subgid*",
	"/etc/sudoers.d/*", "/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/*", "/etc/hostname", "/etc/hosts",
	"/etc/cloud/cloud.cfg.d/*", "/var/lib/hardbake/*", "/var/lib/cloud/instances/*/sem/*",
	"/var/lib/cloud/data/*", "/var/log/cloud-init*.log", "/root/.ssh/*",
}

type savedFile struct {
	data     []byte
	mode     fs.FileMode
	uid, gid int
}

// rootState is a snapshot of the files of benchReset in a root.
type rootState struct {
	dir   string
	files map[string]savedFile
}

func snapshotRoot(tb testing.TB, dir string) *rootState {
	tb.Helper()
	s := &rootState{dir: dir, files: map[string]savedFile{}}
	for _, p := range s.matches(tb) {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		fi, _ := os.Lstat(p)
		st := fi.Sys().(*syscall.Stat_t)
		s.files[p] = savedFile{data, fi.Mode().Perm(), int(st.Uid), int(st.Gid)}
	}
	return s
}

func (s *rootState) matches(tb testing.TB) []string {
	var out []string
	for _, g := range benchReset {
		m, err := filepath.Glob(filepath.Join(s.dir, g))
		if err != nil {
			tb.Fatal(err)
		}
		for _, p := range m {
			if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() {
				out = append(out, p)
			}
		}
	}
	return out
}

// restore puts the snapshot back and removes alice's home.
func (s *rootState) restore(tb testing.TB) {
	tb.Helper()
	for _, p := range s.matches(tb) {
		if _, ok := s.files[p]; !ok {
			if err := os.Remove(p); err != nil {
				tb.Fatal(err)
			}
		}
	}
	for p, f := range s.files {
		if cur, err := os.ReadFile(p); err == nil && bytes.Equal(cur, f.data) {
			continue
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			tb.Fatal(err)
		}
		os.Chmod(p, f.mode)
		os.Chown(p, f.uid, f.gid)
	}
	for _, d := range []string{"home/alice", "var/mail/alice"} {
		if err := os.RemoveAll(filepath.Join(s.dir, d)); err != nil {
			tb.Fatal(err)
		}
	}
}

// hostKeys fingerprints the root's host keys: neither tool may touch them.
func hostKeys(tb testing.TB, dir string) string {
	tb.Helper()
	keys, _ := filepath.Glob(filepath.Join(dir, "etc/ssh/ssh_host_*"))
	if len(keys) == 0 {
		tb.Fatal("the root has no host keys")
	}
	h := sha256.New()
	for _, k := range keys {
		data, err := os.ReadFile(k)
		if err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(h, "%s %x\n", k, sha256.Sum256(data))
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// verifyAlice fails the benchmark unless the job was done: alice with bash
// in adm and sudo, her key in a 0600 authorized_keys she owns, the sudo rule
// in sudoersFile, the host keys as they were. With deep, the root's own
// visudo, sudo and sshd judge it too.
func verifyAlice(tb testing.TB, dir, sudoersFile, keys string, deep bool) {
	tb.Helper()
	passwd, _ := os.ReadFile(filepath.Join(dir, "etc/passwd"))
	if !strings.Contains(string(passwd), "\nalice:x:1000:1000::/home/alice:/bin/bash\n") {
		tb.Fatalf("no alice in /etc/passwd:\n%s", passwd)
	}
	group, _ := os.ReadFile(filepath.Join(dir, "etc/group"))
	for _, g := range []string{"adm", "sudo"} {
		found := false
		for _, l := range strings.Split(string(group), "\n") {
			if f := strings.Split(l, ":"); len(f) == 4 && f[0] == g && strings.Contains(","+f[3]+",", ",alice,") {
				found = true
			}
		}
		if !found {
			tb.Fatalf("alice is not in %s:\n%s", g, group)
		}
	}
	ak := filepath.Join(dir, "home/alice/.ssh/authorized_keys")
	data, err := os.ReadFile(ak)
	if err != nil || !strings.Contains(string(data), aliceKey+"\n") {
		tb.Fatalf("authorized_keys: %v\n%s", err, data)
	}
	if fi, err := os.Stat(ak); err != nil || fi.Mode().Perm() != 0o600 || fi.Sys().(*syscall.Stat_t).Uid != 1000 {
		tb.Fatalf("authorized_keys mode/owner: %v %v", fi.Mode(), err)
	}
	rule, err := os.ReadFile(filepath.Join(dir, sudoersFile))
	if err != nil || !strings.Contains(strings.ReplaceAll(string(rule), "NOPASSWD:ALL", "NOPASSWD: ALL"), "alice ALL=(ALL:ALL) NOPASSWD: ALL") {
		tb.Fatalf("%s: %v\n%s", sudoersFile, err, rule)
	}
	if got := hostKeys(tb, dir); got != keys {
		tb.Fatal("host keys changed")
	}
	if !deep {
		return
	}
	chroot := func(args ...string) string {
		out, err := exec.Command("chroot", append([]string{dir}, args...)...).CombinedOutput()
		if err != nil {
			tb.Fatalf("chroot %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	chroot("visudo", "-c")
	if out := chroot("sudo", "-l", "-U", "alice"); !strings.Contains(out, "NOPASSWD: ALL") {
		tb.Fatalf("sudo -l -U alice:\n%s", out)
	}
	os.MkdirAll(filepath.Join(dir, "run/sshd"), 0o755)
	if out := chroot("/usr/sbin/sshd", "-T"); !strings.Contains(out, "\npasswordauthentication no\n") {
		tb.Fatalf("sshd -T: password login is not off:\n%s", out)
	}
}

// BenchmarkFirstboot: hardbake's whole first boot with host keys present.
// in-process calls firstboot.Run (the commands it runs are real processes
// in the chroot); process runs the hardbake binary, as the unit does, so its
// start-up counts like cloud-init's.
func BenchmarkFirstboot(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	dir := testroot.Debian(b, "bookworm")
	r, d := testroot.Open(b, dir)
	run := runner.Exec{Chroot: dir}
	env := &steps.Env{Root: r, Run: run, Distro: d, Profile: profile.Default()}
	ctx := context.Background()
	// The image as baked: hardbake's sshd configuration (port 22, any
	// address family), which the host data changes.
	if _, err := (steps.SSH{}).Apply(ctx, env); err != nil {
		b.Fatal(err)
	}
	keys := hostKeys(b, dir)
	baked := snapshotRoot(b, dir)
	cfg := filepath.Join(b.TempDir(), "h.yaml")
	bin := hardbakeBin(b)
	err := run.WithSystem(ctx, func() error {
		for _, mode := range []string{"in-process", "process"} {
			b.Run(mode, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					baked.restore(b)
					if err := os.WriteFile(cfg, []byte(hostYAML), 0o600); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if mode == "in-process" {
						rep, err := firstboot.Run(ctx, firstboot.Options{Env: env, Sources: host.Sources{Config: cfg, Root: r}, SkipHostKeys: true})
						if err != nil || !rep.OK {
							b.Fatalf("%v %+v", err, rep)
						}
					} else {
						out, err := exec.Command(bin, "firstboot", "--root", dir, "--config", cfg).CombinedOutput()
						if err != nil {
							b.Fatalf("hardbake firstboot: %v\n%s", err, out)
						}
					}
					b.StopTimer()
					verifyAlice(b, dir, "etc/sudoers.d/90-hardbake-alice", keys, i == 0)
					if _, err := os.Stat(filepath.Join(dir, firstboot.Marker)); err != nil {
						b.Fatal("no marker")
					}
					b.StartTimer()
				}
			})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// cloudInitUserData is hostYAML's user as cloud-init's users-groups and ssh
// modules take it. ssh_genkeytypes is what the firstboot bake step writes
// for the default profile; with ssh_deletekeys off and the keys present,
// cloud-init makes none, as firstboot makes none in BenchmarkFirstboot.
const cloudInitUserData = `#cloud-config
users:
  - name: alice
    shell: /bin/bash
    groups: [adm, sudo]
    sudo: "ALL=(ALL:ALL) NOPASSWD: ALL"
    lock_passwd: true
    ssh_authorized_keys:
      - ` + aliceKey + `
ssh_pwauth: false
disable_root: true
ssh_deletekeys: false
ssh_genkeytypes: [ed25519]
`

// BenchmarkCloudInit: the root's own cloud-init (Debian 12: 22.4.2) doing
// the same job from a NoCloud seed directory. The seed is found and its
// user-data consumed once (`cloud-init init --local`, `cloud-init init`
// with no init modules), as at a first boot before these modules run; each
// iteration then runs the modules from scratch (their semaphores removed):
//
//   - one-process: `cloud-init modules --mode config` with the module list
//     users-groups, ssh, set-passwords: one Python start-up, like one stage
//     of a boot (cloud-init's cheapest way to do the job);
//   - single: `cloud-init single --name M --frequency always` per module,
//     three processes.
func BenchmarkCloudInit(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	dir := testroot.Debian(b, "bookworm")
	if _, err := os.Stat(filepath.Join(dir, "usr/bin/cloud-init")); err != nil {
		b.Skip("no cloud-init in the root")
	}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	seed := filepath.Join(dir, "var/lib/cloud/seed/nocloud")
	must(os.MkdirAll(seed, 0o755))
	must(os.WriteFile(filepath.Join(seed, "user-data"), []byte(cloudInitUserData), 0o600))
	must(os.WriteFile(filepath.Join(seed, "meta-data"), []byte("instance-id: bench-1\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "etc/cloud/cloud.cfg.d/90-bench.cfg"), []byte(
		"datasource_list: [NoCloud]\ncloud_init_modules: []\ncloud_config_modules: [users-groups, ssh, set-passwords]\ncloud_final_modules: []\n"), 0o644))
	run := runner.Exec{Chroot: dir}
	ctx := context.Background()
	cloudInit := func(args ...string) error {
		res, err := run.Run(ctx, runner.Cmd{Name: "cloud-init", Args: args})
		if err != nil {
			return fmt.Errorf("%w\n%s", err, res.Stdout)
		}
		return nil
	}
	keys := hostKeys(b, dir)
	err := run.WithSystem(ctx, func() error {
		for _, stage := range [][]string{{"init", "--local"}, {"init"}} {
			if err := cloudInit(stage...); err != nil {
				return err
			}
		}
		if cc, err := os.ReadFile(filepath.Join(dir, "var/lib/cloud/instances/bench-1/cloud-config.txt")); err != nil || !bytes.Contains(cc, []byte(strings.Fields(aliceKey)[1])) {
			return fmt.Errorf("cloud-init did not consume the seed's user-data: %v\n%s", err, cc)
		}
		if _, err := os.Stat(filepath.Join(dir, "home/alice")); err == nil {
			return fmt.Errorf("alice exists before the modules ran")
		}
		first := snapshotRoot(b, dir)
		for _, mode := range []string{"one-process", "single"} {
			b.Run(mode, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					first.restore(b)
					b.StartTimer()
					if mode == "one-process" {
						if err := cloudInit("modules", "--mode", "config"); err != nil {
							b.Fatal(err)
						}
					} else {
						for _, m := range []string{"users_groups", "ssh", "set_passwords"} {
							if err := cloudInit("single", "--name", m, "--frequency", "always"); err != nil {
								b.Fatal(err)
							}
						}
					}
					b.StopTimer()
					verifyAlice(b, dir, "etc/sudoers.d/90-cloud-init-users", keys, i == 0)
					b.StartTimer()
				}
			})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
