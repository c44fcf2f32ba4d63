package steps

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

// The two openssh-server versions of the upgrade test: bookworm's, which
// the cached root has, and bookworm-backports', whose sshd_config template
// (/usr/share/openssh/sshd_config, the default ucf compares with) differs
// from bookworm's (AcceptEnv gains COLORTERM NO_COLOR, comments change).
const (
	bookwormSSH  = "1:9.2p1-2+deb12u10"
	backportsSSH = "1:10.0p1-7~bpo12+1"
	backportsURL = "http://deb.debian.org/debian/dists/bookworm-backports/Release"
)

// TestSSHSurvivesPackageUpgrades: Debian's sshd_config is managed by ucf,
// not dpkg. After a bake, openssh-server is upgraded to the backports
// version with apt-get (non-interactive, stdin closed), downgraded back, and
// upgraded again by unattended-upgrades (restricted to that origin). Each
// time ucf meets a changed maintainer default and a locally modified file:
// it must keep ours (writing sshd_config.ucf-dist), byte for byte, mode 0600,
// without stopping on its question, and the target's own sshd -T must still
// show every hardened value. unattended-upgrades checks only dpkg conffiles
// for prompts, so it does not skip openssh-server for its ucf file.
func TestSSHSurvivesPackageUpgrades(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root, network: not in -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	hc := http.Client{Timeout: 15 * time.Second}
	if resp, err := hc.Head(backportsURL); err != nil || resp.StatusCode != http.StatusOK {
		t.Skipf("bookworm-backports not reachable (%v %v): the upgrade cannot be tried here", resp, err)
	}
	dir := testroot.Debian(t, "bookworm")
	r, d := testroot.Open(t, dir)
	env := &Env{Root: r, Run: runner.Exec{Chroot: dir}, Distro: d, Profile: profile.Default()}
	env.StartRun()
	sshdVersion := func() string {
		res, err := env.Run.Run(ctx, cmd("dpkg-query", "-W", "-f", "${Version}", "openssh-server"))
		if err != nil {
			t.Fatal(err)
		}
		return string(res.Stdout)
	}
	if v := sshdVersion(); v != bookwormSSH {
		t.Fatalf("the cached root has openssh-server %s, the test expects %s", v, bookwormSSH)
	}

	// The bake: the ssh step, and updates (which installs unattended-upgrades).
	for _, s := range []Step{SSH{}, Updates{}} {
		if _, err := s.Apply(ctx, env); err != nil {
			t.Fatalf("%s: %v", s.Name(), err)
		}
	}
	baked, err := r.ReadFile(SSHDConfig)
	if err != nil {
		t.Fatal(err)
	}
	directives, _, _, err := SSH{}.settings(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	hardened := want(directives)
	if len(hardened) < 25 {
		t.Fatalf("only %d hardened keywords", len(hardened))
	}

	// Backports, preferred for the OpenSSH packages only.
	files := map[string]string{
		"/etc/apt/sources.list.d/bookworm-backports.list": "deb http://deb.debian.org/debian bookworm-backports main\n",
		"/etc/apt/preferences.d/openssh-backports":        "Package: openssh-server openssh-client openssh-sftp-server\nPin: release n=bookworm-backports\nPin-Priority: 500\n",
		// unattended-upgrades' origins are hardbake's (security only) plus this one.
		"/etc/apt/apt.conf.d/53test-backports": "Unattended-Upgrade::Origins-Pattern:: \"origin=Debian Backports,codename=bookworm-backports\";\n",
	}
	for p, text := range files {
		if err := r.WriteFile(p, []byte(text), 0o644, root.RootOwner); err != nil {
			t.Fatal(err)
		}
	}
	// run runs a package command as a bake would (policy-rc.d, /proc, /sys,
	// /dev lent to the chroot), with stdin closed: a question would read
	// end of file and fail or be seen in the output, never wait.
	run := func(c runner.Cmd) string {
		t.Helper()
		var out []byte
		err := withPackages(ctx, env, func() error {
			res, err := env.Run.Run(ctx, c)
			out = append(res.Stdout, res.Stderr...)
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
		return string(out)
	}
	noninteractive := []string{"DEBIAN_FRONTEND=noninteractive"}
	run(runner.Cmd{Name: "apt-get", Args: []string{"-q", "update"}})

	intact := func(after, version, out string) {
		t.Helper()
		if v := sshdVersion(); v != version {
			t.Fatalf("after %s: openssh-server %s, want %s\n%s", after, v, version, out)
		}
		if strings.Contains(out, "What do you want to do about modified configuration file") {
			t.Errorf("after %s: ucf asked its question:\n%s", after, out)
		}
		now, err := r.ReadFile(SSHDConfig)
		if err != nil || !bytes.Equal(now, baked) {
			t.Errorf("after %s: sshd_config changed (%v):\n%s", after, err, now)
		}
		if fi, err := r.Stat(SSHDConfig); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("after %s: sshd_config mode %v (%v), want 0600", after, fi.Mode(), err)
		}
		if !r.Exists(SSHDConfig + ".ucf-dist") {
			t.Errorf("after %s: no sshd_config.ucf-dist: ucf did not see a changed default", after)
		}
		env.StartRun() // ask the upgraded sshd, not the model of the bake
		got, source, err := effectiveSSHD(ctx, env)
		if err != nil || source != "sshd -T" {
			t.Fatalf("after %s: %s: %v", after, source, err)
		}
		for k, w := range hardened {
			if g := strings.ToLower(strings.Join(got[k], " ")); g != strings.ToLower(w) {
				t.Errorf("after %s: sshd -T %s %q, want %q", after, k, g, w)
			}
		}
		if g := strings.Join(got["allowgroups"], " "); g != "sudo" {
			t.Errorf("after %s: sshd -T allowgroups %q, want sudo", after, g)
		}
		t.Logf("after %s: openssh-server %s, sshd_config kept byte for byte, %d hardened keywords in sshd -T", after, version, len(hardened))
	}

	out := run(runner.Cmd{Name: "apt-get", Args: []string{"-q", "-y", "install", "openssh-server"}, Env: noninteractive})
	intact("apt-get install (upgrade)", backportsSSH, out)

	pin := func(v string) []string {
		return []string{"openssh-server=" + v, "openssh-client=" + v, "openssh-sftp-server=" + v}
	}
	out = run(runner.Cmd{Name: "apt-get", Args: append([]string{"-q", "-y", "--allow-downgrades", "install"}, pin(bookwormSSH)...), Env: noninteractive})
	intact("apt-get install (downgrade)", bookwormSSH, out)

	// unattended-upgrade sets DEBIAN_FRONTEND itself, as under its timer.
	// With the updates step's DPkg::Options (--force-confold) it does not
	// look for conffile prompts at all; without them it checks and finds
	// none (sshd_config is ucf's, not a dpkg conffile). Either way it must
	// not skip the package.
	out = run(runner.Cmd{Name: "unattended-upgrade", Args: []string{"-d"}})
	if strings.Contains(out, "openssh-server has conffile prompt") {
		t.Errorf("unattended-upgrade skipped openssh-server for a conffile prompt:\n%s", out)
	}
	intact("unattended-upgrade", backportsSSH, out)
}
