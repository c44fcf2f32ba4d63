package steps

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// Files restricts the modes and owners of the account databases, cron's
// files and the GRUB configuration (CIS 2.4, 7.1), installs cron when the
// image has no job scheduler, and lets only the listed users schedule jobs
// (cron.allow, at.allow; no deny lists). Modes are only ever tightened.
// /etc/ssh/sshd_config belongs to the ssh step.
//
// Packages that ship one of these files again may restore its mode: cron's
// upgrade keeps an admin's directory modes (dpkg leaves existing directories
// alone) but shadow-utils (useradd, passwd, at first boot too) writes the
// backups shadow- and gshadow- with the mode and group of the live file.
// `hardbake audit` reports such a file; the next bake fixes it.
type Files struct{}

// Name implements Step.
func (Files) Name() string { return "files" }

// cronPackage is the job scheduler's package and unit per package manager:
// Debian's cron, the cronie of Fedora, the RHEL family and Arch.
func cronPackage(d distro.Info) (pkg, unit string) {
	switch d.PackageManager {
	case "apt":
		return "cron", "cron.service"
	case "pacman":
		return "cronie", "cronie.service"
	default:
		return "cronie", "crond.service"
	}
}

// allowFiles are the allow-lists and the deny-lists they replace.
var allowFiles = []struct{ allow, deny, rule string }{
	{"/etc/cron.allow", "/etc/cron.deny", "cron"},
	{"/etc/at.allow", "/etc/at.deny", "at"},
}

// idNames maps the ids of an /etc/passwd or /etc/group text to names.
func idNames(text string) map[int]string {
	names := map[int]string{}
	for _, l := range strings.Split(text, "\n") {
		if f := strings.Split(l, ":"); len(f) >= 3 {
			if id, err := strconv.Atoi(f[2]); err == nil {
				if _, dup := names[id]; !dup {
					names[id] = f[0]
				}
			}
		}
	}
	return names
}

// wantGroup resolves a guarded file's group to a name and gid in the root.
func wantGroup(env *Env, f guardedFile, groups string) (string, int) {
	name := f.Group
	switch name {
	case "gshadow-":
		// SSG's Debian 13 content wants gid 0; Debian 12's the shadow group.
		name = "shadow?"
		if v, _ := strconv.Atoi(strings.Split(env.Distro.VersionID, ".")[0]); env.Distro.ID == "debian" && v >= 13 {
			name = "root"
		}
	}
	if name == "shadow?" {
		if g, ok := distro.LookupGroup(groups, "shadow"); ok {
			return "shadow", g.GID
		}
		name = "root"
	}
	return name, 0
}

// guardedStates returns what each guarded file that exists (and is not a
// symlink: SSG skips those) needs. A file about to be written (an
// allow-list) counts as it will be: 0640 root:root.
func guardedStates(env *Env, writing ...string) ([]guardedFile, []fileState) {
	passwd, _ := env.Root.ReadFile("/etc/passwd")
	groups, _ := env.Root.ReadFile("/etc/group")
	users, gnames := idNames(string(passwd)), idNames(string(groups))
	var files []guardedFile
	var states []fileState
	for _, f := range guardedFiles {
		fi, err := env.Root.Lstat(f.Path)
		if err != nil && slices.Contains(writing, f.Path) {
			g, gid := wantGroup(env, f, string(groups))
			files = append(files, f)
			states = append(states, f.fix(fileState{Mode: 0o640, User: "root", Group: "root"}, g, gid))
			continue
		}
		if err != nil || fi.Mode()&fs.ModeSymlink != 0 {
			continue
		}
		st := fileState{Mode: fi.Mode() & (fs.ModePerm | specialBits), IsDir: fi.IsDir(), User: "?", Group: "?", UID: -1, GID: -1}
		if s, ok := fi.Sys().(*syscall.Stat_t); ok {
			st.UID, st.GID = int(s.Uid), int(s.Gid)
			st.User, st.Group = nameOr(users, st.UID), nameOr(gnames, st.GID)
		}
		g, gid := wantGroup(env, f, string(groups))
		files = append(files, f)
		states = append(states, f.fix(st, g, gid))
	}
	return files, states
}

