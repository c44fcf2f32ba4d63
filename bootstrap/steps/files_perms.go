package steps

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/report"
)

// guardedFile is a file or directory whose mode and owner CIS restricts:
// its mode may carry no bit outside Max, its owner is root, its group
// Group ("shadow?": the shadow group where the distribution has one, root
// elsewhere, as Fedora and Arch keep /etc/shadow root:root).
type guardedFile struct {
	Path  string
	Max   fs.FileMode
	Group string
	Rule  string // SSG rule stem: file_permissions_<Rule>, file_owner_<Rule>, file_groupowner_<Rule>
}

// guardedFiles are read from SSG 0.1.82's OVAL for Debian 12 and 13 (the
// mode states of file_permissions_*, the uid/gid variables of
// file_owner_*/file_groupowner_*). Debian 13's content wants the shadow
// backups with no permission bits at all (root reads them regardless) and
// gshadow- in group root; the stricter value is used everywhere, since
// "or stricter" meets both releases, except gshadow-'s group, which follows
// the release (gshadowBackupGroup).
var guardedFiles = []guardedFile{
	{"/etc/passwd", 0o644, "root", "etc_passwd"},
	{"/etc/passwd-", 0o644, "root", "backup_etc_passwd"},
	{"/etc/group", 0o644, "root", "etc_group"},
	{"/etc/group-", 0o644, "root", "backup_etc_group"},
	{"/etc/shadow", 0o640, "shadow?", "etc_shadow"},
	{"/etc/shadow-", 0o000, "shadow?", "backup_etc_shadow"},
	{"/etc/gshadow", 0o640, "shadow?", "etc_gshadow"},
	{"/etc/gshadow-", 0o000, "gshadow-", "backup_etc_gshadow"},
	{"/etc/shells", 0o644, "root", "etc_shells"},
	{"/etc/security/opasswd", 0o600, "root", "etc_security_opasswd"},
	{"/etc/crontab", 0o600, "root", "crontab"},
	{"/etc/cron.d", 0o700, "root", "cron_d"},
	{"/etc/cron.hourly", 0o700, "root", "cron_hourly"},
	{"/etc/cron.daily", 0o700, "root", "cron_daily"},
	{"/etc/cron.weekly", 0o700, "root", "cron_weekly"},
	{"/etc/cron.monthly", 0o700, "root", "cron_monthly"},
	{"/etc/cron.yearly", 0o700, "root", "cron_yearly"},
	{"/etc/cron.allow", 0o640, "root", "cron_allow"},
	{"/etc/at.allow", 0o640, "root", "at_allow"},
	{"/boot/grub/grub.cfg", 0o600, "root", "grub2_cfg"},
	{"/boot/grub2/grub.cfg", 0o600, "root", "grub2_cfg"},
}

// refs names the SSG rules of f.
func (f guardedFile) refs() []string {
	return []string{"ssg:file_permissions_" + f.Rule, "ssg:file_owner_" + f.Rule, "ssg:file_groupowner_" + f.Rule}
}

// fileState is a file's mode and owner as found.
type fileState struct {
	Mode       fs.FileMode // permission bits with fs.ModeSetuid/Setgid/Sticky
	User       string      // owner's name (or uid when unnamed)
	Group      string
	UID, GID   int
	IsDir      bool
	WantGroup  string // the group the file must have
	WantGID    int
	WantMode   fs.FileMode
	NeedsMode  bool
	NeedsOwner bool
}

// specialBits are the mode bits no guarded file may carry.
const specialBits = fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// fix decides what f needs, given its state: its mode only ever loses bits
// (mode AND Max, never more open than it was), its owner becomes root and
// its group wantGroup.
func (f guardedFile) fix(st fileState, wantGroup string, wantGID int) fileState {
	st.WantGroup, st.WantGID = wantGroup, wantGID
	st.WantMode = st.Mode & f.Max & fs.ModePerm
	st.NeedsMode = st.WantMode != st.Mode
	st.NeedsOwner = st.UID != 0 || st.GID != wantGID
	return st
}

// describe renders a mode and owner the way ls and CIS write them.
func describe(mode fs.FileMode, user, group string) string {
	s := fmt.Sprintf("%04o", mode.Perm())
	for i, bit := range []fs.FileMode{fs.ModeSetuid, fs.ModeSetgid, fs.ModeSticky} {
		if mode&bit != 0 {
			s += []string{"+setuid", "+setgid", "+sticky"}[i]
		}
	}
	return s + " " + user + ":" + group
}

// allowList is the text of cron.allow and at.allow: root first, then the
// profile's users, one per line.
func allowList(users []string) string {
	list := []string{"root"}
	for _, u := range users {
		if u != "root" {
			list = append(list, u)
		}
	}
	return strings.Join(list, "\n") + "\n"
}

// Keeping the modes. shadow-utils (useradd, usermod, passwd: at first boot,
// in package scripts that add system users) writes the backups passwd-,
// shadow-, group- and gshadow- with the mode and group of the live file, and
// a package upgrade may ship a file or directory with its own mode again.
// Three small files put the modes back, with systemd-tmpfiles' "z" lines
// (adjust the mode and owner of a path that exists, nothing else):
//   - the tmpfiles.d file itself, which systemd applies at every boot;
//   - an apt hook that applies it after every dpkg run (during the bake,
//     and on the running system after each unattended upgrade);
//   - a path unit that applies it when a backup file changes (the first
//     boot's useradd, cloud-init's users).
const (
	FilesTmpfiles = "/etc/tmpfiles.d/hardbake-files.conf"
	FilesAptHook  = "/etc/apt/apt.conf.d/99hardbake-files"
	FilesService  = "/etc/systemd/system/hardbake-files.service"
	FilesPath     = "/etc/systemd/system/hardbake-files.path"
)

