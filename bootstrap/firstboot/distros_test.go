package firstboot

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/host"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/steps"
	"github.com/hardbake/hardbake/internal/testroot"
)

const fixtures = "../steps/testdata/roots"

// fixtureEnv is a private copy of a fixture root with a recording runner
// that answers success for the tools these tests expect (fixture roots hold
// no binaries).
func fixtureEnv(t *testing.T, name string) (*steps.Env, *runner.Recorder) {
	t.Helper()
	r, d := testroot.Open(t, testroot.Copy(t, filepath.Join(fixtures, name)))
	rec := &runner.Recorder{Responses: map[string]runner.Result{"useradd ": {}, "visudo -c": {}, "restorecon ": {}}}
	return &steps.Env{Root: r, Run: rec, Distro: d, Profile: profile.Default()}, rec
}

// TestAdminGroupSudo: the user joins sudo on Debian/Ubuntu and wheel on
// Fedora/RHEL/Arch. Where the shipped sudoers already grants the group
// (every family but Arch) nothing is written; Arch ships "# %wheel ALL=(ALL:ALL)
// ALL" commented out, so a drop-in enables it, checked with visudo -c
// before it stays.
func TestAdminGroupSudo(t *testing.T) {
	for name, group := range map[string]string{
		"debian12": "sudo", "ubuntu2204": "sudo", "ubuntu2404": "sudo",
		"fedora41": "wheel", "rocky9": "wheel", "centos9": "wheel", "alma9": "wheel", "arch": "wheel",
	} {
		t.Run(name, func(t *testing.T) {
			env, rec := fixtureEnv(t, name)
			u := host.User{Name: "alice", Shell: "/bin/bash", Sudo: host.SudoPassword}
			ensureUser(context.Background(), env, u) // the recorder creates nobody: only the command matters
			if want := "useradd -m -U -s /bin/bash -G " + group + " -- alice"; !slices.Contains(rec.Strings(), want) {
				t.Errorf("commands %q, want %q", rec.Strings(), want)
			}
			changes, err := ensureSudo(context.Background(), env, u)
			if err != nil {
				t.Fatal(err)
			}
			dropIn, err := env.Root.ReadFile(adminSudoers)
			if name != "arch" {
				if len(changes) != 0 || err == nil {
					t.Errorf("sudoers already grants %%%s, yet: %v", group, changes)
				}
				return
			}
			if err != nil || !strings.Contains(string(dropIn), "\n%wheel ALL=(ALL:ALL) ALL\n") {
				t.Fatalf("no %%wheel drop-in: %v %q", err, dropIn)
			}
			if fi, _ := env.Root.Stat(adminSudoers); fi.Mode().Perm() != 0o440 {
				t.Errorf("mode %v", fi.Mode().Perm())
			}
			if !slices.Contains(rec.Strings(), "visudo -c -q") {
				t.Errorf("not validated with visudo -c: %q", rec.Strings())
			}
			if again, err := ensureSudo(context.Background(), env, u); err != nil || len(again) != 0 {
				t.Errorf("second run: %v %v", again, err)
			}
		})
	}
}