func nameOr(names map[int]string, id int) string {
	if n, ok := names[id]; ok {
		return n
	}
	return strconv.Itoa(id)
}

// configure plans the allow-lists and the modes and owners.
func (Files) configure(ctx context.Context, env *Env) ([]Action, error) {
	var actions []Action
	var writing []string
	for _, a := range allowFiles {
		w, err := WriteFile(env.Root, a.allow, []byte(allowList(env.Profile.Files.CronAllow)), 0o640,
			fmt.Sprintf("only the listed users may use %s", a.rule))
		if err != nil {
			return nil, err
		}
		if w != nil {
			writing = append(writing, a.allow)
		}
		actions = appendAction(actions, w)
		r, err := RemoveFile(env.Root, a.deny, fmt.Sprintf("%s's allow-list decides alone", a.rule))
		if err != nil {
			return nil, err
		}
		actions = appendAction(actions, r)
	}
	// The modes of files this plan writes are judged by Check after Apply:
	// a new allow-list is written 0640 root:root already.
	files, states := guardedStates(env, writing...)
	for i, f := range files {
		st := states[i]
		if slices.Contains(writing, f.Path) && !env.Root.Exists(f.Path) {
			continue // written 0640 root:root
		}
		if st.NeedsOwner {
			actions = append(actions, Action{Kind: "run", Path: f.Path, Cmd: cmd("chown", "root:"+st.WantGroup, f.Path),
				Summary: fmt.Sprintf("%s owned by root:%s (was %s:%s)", f.Path, st.WantGroup, st.User, st.Group)})
		}
		// chown clears setuid/setgid bits; chmod comes after it.
		if st.NeedsMode {
			actions = append(actions, Action{Kind: "run", Path: f.Path, Cmd: cmd("chmod", fmt.Sprintf("%04o", st.WantMode.Perm()), f.Path),
				Summary: fmt.Sprintf("%s mode %04o (was %s)", f.Path, st.WantMode.Perm(), describe(st.Mode, st.User, st.Group))})
		}
	}
	keep, err := keepActions(env, files, states)
	if err != nil {
		return nil, err
	}
	actions = append(actions, keep...)
	pkg, unit := cronPackage(env.Distro)
	if have, err := installed(ctx, env, pkg); err != nil {
		return nil, err
	} else if have[pkg] || env.Profile.Files.InstallCron {
		actions = appendAction(actions, enableAction(env, "start the job scheduler at boot", unit))
	}
	return actions, nil
}

// keepActions plans the files that keep the modes (files_perms.go):
// tmpfiles.d and the path unit where systemd runs the machine, the apt hook
// where apt installs packages.
func keepActions(env *Env, files []guardedFile, states []fileState) ([]Action, error) {
	tmpfiles := filesTmpfiles(files, states)
	if env.Distro.ServiceManager != distro.Systemd {
		// No systemd-tmpfiles and no path unit: the list is still what
		// first boot (KeepAccountBackups) and seal read the modes from.
		a, err := WriteFile(env.Root, FilesTmpfiles, []byte(tmpfiles), 0o644, "the modes and owners, applied again by first boot after it adds a user")
		return appendAction(nil, a), err
	}
	var actions []Action
	for _, w := range []struct{ path, text, summary string }{
		{FilesTmpfiles, tmpfiles, "the modes and owners, applied by systemd-tmpfiles at every boot"},
		{FilesService, filesServiceText, "a service that applies them again"},
		{FilesPath, filesPathText, "run it when shadow-utils rewrites a backup of the account files"},
	} {
		a, err := WriteFile(env.Root, w.path, []byte(w.text), 0o644, w.summary)
		if err != nil {
			return nil, err
		}
		actions = appendAction(actions, a)
	}
	if env.Distro.PackageManager == "apt" {
		a, err := WriteFile(env.Root, FilesAptHook, []byte(filesAptHookText), 0o644, "apply the modes again after every dpkg run")
		if err != nil {
			return nil, err
		}
		actions = appendAction(actions, a)
	}
	return appendAction(actions, enableAction(env, "watch the account files' backups", "hardbake-files.path")), nil
}

