package steps

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"syscall"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// Log files under /var/log: readable by their owner and the log readers'
// group only (mode 0640 or stricter), group root or adm. CIS (SSG's
// permissions_local_var_log and file_groupownerships_var_log) exempts the
// files login programs write through the utmp group (wtmp, btmp, lastlog)
// and apt's history.log and eipp.log.xz; so do we. The owner is never
// changed, so every daemon still writes its own log.

// logPermExempt are the file names SSG's permissions rule leaves out.
var logPermExempt = regexp.MustCompile(`^(history\.log.*|eipp\.log\.xz.*|[bw]tmp|[bw]tmp..*|[bw]tmp-.*|lastlog|lastlog..*)$`)

// logGroupExempt are the files SSG's group rule leaves out: their group is
// the package's own choice (journal files: systemd-journal; apt, gdm,
// landscape and sssd directories; the utmp files).
var logGroupExempt = regexp.MustCompile(`^/var/log/(apt|gdm3?|landscape|sssd)/|/([bw]tmp([.-][^/]*)?|lastlog[^/]*|auth\.log|cloud-init\.log[^/]*|[^/]*\.journal[^/]*|localmessages[^/]*|messages|secure[^/]*|syslog|waagent\.log[^/]*)$`)

// logFileFix is what one log file needs: a mode, a group, or a reason it
// is left as it is.
type logFileFix struct {
	Path     string
	Mode     fs.FileMode // 0: unchanged
	Group    string      // "": unchanged
	Left     string      // why a needed change is not made
	OldMode  fs.FileMode
	OldGroup string
}

// logFileFixFor decides for one file. mode is its permission bits (with
// setuid/setgid/sticky as fs.Mode* flags), group its group's name, groups
// the root's group names by gid, adm whether the root has an adm group.
// With privateLogins the login records (wtmp, btmp, lastlog) are not exempt:
// root writes them, and their utmp group loses its write.
func logFileFixFor(p string, mode fs.FileMode, group string, hasAdm, privateLogins bool) logFileFix {
	f := logFileFix{Path: p, OldMode: mode, OldGroup: group}
	name := path.Base(p)
	groupWrites := mode&0o020 != 0
	login := privateLogins && loginRecord(p)
	if login || !logPermExempt.MatchString(name) {
		if want := mode & 0o640; want != mode {
			if groupWrites && group != "root" && group != "adm" && !login {
				// The group is a writer (the utmp pattern): taking its
				// write away would stop the program that logs here.
				f.Left = fmt.Sprintf("group %s writes it (mode %04o)", group, mode.Perm())
			} else {
				f.Mode = want
			}
		}
	}
	if !logGroupExempt.MatchString(p) && group != "?" && group != "root" && group != "adm" && f.Left == "" {
		if groupWrites && f.Mode == 0 {
			f.Left = fmt.Sprintf("group %s writes it (mode %04o)", group, mode.Perm())
		} else if hasAdm {
			f.Group = "adm"
		} else {
			f.Group = "root"
		}
	}
	return f
}

// Needed reports whether the file needs a change or is left wrong.
func (f logFileFix) Needed() bool { return f.Mode != 0 || f.Group != "" || f.Left != "" }