// TestArchWheelDropInWithRealSudo puts Arch's shipped sudoers into a real
// Debian root and lets its visudo and sudo judge the drop-in: before it the
// wheel member may not use sudo, after it they may.
func TestArchWheelDropInWithRealSudo(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.Debian(t, "bookworm")
	arch, err := os.ReadFile(filepath.Join(fixtures, "arch/etc/sudoers"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/sudoers"), arch, 0o440); err != nil {
		t.Fatal(err)
	}
	chroot := func(args ...string) string {
		out, _ := exec.Command("chroot", append([]string{dir}, args...)...).CombinedOutput()
		return string(out)
	}
	chroot("groupadd", "-r", "wheel")
	chroot("useradd", "-m", "-G", "wheel", "alice")
	if out := chroot("sudo", "-l", "-U", "alice"); !strings.Contains(out, "not allowed") {
		t.Fatalf("with Arch's stock sudoers a wheel member may already use sudo: %s", out)
	}
	r, d := testroot.Open(t, dir)
	d.AdminGroup = "wheel" // Arch's, in Debian's root
	env := &steps.Env{Root: r, Run: runner.Exec{Chroot: dir}, Distro: d, Profile: profile.Default()}
	if _, err := ensureSudo(context.Background(), env, host.User{Name: "alice", Sudo: host.SudoPassword}); err != nil {
		t.Fatalf("real visudo refused the drop-in: %v", err)
	}
	if out := chroot("sudo", "-l", "-U", "alice"); !strings.Contains(out, "(ALL : ALL) ALL") {
		t.Errorf("after the drop-in sudo -l says: %s", out)
	}
}

// TestRelabelSSHDir: with SELinux in the root, ~/.ssh gets its contexts
// back after the keys are written; without it nothing runs.
func TestRelabelSSHDir(t *testing.T) {
	for name, want := range map[string][]string{
		"centos9":  {"restorecon -R /home/cloud-user/.ssh"},
		"alma9":    {"restorecon -R /home/cloud-user/.ssh"},
		"debian12": nil,
		"arch":     nil,
	} {
		env, rec := fixtureEnv(t, name)
		if _, err := relabelSSHDir(context.Background(), env, &account{Name: "cloud-user", Home: "/home/cloud-user"}); err != nil {
			t.Fatal(err)
		}
		if got := rec.Strings(); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// TestNewUserExemptFromAgeing: in a real Debian root whose login.defs ages
// passwords (as the accounts step sets it), the key-only user first boot
// creates gets no maximum age and no inactivity lock, so no expiry can
// demand a password it does not have; under SysV nothing else would do it.
// The account files' backups useradd rewrote get the files step's modes
// back. Without the accounts step's script and the files step's list nothing
// is run.
func TestNewUserExemptFromAgeing(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.Debian(t, "bookworm")
	defs, err := os.ReadFile(filepath.Join(dir, "etc/login.defs"))
	if err != nil {
		t.Fatal(err)
	}
	defs = []byte(strings.Replace(string(defs), "\nPASS_MAX_DAYS\t99999", "\nPASS_MAX_DAYS\t365", 1))
	if err := os.WriteFile(filepath.Join(dir, "etc/login.defs"), defs, 0o644); err != nil {
		t.Fatal(err)
	}
	r, d := testroot.Open(t, dir)
	env := &steps.Env{Root: r, Run: runner.Exec{Chroot: dir}, Distro: d, Profile: profile.Default()}
	maxDays := func(user string) string {
		out, err := exec.Command("chroot", dir, "getent", "shadow", user).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(out)), ":")[4]
	}

	// Without the script: useradd applies login.defs, first boot runs nothing more.
	changes, _, err := ensureUser(context.Background(), env, host.User{Name: "bob", Shell: "/bin/bash"})
	if err != nil {
		t.Fatal(err)
	}
	if got := maxDays("bob"); got != "365" || len(changes) != 1 {
		t.Fatalf("without the script: max %q (login.defs has 365), changes %v", got, changes)
	}

	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(steps.AgeingScript)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, steps.AgeingScript), []byte(steps.AgeingScriptText), 0o755); err != nil {
		t.Fatal(err)
	}
	// The files step's list of modes (as it writes it on every service manager).
	if err := os.MkdirAll(filepath.Join(dir, "etc/tmpfiles.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, steps.FilesTmpfiles), []byte("z /etc/shadow- 0000 root shadow -\nz /etc/gshadow- 0000 root shadow -\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changes, _, err = ensureUser(context.Background(), env, host.User{Name: "alice", Shell: "/bin/bash"})
	if err != nil {
		t.Fatal(err)
	}
	if got := maxDays("alice"); got != "" {
		t.Errorf("alice's maximum password age %q, want none", got)
	}
	for _, p := range []string{"etc/shadow-", "etc/gshadow-"} {
		if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.Mode().Perm() != 0 {
			t.Errorf("/%s after useradd: %v %v, want mode 0000", p, fi.Mode(), err)
		}
	}
	var ran []string
	for _, c := range changes {
		ran = append(ran, c.Command+": "+c.Summary)
	}
	if !slices.Contains(ran, steps.AgeingScript+": hardbake: no password ageing for bob (no usable password)\nhardbake: no password ageing for alice (no usable password)") {
		t.Errorf("changes %q", ran)
	}
}
