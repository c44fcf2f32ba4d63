package steps

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/sshcrypto"
	"github.com/hardbake/hardbake/internal/testroot"
)

// countingRunner counts the target's sshd runs by their first argument.
type countingRunner struct {
	runner.Runner
	sshd map[string]int
}

func (c *countingRunner) Run(ctx context.Context, cmd runner.Cmd) (runner.Result, error) {
	if cmd.Name == SSHDBinary && len(cmd.Args) > 0 {
		c.sshd[cmd.Args[0]]++
	}
	return c.Runner.Run(ctx, cmd)
}

// TestOneSSHDModelPerRun: a run asks the real sshd each question once,
// however many steps need the answer: a bake of the ssh step asks -V, one
// algorithm probe (-t) and one -T (its validation, which its check and the
// ports of the firewall and fail2ban then read); an audit of ssh, fail2ban
// and the firewall asks -T once. A write under /etc/ssh makes the next
// question ask again.
func TestOneSSHDModelPerRun(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.Debian(t, "bookworm")
	// Passwords on, so that the bake has something to write and validate.
	if err := os.WriteFile(filepath.Join(dir, "etc/ssh/sshd_config.d/50-cloud-init.conf"), []byte("PasswordAuthentication yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, d := testroot.Open(t, dir)
	count := &countingRunner{Runner: runner.Exec{Chroot: dir}, sshd: map[string]int{}}
	env := &Env{Root: r, Run: count, Distro: d, Profile: profile.Default()}
	ctx := context.Background()

	if _, err := Run(ctx, env, ModeBake, []Step{SSH{}}); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"-V": 1, "-t": 1, "-T": 1}; !equalCounts(count.sshd, want) {
		t.Errorf("bake of the ssh step ran sshd %v, want %v", count.sshd, want)
	}
	if ports, err := sshPorts(ctx, env); err != nil || len(ports) != 1 || ports[0] != 22 || count.sshd["-T"] != 1 {
		t.Errorf("the firewall's ports %v (%v) asked sshd again: %v", ports, err, count.sshd)
	}

	count.sshd = map[string]int{}
	if _, err := Run(ctx, env, ModeAudit, []Step{SSH{}, Fail2ban{}, Firewall{}}); err != nil && count.sshd["-T"] == 0 {
		t.Fatal(err)
	}
	if count.sshd["-T"] != 1 {
		t.Errorf("audit of ssh, fail2ban and firewall ran sshd %v, want -T once", count.sshd)
	}

	// A write under /etc/ssh: the next question is asked again.
	a, err := WriteFile(env.Root, "/etc/ssh/sshd_config.d/10-test.conf", []byte("PrintLastLog no\n"), 0o644, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Execute(ctx, env, []Action{*a}); err != nil {
		t.Fatal(err)
	}
	got, _, err := effectiveSSHD(ctx, env)
	if err != nil || got["printlastlog"][0] != "no" || count.sshd["-T"] != 2 {
		t.Errorf("after a write: printlastlog %v (%v), sshd runs %v", got["printlastlog"], err, count.sshd)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestKeepBakedCrypto: first boot on a baked root keeps the algorithm lines
// the bake chose, without sshd -V or a probe: applying a new port runs sshd
// once (-T), and the drop-in's algorithm lines are the baked ones.
func TestKeepBakedCrypto(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.Debian(t, "bookworm")
	r, d := testroot.Open(t, dir)
	ctx := context.Background()
	env := &Env{Root: r, Run: runner.Exec{Chroot: dir}, Distro: d, Profile: profile.Default()}
	if _, err := Run(ctx, env, ModeBake, []Step{SSH{}}); err != nil {
		t.Fatal(err)
	}
	baked, err := r.ReadFile(SSHDropIn)
	if err != nil {
		t.Fatal(err)
	}
	count := &countingRunner{Runner: runner.Exec{Chroot: dir}, sshd: map[string]int{}}
	p := profile.Default()
	p.SSH.Ports = []int{2222}
	boot := &Env{Root: r, Run: count, Distro: d, Profile: p}
	boot.StartRun()
	if !boot.KeepBakedCrypto() {
		t.Fatal("no baked algorithms found")
	}
	if _, err := (SSH{}).Apply(ctx, boot); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"-T": 1}; !equalCounts(count.sshd, want) {
		t.Errorf("first boot's ssh step ran sshd %v, want %v", count.sshd, want)
	}
	now, _ := r.ReadFile(SSHDropIn)
	algorithms := func(text []byte) (out []string) {
		for _, l := range strings.Split(string(text), "\n") {
			if k, _, _ := strings.Cut(l, " "); slices.Contains(sshcrypto.KindOrder, k) {
				out = append(out, l)
			}
		}
		return out
	}
	if a, b := algorithms(baked), algorithms(now); len(a) != 4 || !slices.Equal(a, b) {
		t.Errorf("algorithm lines baked %q, after first boot %q", a, b)
	}
	if !strings.Contains(string(now), "\nPort 2222\n") {
		t.Errorf("the new port is not there:\n%s", now)
	}
}
