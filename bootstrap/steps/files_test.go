package steps

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/runner"
)

func TestGuardedFileFix(t *testing.T) {
	shadow := guardedFile{"/etc/shadow", 0o640, "shadow?", "etc_shadow"}
	dir := guardedFile{"/etc/cron.d", 0o700, "root", "cron_d"}
	cases := []struct {
		f                guardedFile
		st               fileState
		gid              int
		mode             fs.FileMode
		needMode, needOw bool
	}{
		{shadow, fileState{Mode: 0o640, GID: 42}, 42, 0o640, false, false},
		{shadow, fileState{Mode: 0o644, GID: 0}, 42, 0o640, true, true},
		// Stricter stays stricter: RHEL's 0000 is never opened up.
		{shadow, fileState{Mode: 0o000, GID: 0}, 0, 0o000, false, false},
		{dir, fileState{Mode: 0o755, GID: 0}, 0, 0o700, true, false},
		{dir, fileState{Mode: 0o755 | fs.ModeSetgid, UID: 1000, GID: 1000}, 0, 0o700, true, true},
	}
	for _, c := range cases {
		got := c.f.fix(c.st, "g", c.gid)
		if got.WantMode != c.mode || got.NeedsMode != c.needMode || got.NeedsOwner != c.needOw {
			t.Errorf("%s %v: want mode %04o (%v) owner %v, got %04o (%v) %v", c.f.Path, c.st.Mode, c.mode, c.needMode, c.needOw,
				got.WantMode, got.NeedsMode, got.NeedsOwner)
		}
	}
	if s := describe(0o755|fs.ModeSetuid, "root", "root"); s != "0755+setuid root:root" {
		t.Errorf("describe: %q", s)
	}
	if a := allowList([]string{"deploy", "root"}); a != "root\ndeploy\n" {
		t.Errorf("allow list %q", a)
	}
}

func statOf(t *testing.T, p string) (fs.FileMode, int, int) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fi.Mode().Perm(), int(st.Uid), int(st.Gid)
}

