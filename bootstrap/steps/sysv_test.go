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
// before it signals sshd, so a broken configuration makes it fail), and the
// first-boot init script ordered by insserv before ssh.
func TestSysVDebianRoot(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.DebianSysV(t)
	r, err := root.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := distro.Detect(r)
	if err != nil {
		t.Fatal(err)
	}
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
	if !slices.Equal(reload, []string{"service ssh reload"}) {
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
	// A running sshd has made /run/sshd, which the script's sshd -t needs;
	// in the chroot nothing ran, so provide it.
	os.MkdirAll(filepath.Join(dir, "run/sshd"), 0o755)
	for _, a := range reloadSSH(d) {
		if _, err := env.Run.Run(ctx, a.Cmd); err != nil {
			t.Fatalf("%s in the SysV root: %v", a.Cmd, err)
		}
	}
	bad := filepath.Join(dir, "etc/ssh/sshd_config.d/99-broken.conf")
	os.WriteFile(bad, []byte("NoSuchOption yes\n"), 0o644)
	if _, err := env.Run.Run(ctx, runner.Cmd{Name: "service", Args: []string{"ssh", "reload"}}); err == nil {
		t.Errorf("service ssh reload accepted a broken configuration: it does not validate")
	}
	os.Remove(bad)

	if _, err := (Firstboot{}).Apply(ctx, env); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, FirstbootInitScript))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("init script: %v", err)
	}
	links, _ := filepath.Glob(filepath.Join(dir, "etc/rc2.d/S*"))
	order := map[string]int{}
	for i, l := range links { // glob sorts: the boot order
		name := filepath.Base(l)[3:]
		order[name] = i + 1
	}
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
}
