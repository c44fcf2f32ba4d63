package steps

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

// TestAptTableOnARealRoot judges the apt row of distro's package-manager
// table with the tools of a real Debian 12 root, in a chroot: installed()
// (which reads dpkg's status file, so it also works on a read-only image)
// must agree with dpkg-query, and the removal test the services step runs
// must be read as apt means it (purging openssh-client takes
// openssh-server along, which the step then refuses to do unasked).
func TestAptTableOnARealRoot(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.Debian(t, "bookworm")
	r, d := testroot.Open(t, dir)
	p, err := profile.Parse([]byte("services:\n  remove: [openssh-client]\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Root: r, Run: runner.Exec{Chroot: dir}, Distro: d, Profile: p}
	ctx := context.Background()

	res, err := env.Run.Run(ctx, cmd("dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\\n"))
	if err != nil {
		t.Fatal(err)
	}
	var all, want []string
	for _, l := range strings.Split(string(res.Stdout), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		all = append(all, f[0])
		if f[1] == "ii" {
			want = append(want, f[0])
		}
	}
	all = append(all, "fail2ban", "no-such-package")
	if len(want) < 100 || !slices.Contains(want, "openssh-server") {
		t.Fatalf("dpkg-query lists %d installed packages: not the root expected", len(want))
	}
	have, err := installed(ctx, env, all...)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pkg := range all {
		if have[pkg] {
			got = append(got, pkg)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("installed() and dpkg-query disagree:\n got  %d %v\n want %d %v", len(got), got, len(want), want)
	}

	pm := pkgManager(env)
	res, err = env.Run.Run(ctx, pm.RemoveTestCmd("openssh-client"))
	if err != nil {
		t.Fatal(err)
	}
	gone := pm.Removed(string(res.Stdout), []string{"openssh-client"})
	if !slices.Contains(gone, "openssh-client") || !slices.Contains(gone, "openssh-server") {
		t.Fatalf("purging openssh-client removes %v; apt said:\n%s", gone, res.Stdout)
	}
	if _, err := (Services{}).Plan(ctx, env); err == nil || !strings.Contains(err.Error(), "would also remove") {
		t.Fatalf("the services step plans to purge openssh-client without saying what goes with it: %v", err)
	}
}
