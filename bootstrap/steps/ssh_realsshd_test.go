package steps

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
	"github.com/hardbake/hardbake/internal/testroot"
)

// TestDistroSSHDConfigsWithRealSSHD puts each family's shipped /etc/ssh (the
// fixture roots) into a real Debian 12 root and lets its OpenSSH 9.2 judge
// them, before and after the ssh step: `sshd -t` must accept the result, and
// the offline evaluator (used by `audit --image`) must agree with `sshd -T`
// on every keyword hardbake checks. Debian's sshd knows every option these
// fixtures use (UsePAM, GSSAPI*, SyslogFacility AUTHPRIV); the RHEL-family
// crypto-policies back-end they Include is absent from the fixtures, which
// sshd (like the evaluator) ignores for a literal Include.
func TestDistroSSHDConfigsWithRealSSHD(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	debian := testroot.Debian(t, "bookworm")
	for _, name := range []string{"debian12", "ubuntu2204", "ubuntu2404", "fedora41", "rocky9", "centos9", "alma9", "arch"} {
		t.Run(name, func(t *testing.T) {
			fixture := testroot.Copy(t, filepath.Join("testdata/roots", name))
			useSSHConfig(t, debian, fixture)
			r, err := root.Dir(debian)
			if err != nil {
				t.Fatal(err)
			}
			env := &Env{Root: r, Run: runner.Exec{Chroot: debian}, Profile: profile.Default()}
			if env.Distro, err = distro.Detect(r); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			compareWithSSHD(t, ctx, env, "as shipped")
			if _, err := (SSH{}).Apply(ctx, env); err != nil {
				t.Fatalf("ssh step on %s's config: %v", name, err)
			}
			got := compareWithSSHD(t, ctx, env, "after the ssh step")
			for k, v := range map[string]string{"permitrootlogin": "no", "passwordauthentication": "no", "kbdinteractiveauthentication": "no", "pubkeyauthentication": "yes"} {
				if got[k] != v {
					t.Errorf("after the ssh step sshd -T says %s %s", k, got[k])
				}
			}
		})
	}
}

// useSSHConfig replaces the Debian root's sshd_config and drop-ins by the
// fixture's, keeping Debian's host keys.
func useSSHConfig(t *testing.T, debian, fixture string) {
	t.Helper()
	dst := filepath.Join(debian, "etc/ssh")
	os.RemoveAll(filepath.Join(dst, "sshd_config.d"))
	os.Remove(filepath.Join(dst, "sshd_config"))
	src := filepath.Join(fixture, "etc/ssh")
	if out, err := exec.Command("cp", "-a", filepath.Join(src, "sshd_config"), dst).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(src, "sshd_config.d")); err == nil {
		if out, err := exec.Command("cp", "-a", filepath.Join(src, "sshd_config.d"), dst).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
	}
}

// compareWithSSHD returns sshd -T's values for the checked keywords after
// asserting the offline evaluator agrees with each.
func compareWithSSHD(t *testing.T, ctx context.Context, env *Env, when string) map[string]string {
	t.Helper()
	out, err := sshdTest(ctx, env, "-T")
	if err != nil {
		t.Fatalf("%s: sshd -T: %v", when, err)
	}
	real := parseSSHDT(out)
	eff, err := sshdconfig.Load(env.Root, SSHDConfig)
	if err != nil {
		t.Fatal(err)
	}
	offline := offlineSSHD(eff)
	got := map[string]string{}
	for k := range sshdDefaults {
		r, o := strings.Join(real[k], " "), strings.Join(offline[k], " ")
		if r != o {
			t.Errorf("%s: %s: sshd -T says %q, the offline evaluator %q", when, k, r, o)
		}
		got[k] = r
	}
	return got
}
