package steps

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// Plans must not depend on the test binary: the firstboot step copies a
// small stand-in instead.
func init() {
	selfExecutable = func() (string, error) { return filepath.Abs("testdata/fake-hardbake") }
}

func TestFirstbootStep(t *testing.T) {
	env, rec := goldenEnv(t, "debian12", "ssh:\n  host_key_types: [ed25519, rsa]\n", map[string]runner.Result{"systemctl enable": {}})
	os.MkdirAll(env.Root.HostPath("/var/lib/hardbake"), 0o755)
	os.WriteFile(env.Root.HostPath(FirstbootMarker), []byte("{}\n"), 0o644)
	changes, err := Firstboot{}.Apply(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	bin, _ := os.ReadFile(env.Root.HostPath(FirstbootBinary))
	if fi, err := os.Stat(env.Root.HostPath(FirstbootBinary)); err != nil || fi.Mode().Perm() != 0o755 || !strings.Contains(string(bin), "hardbake test") {
		t.Fatalf("binary not copied: %v", err)
	}
	if env.Root.Exists(FirstbootMarker) {
		t.Fatal("a marker baked into the image would skip first boot on every host")
	}
	unit, _ := os.ReadFile(env.Root.HostPath(FirstbootUnit))
	for _, want := range []string{"ConditionPathExists=!/var/lib/hardbake/firstboot.done", "DefaultDependencies=no",
		"After=local-fs.target systemd-remount-fs.service cloud-init-local.service", "Before=ssh.service sshd.service",
		"ExecStart=/usr/local/sbin/hardbake firstboot", "Type=oneshot", "RemainAfterExit=yes", "WantedBy=multi-user.target"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	prof, err := profile.Load(env.Root.HostPath(BakedProfile))
	if err != nil || strings.Join(prof.SSH.HostKeyTypes, ",") != "ed25519,rsa" {
		t.Fatalf("baked profile does not round-trip: %v %v", prof, err)
	}
	if got := rec.Strings(); len(got) != 1 || got[0] != "systemctl enable hardbake-firstboot.service" {
		t.Fatalf("commands %q", got)
	}
	if len(changes) < 4 || changes[0].Kind != "copy" || changes[0].Diff != "" {
		t.Fatalf("changes %+v", changes)
	}
	// Enabled (as systemctl would) and applied again: nothing to do, checks pass.
	wants := env.Root.HostPath("/etc/systemd/system/multi-user.target.wants")
	os.MkdirAll(wants, 0o755)
	os.Symlink(FirstbootUnit, filepath.Join(wants, FirstbootUnitName))
	if actions, err := (Firstboot{}).Plan(context.Background(), env); err != nil || len(actions) != 0 {
		t.Fatalf("second plan: %v %v", actions, err)
	}
	checks, _ := Firstboot{}.Check(context.Background(), env)
	for _, c := range checks {
		if !c.OK {
			t.Errorf("check %s: want %s, got %s", c.ID, c.Want, c.Got)
		}
	}
}
