package steps

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

// TestKernelOnRealRoots bakes the kernel step into real Debian 12 and 13
// roots and judges the result with the roots' own tools:
//   - systemd-sysctl --cat-config lists the files systemd-sysctl reads, in
//     its order; our evaluator reads the same files in the same order and
//     gets the same winner for every key, with an agent's later file and a
//     /dev/null mask of a package file added to make the merge non-trivial;
//   - modprobe -n -v shows each blocked module runs /bin/false;
//   - pam_limits (runuser's PAM stack) gives nobody and root a hard core
//     limit of 0; on Debian 13 it gave "unlimited" before (the systemd
//     package's limits.d file, which a local dpkg diversion moves aside);
//   - a second plan is empty; core_dumps: true puts Debian's file back.
func TestKernelOnRealRoots(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian roots: not in -short")
	}
	for _, suite := range testroot.Suites {
		t.Run(suite, func(t *testing.T) {
			dir := testroot.Debian(t, suite)
			r, d := testroot.Open(t, dir)
			ctx := context.Background()
			run := runner.Exec{Chroot: dir}
			env := &Env{Root: r, Run: run, Distro: d, Profile: profile.Default()}
			hardCore := func(user string) string {
				res, err := run.Run(ctx, cmd("runuser", "-u", user, "--", "sh", "-c", "ulimit -Hc"))
				if err != nil {
					t.Fatalf("runuser: %v", err)
				}
				return strings.TrimSpace(string(res.Stdout))
			}
			if suite == "trixie" {
				if got := hardCore("nobody"); got != "unlimited" {
					t.Errorf("before the bake nobody's hard core limit is %q; Debian 13's 10-coredump-debian.conf should make it unlimited", got)
				}
			}

			if _, err := (Kernel{}).Apply(ctx, env); err != nil {
				t.Fatal(err)
			}
			checks, err := Kernel{}.Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range checks {
				if c.Failed() {
					t.Errorf("check %s: want %s, got %s (%s)", c.ID, c.Want, c.Got, c.Detail)
				}
				if strings.HasPrefix(c.ID, "kernel.module.") && !strings.Contains(c.Detail, "modprobe -c") {
					t.Errorf("%s was not judged by modprobe: %s", c.ID, c.Detail)
				}
			}
			if actions, err := (Kernel{}).Plan(ctx, env); err != nil || len(actions) != 0 {
				t.Errorf("second plan: %v %v", Changes(actions), err)
			}
			for _, u := range []string{"nobody", "root"} {
				if got := hardCore(u); got != "0" {
					t.Errorf("after the bake %s's hard core limit is %q, want 0", u, got)
				}
			}
			for _, m := range []string{"cramfs", "usb-storage", "firewire-core"} {
				res, err := run.Run(ctx, cmd("modprobe", "-n", "-v", m))
				if err != nil || strings.TrimSpace(string(res.Stdout)) != "install /bin/false" {
					t.Errorf("modprobe -n -v %s: %q %v", m, res.Stdout, err)
				}
			}

			// systemd-sysctl's own merge against ours.
			writeFile(t, filepath.Join(dir, "etc/sysctl.d/99-zzz-agent.conf"), "net.ipv4.conf.all.rp_filter = 2\nnet.ipv4.conf.e*.send_redirects = 1\n")
			linkFile(t, "/dev/null", filepath.Join(dir, "etc/sysctl.d/50-pid-max.conf"))
			res, err := run.Run(ctx, cmd("/usr/lib/systemd/systemd-sysctl", "--cat-config", "--no-pager"))
			if err != nil {
				t.Fatal(err)
			}
			var theirs []sysctlFile
			var theirPaths []string
			for _, f := range catConfig(string(res.Stdout)) {
				if target, _ := r.Resolve(f.Path); target == "/dev/null" {
					continue // cat-config names a masked file (empty); it sets nothing
				}
				theirs = append(theirs, sysctlFile{Name: filepath.Base(f.Path), Path: f.Path, Text: f.Text})
				theirPaths = append(theirPaths, f.Path)
			}
			boot, err := loadSysctl(r, d)
			if err != nil {
				t.Fatal(err)
			}
			dirs, _, _ := readSysctlFiles(r)
			var ourPaths []string
			for _, f := range mergeSysctlFiles(dirs, nil) {
				ourPaths = append(ourPaths, f.Path)
			}
			if !slices.Equal(theirPaths, ourPaths) {
				t.Fatalf("systemd-sysctl reads %v, our evaluator %v", theirPaths, ourPaths)
			}
			if slices.Contains(ourPaths, "/usr/lib/sysctl.d/50-pid-max.conf") {
				t.Errorf("the /dev/null link in /etc did not mask the package file: %v", ourPaths)
			}
			systemd := newSysctlConfig(theirs)
			keys := []string{"net.ipv4.conf.eth0.send_redirects", "net.ipv4.conf.lo.send_redirects", "kernel.pid_max"}
			for _, s := range kernelSysctl(env.Profile.Kernel) {
				keys = append(keys, strings.Replace(s.Key, "*", "eth0", 1))
			}
			for _, k := range keys {
				a, aok := systemd.Effective(k)
				b, bok := boot.Effective(k)
				if a.Value != b.Value || aok != bok || a.Path != b.Path {
					t.Errorf("%s: systemd-sysctl's files give %q from %s, our evaluator %q from %s", k, a.Value, a.Origin(), b.Value, b.Origin())
				}
			}
			after, _ := Kernel{}.Check(ctx, env)
			byID := map[string]report.Check{}
			for _, c := range after {
				byID[c.ID] = c
			}
			if c := byID["kernel.sysctl.net.ipv4.conf.all.rp_filter"]; c.OK || !strings.Contains(c.Detail, "/etc/sysctl.d/99-zzz-agent.conf:1") {
				t.Errorf("the agent's later rp_filter = 2 is not reported: %+v", c)
			}
			if c := byID["kernel.sysctl.net.ipv4.conf.*.send_redirects"]; c.OK || !strings.Contains(c.Detail, "/etc/sysctl.d/99-zzz-agent.conf:2") {
				t.Errorf("the agent's later glob is not reported: %+v", c)
			}

			// Core dumps allowed again: our files go, Debian's comes back.
			env.Profile.Kernel.CoreDumps = true
			if _, err := (Kernel{}).Apply(ctx, env); err != nil {
				t.Fatal(err)
			}
			if r.Exists(CoreLimits) || r.Exists(CoredumpDropIn) {
				t.Error("core_dumps: true left our core dump files")
			}
			if suite == "trixie" {
				if !r.Exists("/etc/security/limits.d/10-coredump-debian.conf") {
					t.Error("Debian 13's limits file was not put back")
				}
				if got := hardCore("nobody"); got != "unlimited" {
					t.Errorf("core_dumps: true: nobody's hard core limit %q, want Debian's unlimited", got)
				}
			}
		})
	}
}

func writeFile(t *testing.T, p, text string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func linkFile(t *testing.T, target, p string) {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}