// TestFilesOnRealRoots installs cron into Debian 12 and 13 roots, loosens
// some files the way a careless image build does, and checks the step puts
// every guarded file within its mode, root-owned, in its group; that the
// job scheduler obeys the allow-list (the root's own crontab refuses a user
// not listed); and that a second bake changes nothing.
func TestFilesOnRealRoots(t *testing.T) {
	for _, suite := range []string{"bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) {
			env, dir := realRootEnv(t, suite, "")
			ctx := context.Background()
			for p, mode := range map[string]fs.FileMode{"etc/shadow": 0o644, "etc/passwd-": 0o666} {
				if err := os.Chmod(filepath.Join(dir, p), mode); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, "etc/cron.deny"), []byte("nobody\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(filepath.Join(dir, "etc/group-"), 0, 42); err != nil {
				t.Fatal(err)
			}
			changes, err := (Files{}).Apply(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			if len(changes) == 0 {
				t.Fatal("nothing changed")
			}
			checks, err := (Files{}).Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, c := range checks {
				seen[c.ID] = true
				if !c.OK {
					t.Errorf("%s: want %s, got %s", c.ID, c.Want, c.Got)
				}
			}
			for _, id := range []string{"files./etc/shadow", "files./etc/crontab", "files./etc/cron.daily", "files./etc/cron.allow", "files.cron_allow_users", "files.cron_enabled_at_boot", "files.keep_enabled_at_boot"} {
				if !seen[id] {
					t.Errorf("no check %s", id)
				}
			}
			// Judged on disk, not by the step's own reading.
			for p, want := range map[string][3]int{
				"etc/shadow": {0o640, 0, 42}, "etc/passwd-": {0o644, 0, 0}, "etc/group-": {0o644, 0, 0},
				"etc/crontab": {0o600, 0, 0}, "etc/cron.d": {0o700, 0, 0}, "etc/cron.allow": {0o640, 0, 0}, "etc/at.allow": {0o640, 0, 0},
			} {
				m, u, g := statOf(t, filepath.Join(dir, p))
				if int(m) != want[0] || u != want[1] || g != want[2] {
					t.Errorf("/%s: %04o %d:%d, want %04o %d:%d", p, m, u, g, want[0], want[1], want[2])
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "etc/cron.deny")); err == nil {
				t.Error("cron.deny is still there")
			}
			// cron's own crontab(1) decides by the allow-list: nobody is not on it.
			if _, err := env.Run.Run(ctx, cmd("su", "-s", "/bin/sh", "-c", "crontab -l", "nobody")); err == nil || !strings.Contains(err.Error(), "not allowed") {
				t.Errorf("crontab for a user not in cron.allow: %v", err)
			}
			if again, err := (Files{}).Plan(ctx, env); err != nil || len(again) != 0 {
				t.Errorf("second plan: %v %v", Changes(again), err)
			}

			// shadow-utils writes the backups with the live file's mode: a
			// user added (as at first boot) undoes the backups' modes...
			if res, err := env.Run.Run(ctx, cmd("useradd", "-m", "alice")); err != nil {
				t.Fatalf("useradd: %v %s", err, res.Stderr)
			}
			if m, _, _ := statOf(t, filepath.Join(dir, "etc/shadow-")); m != 0o640 {
				t.Fatalf("useradd left /etc/shadow- %04o: the test no longer shows what it is about", m)
			}
			// ...and what the path unit, the boot and the apt hook run puts
			// them back, judged by the root's own systemd-tmpfiles.
			// (systemd-tmpfiles wants /proc: the apt hook runs while the
			// bake has lent it to the chroot.)
			err = env.Run.(runner.Mounter).WithSystem(ctx, func() error {
				res, err := env.Run.Run(ctx, cmd("systemd-tmpfiles", "--create", FilesTmpfiles))
				if err != nil {
					return fmt.Errorf("%v %s", err, res.Stderr)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("systemd-tmpfiles: %v", err)
			}
			if m, u, g := statOf(t, filepath.Join(dir, "etc/shadow-")); m != 0 || u != 0 || g != 42 {
				t.Errorf("/etc/shadow- after tmpfiles: %04o %d:%d", m, u, g)
			}
			if res, err := env.Run.Run(ctx, cmd("systemd-analyze", "verify", FilesPath, FilesService)); err != nil {
				t.Errorf("systemd-analyze verify: %v\n%s", err, res.Stderr)
			}
			res, err := env.Run.Run(ctx, cmd("apt-config", "dump", "DPkg::Post-Invoke"))
			if err != nil || !strings.Contains(string(res.Stdout), "systemd-tmpfiles --create "+FilesTmpfiles) {
				t.Errorf("apt does not read the hook: %v\n%s", err, res.Stdout)
			}
		})
	}
}

// TestTmpfilesFixCmds: seal's userdel rewrites the account files' backups
// with the live files' modes; the chown/chmod commands come from the files
// step's own tmpfiles.d lines, for the backups only, in the text's order.
func TestTmpfilesFixCmds(t *testing.T) {
	text := filesTmpfiles(
		[]guardedFile{guardedFiles[0], guardedFiles[5], guardedFiles[7], guardedFiles[10]},
		[]fileState{
			{WantMode: 0o644, WantGroup: "root"},
			{WantMode: 0, WantGroup: "shadow"},
			{WantMode: 0, WantGroup: "root"},
			{WantMode: 0o600, WantGroup: "root"},
		})
	got := tmpfilesFixCmds(text, accountBackups)
	want := [][]string{
		{"chown", "root:shadow", "/etc/shadow-"}, {"chmod", "0000", "/etc/shadow-"},
		{"chown", "root:root", "/etc/gshadow-"}, {"chmod", "0000", "/etc/gshadow-"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q\nfrom:\n%s", got, want, text)
	}
	if got := tmpfilesFixCmds("# comment\nd /etc/shadow- 0000 root root -\n", accountBackups); got != nil {
		t.Errorf("only z lines: got %q", got)
	}
}