// logFileFixes walks /var/log and returns what each file needs, in path order.
func logFileFixes(env *Env) []logFileFix {
	groupData, _ := env.Root.ReadFile("/etc/group")
	names := map[int]string{}
	for _, l := range strings.Split(string(groupData), "\n") {
		if f := strings.Split(l, ":"); len(f) >= 3 {
			var gid int
			if _, err := fmt.Sscan(f[2], &gid); err == nil {
				if _, dup := names[gid]; !dup {
					names[gid] = f[0]
				}
			}
		}
	}
	_, hasAdm := distro.LookupGroup(string(groupData), "adm")
	var out []logFileFix
	walkFiles(env.Root, "/var/log", func(p string, info fs.FileInfo) {
		group := "?"
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			group = names[int(st.Gid)]
			if group == "" {
				group = fmt.Sprint(st.Gid)
			}
		}
		mode := info.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
		if f := logFileFixFor(p, mode, group, hasAdm, env.Profile.Logging.PrivateLoginRecords); f.Needed() {
			out = append(out, f)
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// logFileActions are the chmod and chgrp commands for fixes, one command per
// mode and group, run through the runner (live or in the chroot).
func logFileActions(fixes []logFileFix) []Action {
	byMode := map[fs.FileMode][]string{}
	byGroup := map[string][]string{}
	for _, f := range fixes {
		if f.Mode != 0 {
			byMode[f.Mode] = append(byMode[f.Mode], f.Path)
		}
		if f.Group != "" {
			byGroup[f.Group] = append(byGroup[f.Group], f.Path)
		}
	}
	var actions []Action
	modes := make([]fs.FileMode, 0, len(byMode))
	for m := range byMode {
		modes = append(modes, m)
	}
	sort.Slice(modes, func(i, j int) bool { return modes[i] > modes[j] })
	for _, m := range modes {
		paths := byMode[m]
		actions = append(actions, Action{Kind: "run", Cmd: cmd("chmod", append([]string{fmt.Sprintf("%04o", m.Perm())}, paths...)...),
			Summary: fmt.Sprintf("log files readable by owner and group only: %s", abbreviate(paths, 5))})
	}
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		paths := byGroup[g]
		actions = append(actions, Action{Kind: "run", Cmd: cmd("chgrp", append([]string{g}, paths...)...),
			Summary: fmt.Sprintf("log files in group %s (owner kept): %s", g, abbreviate(paths, 5))})
	}
	return actions
}

// runtimeLogs are logs their programs create on the running system with
// their service's umask (0644), after any bake: unattended-upgrades' at its
// first daily run. They are made empty, root:adm 0640, while their directory
// exists and they do not; the programs append to them and logrotate's
// create copies the mode. (cloud-init's logs are kept that way by seal,
// which empties them instead of letting cloud-init clean remove them.)
var runtimeLogs = []string{
	"/var/log/unattended-upgrades/unattended-upgrades.log",
	"/var/log/unattended-upgrades/unattended-upgrades-dpkg.log",
}

// runtimeLogActions plans runtimeLogs.
func runtimeLogActions(env *Env) []Action {
	var actions []Action
	for _, p := range runtimeLogs {
		if env.Root.Exists(path.Dir(p)) {
			actions = appendAction(actions, emptyLogAction(env, p, "empty, so that its program appends to a 0640 file instead of creating a 0644 one"))
		}
	}
	return actions
}

// fixLogFiles applies the modes and groups now. For a step that writes
// under /var/log after the logging step ran (the audit step's aideinit
// writes /var/log/aide/aideinit.log 0644), so the bake ends with every log
// file 0640 or stricter instead of leaving it to the next run.
func fixLogFiles(ctx context.Context, env *Env) ([]report.Change, error) {
	return Execute(ctx, env, logFileActions(logFileFixes(env)))
}

// LogAptHook puts the log files' modes back after every dpkg run. apt and
// dpkg create their logs with the umask of whoever runs them (0644 under
// apt's 022): the packages later steps of the bake install (cron, chrony,
// apparmor, fail2ban, nftables, auditd, aide), and on the running system
// every unattended upgrade and logrotate's new files. Same mechanism as the
// files step's hook (aptPostInvokeHook).
const LogAptHook = "/etc/apt/apt.conf.d/99hardbake-logging"

// logAptHookText is the hook: find the files logFileFixFor would narrow
// (a bit outside 0640) minus the same exemptions (SSG's names, and a group
// other than root or adm that writes the file: the utmp pattern) and take
// those bits away. Groups are left to the step: dpkg and apt write root's.
func logAptHookText(privateLogins bool) string {
	exempt := `! -name 'history.log*' ! -name 'eipp.log.xz*'`
	if !privateLogins {
		exempt += ` ! -name '[bw]tmp' ! -name '[bw]tmp?*' ! -name lastlog ! -name 'lastlog?*'`
	}
	find := `find /var/log -xdev -type f -perm /7137 ` + exempt +
		` ! '(' -perm -g=w ! -group root ! -group adm ')' -exec chmod u-xs,g-wxs,o-rwxt {} + 2>/dev/null`
	return aptPostInvokeHook("logging", `// apt and dpkg create log files 0644 (apt's umask): after every dpkg run,
// log files readable by their owner and group only, as CIS asks.
`, find+" || true")
}

// logAptHookAction writes (or, where apt is not the package manager,
// leaves alone) the hook.
func logAptHookAction(env *Env) (*Action, error) {
	if env.Distro.PackageManager != "apt" {
		return nil, nil
	}
	return WriteFile(env.Root, LogAptHook, []byte(logAptHookText(env.Profile.Logging.PrivateLoginRecords)), 0o644,
		"log files 0640 again after every dpkg run (apt hook)")
}