// keepChecks report whether the files that keep the modes are in place.
func keepChecks(env *Env, files []guardedFile, states []fileState) []report.Check {
	want := map[string]string{FilesTmpfiles: filesTmpfiles(files, states), FilesService: filesServiceText, FilesPath: filesPathText}
	paths := []string{FilesTmpfiles, FilesService, FilesPath}
	systemd := env.Distro.ServiceManager == distro.Systemd
	if !systemd {
		paths = paths[:1]
	}
	if systemd && env.Distro.PackageManager == "apt" {
		want[FilesAptHook] = filesAptHookText
		paths = append(paths, FilesAptHook)
	}
	var checks []report.Check
	for _, p := range paths {
		data, err := env.Root.ReadFile(p)
		got := "as hardbake writes it"
		switch {
		case err != nil:
			got = "missing"
		case string(data) != want[p]:
			got = "differs"
		}
		checks = append(checks, check("files.keep "+p, "as hardbake writes it", got))
	}
	if !systemd {
		return checks
	}
	return append(checks, check("files.keep_enabled_at_boot", "enabled", enabledWord(unitEnabled(env, "hardbake-files.path"))))
}

func (f Files) packages(env *Env) [][]string {
	if !env.Profile.Files.InstallCron {
		return nil
	}
	pkg, _ := cronPackage(env.Distro)
	return [][]string{{pkg}}
}

// Plan implements Step.
func (f Files) Plan(ctx context.Context, env *Env) ([]Action, error) {
	return planWithPackages(ctx, env, "install the job scheduler", f.packages(env),
		func() ([]Action, error) { return f.configure(ctx, env) })
}

// Apply implements Step.
func (f Files) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	return applyWithPackages(ctx, env, "install the job scheduler", f.packages(env),
		func() ([]Action, error) { return f.configure(ctx, env) })
}

// Check implements Step.
func (Files) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	var checks []report.Check
	files, states := guardedStates(env)
	for i, f := range files {
		st := states[i]
		want := fmt.Sprintf("%04o root:%s or stricter", f.Max.Perm(), st.WantGroup)
		got := describe(st.Mode, st.User, st.Group)
		c := report.Check{ID: "files." + f.Path, OK: !st.NeedsMode && !st.NeedsOwner, Want: want, Got: got, Refs: f.refs()}
		checks = append(checks, c)
	}
	checks = append(checks, keepChecks(env, files, states)...)
	for _, a := range allowFiles {
		data, err := env.Root.ReadFile(a.allow)
		got := "missing"
		if err == nil {
			got = strings.Join(strings.Fields(string(data)), " ")
		}
		c := check("files."+a.rule+"_allow_users", strings.TrimSpace(strings.ReplaceAll(allowList(env.Profile.Files.CronAllow), "\n", " ")), got)
		c.Refs = []string{"ssg:file_" + a.rule + "_allow_exists"}
		checks = append(checks, c)
		c = check("files."+a.rule+"_deny", "absent", map[bool]string{true: "present", false: "absent"}[env.Root.Exists(a.deny)])
		c.Refs = []string{"ssg:file_" + a.rule + "_deny_not_exist"}
		checks = append(checks, c)
	}
	pkg, unit := cronPackage(env.Distro)
	have, err := installed(ctx, env, pkg)
	if err != nil {
		return nil, err
	}
	if have[pkg] || env.Profile.Files.InstallCron {
		pc, err := packagesCheck(ctx, env, "files.cron_installed", []string{pkg})
		if err != nil {
			return nil, err
		}
		pc.Refs = []string{"ssg:package_cron_installed"}
		ec := check("files.cron_enabled_at_boot", "enabled", enabledWord(unitEnabled(env, unit)))
		ec.Refs = []string{"ssg:service_cron_enabled"}
		checks = append(checks, pc, ec)
	}
	return checks, nil
}

// Deviations implements Deviator.
func (Files) Deviations(env *Env) []report.Deviation {
	if env.Profile.Files.InstallCron {
		return nil
	}
	return []report.Deviation{{Refs: []string{"ssg:package_cron_installed", "ssg:service_cron_enabled"},
		Reason: "files.install_cron is false: the image has no cron daemon (systemd timers run the periodic jobs)"}}
}