// filesTmpfiles is the tmpfiles.d text keeping each guarded file at the
// mode and owner the step gave it (never more open than it was).
func filesTmpfiles(files []guardedFile, states []fileState) string {
	var b strings.Builder
	b.WriteString("# Written by hardbake (files step); rewritten on every bake.\n# Modes and owners CIS asks for, applied at boot, after each dpkg run and\n# when a backup of the account files changes (hardbake-files.path).\n")
	for i, f := range files {
		fmt.Fprintf(&b, "z %s %04o root %s -\n", f.Path, states[i].WantMode.Perm(), states[i].WantGroup)
	}
	return b.String()
}

// accountBackups are the files shadow-utils (useradd, userdel, passwd)
// rewrites with the live file's mode and group at every change.
var accountBackups = []string{"/etc/passwd-", "/etc/group-", "/etc/shadow-", "/etc/gshadow-"}

// tmpfilesFixCmds turns the "z" lines of a tmpfiles.d text (filesTmpfiles)
// for the given paths into the chown and chmod commands that do what
// systemd-tmpfiles would, in the order of the text. For a step after this
// one that rewrites an account file's backup where neither the path unit
// nor systemd-tmpfiles can run: seal's userdel under --root, in a chroot
// without /proc, which systemd-tmpfiles refuses. Without it the next bake
// finds shadow- and gshadow- at the live files' 0640 and changes them again.
func tmpfilesFixCmds(text string, paths []string) [][]string {
	var out [][]string
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) < 5 || f[0] != "z" || !slices.Contains(paths, f[1]) {
			continue
		}
		out = append(out, []string{"chown", f[3] + ":" + f[4], f[1]}, []string{"chmod", f[2], f[1]})
	}
	return out
}

// accountBackupFixCmds are tmpfilesFixCmds for the account files' backups
// from the root's FilesTmpfiles, nil before the files step wrote it.
// Computed before userdel runs.
func accountBackupFixCmds(env *Env) [][]string {
	data, err := env.Root.ReadFile(FilesTmpfiles)
	if err != nil {
		return nil
	}
	// A backup that does not exist yet is left to shadow-utils (chmod
	// would fail on it; systemd-tmpfiles' z skips it too). userdel writes
	// all four where they exist.
	var have []string
	for _, p := range accountBackups {
		if env.Root.Exists(p) {
			have = append(have, p)
		}
	}
	return tmpfilesFixCmds(string(data), have)
}

// KeepAccountBackups puts the files step's modes back on the account
// files' backups after first boot's useradd or usermod rewrote them with the
// live files' modes: at once, on every service manager (systemd's path unit
// would do it a moment later; SysV and OpenRC have none). Nothing when the
// files step never ran on this root.
func KeepAccountBackups(ctx context.Context, env *Env) ([]report.Change, error) {
	fix := accountBackupFixCmds(env)
	for _, c := range fix {
		if _, err := env.Run.Run(ctx, cmd(c[0], c[1:]...)); err != nil {
			return nil, err
		}
	}
	if len(fix) == 0 {
		return nil, nil
	}
	return []report.Change{{Kind: "run", Summary: "the account files' backups back to the modes of " + FilesTmpfiles}}, nil
}

// aptPostInvokeHook is the text of an apt.conf.d file running command after
// every dpkg run (installs and upgrades in the bake, unattended upgrades on
// the running system): the way a step's file modes outlast later package
// runs. step names the writer, why is the comment's body (lines of "// ").
// command must not fail apt's run (end it with || true).
func aptPostInvokeHook(step, why, command string) string {
	return "// Written by hardbake (" + step + " step); rewritten on every bake.\n" + why +
		"DPkg::Post-Invoke { \"" + command + "\"; };\n"
}

var filesAptHookText = aptPostInvokeHook("files", `// Package scripts that add users rewrite /etc/shadow- and friends with the
// live file's mode, and packages may ship their files' modes again: put the
// CIS modes back after every dpkg run.
`, "if [ -x /usr/bin/systemd-tmpfiles ] && [ -e "+FilesTmpfiles+" ]; then /usr/bin/systemd-tmpfiles --create "+FilesTmpfiles+" || true; fi")

const filesServiceText = `# Written by hardbake (files step); rewritten on every bake.
[Unit]
Description=CIS modes of the account files and their backups (hardbake)
After=systemd-tmpfiles-setup.service

[Service]
Type=oneshot
ExecStart=/usr/bin/systemd-tmpfiles --create ` + FilesTmpfiles + `
`

const filesPathText = `# Written by hardbake (files step); rewritten on every bake.
[Unit]
Description=Watch the account files' backups, which shadow-utils rewrites with the live file's mode (hardbake)

[Path]
PathChanged=/etc/passwd-
PathChanged=/etc/group-
PathChanged=/etc/shadow-
PathChanged=/etc/gshadow-
Unit=hardbake-files.service

[Install]
WantedBy=paths.target
`
