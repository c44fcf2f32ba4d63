package steps

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

// TestSysVDebianRoot proves the SysV path on a real Debian 12 root built
// with sysvinit-core instead of systemd (scripts/build-root-sysv.sh), in a
// chroot: detection, the ssh step validated by its sshd, the reload command
// run for real (Debian's init script checks the configuration with sshd -t
// before it restarts sshd, so a broken configuration makes it fail; with no
// sshd running and no /run/sshd, as at first boot, it succeeds and does
// nothing), the first-boot init script ordered by insserv before ssh, and
// the firewall's init script ordered before the network. The whole bake on
// this root, booted, is cmd/hardbake's TestSysVBoot.
func TestSysVDebianRoot(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.DebianSysV(t)
	r, d := testroot.Open(t, dir)
	if d.ServiceManager != distro.SysV || d.SSHService != "ssh" || d.Family != distro.Debian {
		t.Fatalf("detected %s", d)
	}
	p, err := profile.Parse([]byte("ssh:\n  ports: [2222]\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Root: r, Run: runner.Exec{Chroot: dir}, Distro: d, Profile: p}
	ctx := context.Background()

	var reload []string
	for _, a := range reloadSSH(d) {
		reload = append(reload, a.Cmd.String())
	}
	if !slices.Equal(reload, []string{"service ssh try-restart"}) {
		t.Fatalf("reload plan %q", reload)
	}
	if _, err := (SSH{}).Apply(ctx, env); err != nil {
		t.Fatal(err)
	}
	out, err := sshdTest(ctx, env, "-T")
	if err != nil {
		t.Fatal(err)
	}
	got := parseSSHDT(out)
	if strings.Join(got["port"], " ") != "2222" || strings.Join(got["passwordauthentication"], " ") != "no" {
		t.Errorf("sshd -T: port %v passwordauthentication %v", got["port"], got["passwordauthentication"])
	}
	// Like at first boot: no sshd runs and /run/sshd (which sshd -t needs)
	// does not exist yet.
	os.RemoveAll(filepath.Join(dir, "run/sshd"))
	for _, a := range reloadSSH(d) {
		if _, err := env.Run.Run(ctx, a.Cmd); err != nil {
			t.Fatalf("%s in the SysV root: %v", a.Cmd, err)
		}
	}
	bad := filepath.Join(dir, "etc/ssh/sshd_config.d/99-broken.conf")
	os.WriteFile(bad, []byte("NoSuchOption yes\n"), 0o644)
	if _, err := env.Run.Run(ctx, reloadSSH(d)[0].Cmd); err == nil {
		t.Errorf("%s accepted a broken configuration: it does not validate", reloadSSH(d)[0].Cmd)
	}
	os.Remove(bad)

	if _, err := (Firstboot{}).Apply(ctx, env); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, FirstbootInitScript))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("init script: %v", err)
	}
	links, order := bootOrder(dir, "rc2.d")
	if order[FirstbootInitName] == 0 || order["ssh"] == 0 || order[FirstbootInitName] >= order["ssh"] {
		t.Errorf("rc2.d does not start %s before ssh: %v", FirstbootInitName, links)
	}
	checks, err := Firstboot{}.Check(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if !c.OK {
			t.Errorf("check %s: want %s, got %s", c.ID, c.Want, c.Got)
		}
	}
	if again, err := (Firstboot{}).Plan(ctx, env); err != nil || len(again) != 0 {
		t.Errorf("second plan: %v %v", Changes(again), err)
	}
	// Once the marker exists the script does nothing (and its shell is valid).
	os.MkdirAll(filepath.Join(dir, "var/lib/hardbake"), 0o755)
	os.WriteFile(filepath.Join(dir, FirstbootMarker), []byte("{}\n"), 0o644)
	if out, err := exec.Command("chroot", dir, FirstbootInitScript, "start").CombinedOutput(); err != nil {
		t.Errorf("%s start with the marker: %v %s", FirstbootInitScript, err, out)
	}
	// Without it the script runs `hardbake firstboot`: a stand-in binary
	// records its arguments.
	os.Remove(filepath.Join(dir, FirstbootMarker))
	bin := filepath.Join(dir, FirstbootBinary)
	real, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bin, []byte("#!/bin/sh\necho \"$@\" >/tmp/fb-args\n"), 0o755)
	start := exec.Command("chroot", dir, FirstbootInitScript, "start")
	start.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	if out, err := start.CombinedOutput(); err != nil {
		t.Errorf("%s start: %v %s", FirstbootInitScript, err, out)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "tmp/fb-args"))
	if string(args) != "firstboot\n" {
		t.Errorf("%s start ran the binary with %q", FirstbootInitScript, args)
	}
	os.WriteFile(bin, real, 0o755)

	// The firewall's script: in the boot sequence (rcS), before networking.
	fw, err := initScriptActions(env, NftablesInitName, nftablesInitScriptText("/etc/nftables.conf"), "script", "enable")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Execute(ctx, env, fw); err != nil {
		t.Fatal(err)
	}
	links, order = bootOrder(dir, "rcS.d")
	if order[NftablesInitName] == 0 || order["networking"] == 0 || order[NftablesInitName] >= order["networking"] {
		t.Errorf("rcS.d does not start %s before networking: %v", NftablesInitName, links)
	}
	if c := initScriptCheck(env, "firewall.init_script", NftablesInitName, nftablesInitScriptText("/etc/nftables.conf")); !c.OK {
		t.Errorf("%s: %s", c.ID, c.Got)
	}
	if !unitEnabled(env, "nftables.service") {
		t.Errorf("nftables.service not enabled as %s", NftablesInitName)
	}
	if again, _ := initScriptActions(env, NftablesInitName, nftablesInitScriptText("/etc/nftables.conf"), "script", "enable"); len(again) != 0 {
		t.Errorf("second plan: %v", Changes(again))
	}

	// A build user still logged in at a live seal: the init script that
	// removes it at first boot is ordered before ssh by the root's insserv,
	// and when it runs it removes the user, its links and itself.
	chroot := func(args ...string) (string, error) {
		out, err := exec.Command("chroot", append([]string{dir}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := chroot("useradd", "-m", "packer"); err != nil {
		t.Fatalf("useradd: %v %s", err, out)
	}
	for _, op := range deferredUserRemoval(env, &Account{Name: "packer", Home: "/home/packer"}) {
		switch op.Kind {
		case "write":
			if err := env.Root.WriteFile(op.Path, op.Data, op.Mode, root.RootOwner); err != nil {
				t.Fatal(err)
			}
		case "run":
			if out, err := chroot(op.Cmd...); err != nil {
				t.Fatalf("%v: %v %s", op.Cmd, err, out)
			}
		}
	}
	links, order = bootOrder(dir, "rc2.d")
	if name := "hardbake-remove-build-user"; order[name] == 0 || order[name] >= order["ssh"] {
		t.Errorf("rc2.d does not start %s before ssh: %v", name, links)
	}
	if out, err := chroot(buildUserScript, "start"); err != nil {
		t.Fatalf("%s start: %v %s", buildUserScript, err, out)
	}
	if out, _ := chroot("getent", "passwd", "packer"); out != "" || env.Root.Exists("/home/packer") || env.Root.Exists(buildUserScript) {
		t.Errorf("after the script: passwd %q, home or script still there", out)
	}
	if links, _ := filepath.Glob(filepath.Join(dir, "etc/rc?.d/*hardbake-remove-build-user")); len(links) > 0 {
		t.Errorf("links left: %v", links)
	}
}

// bootOrder lists the start links of an rc directory in boot order (glob
// sorts them) and numbers each script's position from 1.
func bootOrder(dir, rc string) ([]string, map[string]int) {
	links, _ := filepath.Glob(filepath.Join(dir, "etc", rc, "S*"))
	order := map[string]int{}
	for i, l := range links {
		order[filepath.Base(l)[3:]] = i + 1
	}
	return links, order
}
