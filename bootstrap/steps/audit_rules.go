package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/hardbake/hardbake/bootstrap/root"
)

// The audit rules hardbake writes. augenrules (run by auditd's unit at
// boot, and by the SysV script with USE_AUGENRULES) joins every
// rules.d/*.rules file into /etc/audit/audit.rules, moving -D first and -e
// last whatever file they are in; "-e 2" still gets a file of its own, as
// CIS lays them out.
const (
	AuditRulesFile    = "/etc/audit/rules.d/60-hardbake-cis.rules"
	AuditFinalizeFile = "/etc/audit/rules.d/99-hardbake-finalize.rules"
	AuditRulesDir     = "/etc/audit/rules.d"
	AuditLoadedRules  = "/etc/audit/audit.rules"
)

// auditRuleSet is what the CIS rules depend on in one image.
type auditRuleSet struct {
	// Arches are the syscall tables rules are written for: b64, and b32
	// where the kernel runs 32-bit programs too (SSG wants both).
	Arches []string
	// Missing are syscalls an arch's table lacks (aarch64 has only the
	// *at variants of open, chmod, rename ...); auditctl refuses them.
	Missing map[string][]string
	// UIDMin is login.defs' UID_MIN: the first uid of a person.
	UIDMin int
	// MACPolicy are the directories of the mandatory access control policy.
	// A watched directory is written with or without its final slash as
	// SSG's checks read it; auditctl takes both alike.
	MACPolicy []string
	// SudoLog is the file sudo logs to (sudoers' Defaults logfile).
	SudoLog string
	// Privileged are the setuid and setgid programs of the image, sorted.
	Privileged []string
}

// auditArches are the tables for the architecture hardbake runs on, which
// is the target's (hardbake runs in the image, or chroots into a root of
// its own architecture). Only amd64 is exercised by the tests.
func auditArches() ([]string, map[string][]string) {
	if runtime.GOARCH == "arm64" {
		return []string{"b64", "b32"}, map[string][]string{
			"b64": {"open", "creat", "chmod", "chown", "lchown", "rename", "unlink", "create_module", "query_module"},
		}
	}
	return []string{"b64", "b32"}, nil
}

// auditNewSyscalls adds to missing the syscalls newer than the image's
// audit tables (fchmodat2: Linux 6.6, audit 4.0; Debian 12's auditctl
// refuses it), asking the image's ausyscall. Without a way to run it (a
// read-only image) they are left out too.
func auditNewSyscalls(ctx context.Context, env *Env, arches []string, missing map[string][]string) map[string][]string {
	tables := map[string]string{"b64": "x86_64", "b32": "i386"}
	if runtime.GOARCH == "arm64" {
		tables = map[string]string{"b64": "aarch64", "b32": "arm"}
	}
	out := map[string][]string{}
	for k, v := range missing {
		out[k] = slices.Clone(v)
	}
	for _, arch := range arches {
		for _, name := range []string{"fchmodat2"} {
			if !env.CanRun() {
				out[arch] = append(out[arch], name)
				continue
			}
			if _, err := env.Run.Run(ctx, cmd("ausyscall", tables[arch], name)); err != nil {
				out[arch] = append(out[arch], name)
			}
		}
	}
	return out
}

// syscallRule is one syscall rule per arch: "-a always,exit -F arch=A -S
// a,b <rest>", the form SSG's checks read.
func (s auditRuleSet) syscallRule(names []string, rest string) string {
	var b strings.Builder
	for _, arch := range s.Arches {
		var have []string
		for _, n := range names {
			if !slices.Contains(s.Missing[arch], n) {
				have = append(have, n)
			}
		}
		if len(have) > 0 {
			fmt.Fprintf(&b, "-a always,exit -F arch=%s -S %s %s\n", arch, strings.Join(have, ","), rest)
		}
	}
	return b.String()
}

// byUser limits a rule to actions of people (not daemons, not unset).
func (s auditRuleSet) byUser() string {
	return fmt.Sprintf("-F auid>=%d -F auid!=unset", s.UIDMin)
}

// execRule audits every run of program by a person.
func (s auditRuleSet) execRule(program, key string) string {
	return fmt.Sprintf("-a always,exit -F path=%s -F perm=x %s -k %s\n", program, s.byUser(), key)
}

// Rules renders the CIS rule set (CIS Debian 12 benchmark 4.1.3.x, SSG's
// audit_rules_* and audit_sudo_log_events), keys as CIS names them.
func (s auditRuleSet) Rules() string {
	var b strings.Builder
	section := func(title string) { fmt.Fprintf(&b, "\n## %s\n", title) }
	watch := func(key string, paths ...string) {
		for _, p := range paths {
			fmt.Fprintf(&b, "-w %s -p wa -k %s\n", p, key)
		}
	}
	b.WriteString("## Written by hardbake: the CIS audit rules. augenrules loads this\n" +
		"## directory at boot; a bake rewrites this file (put rules of your own in\n" +
		"## another file of /etc/audit/rules.d).\n")
	section("Keep loading the rules after one fails (the others still protect)")
	b.WriteString("-c\n")

	section("Changes to who may act as root (sudoers)")
	watch("scope", "/etc/sudoers", "/etc/sudoers.d/")
	section("Actions under another user's identity (sudo, su, setuid programs)")
	b.WriteString(s.syscallRule([]string{"execve"}, "-C euid!=uid -F auid!=unset -k user_emulation"))
	section("The sudo log")
	watch("sudo_log_file", s.SudoLog)
	section("Time changes")
	b.WriteString(s.syscallRule([]string{"adjtimex", "settimeofday"}, "-k time-change"))
	// Only the real-time clock (a0 = CLOCK_REALTIME): other clocks are not
	// the system time.
	b.WriteString(s.syscallRule([]string{"clock_settime"}, "-F a0=0x0 -k time-change"))
	watch("time-change", "/etc/localtime")
	section("Host name and network configuration")
	b.WriteString(s.syscallRule([]string{"sethostname", "setdomainname"}, s.byUser()+" -k system-locale"))
	watch("system-locale", "/etc/issue", "/etc/issue.net", "/etc/hosts", "/etc/hostname", "/etc/networks", "/etc/network/", "/etc/NetworkManager")
	section("Mandatory access control policy")
	watch("MAC-policy", s.MACPolicy...)
	section("Logins and failed logins")
	watch("logins", "/var/log/lastlog", "/var/run/faillock")
	section("Sessions")
	watch("session", "/var/run/utmp", "/var/log/wtmp", "/var/log/btmp")
	section("Permission, owner and attribute changes")
	b.WriteString(s.syscallRule([]string{"chmod", "fchmod", "fchmodat", "fchmodat2"}, s.byUser()+" -k perm_mod"))
	b.WriteString(s.syscallRule([]string{"chown", "fchown", "lchown", "fchownat"}, s.byUser()+" -k perm_mod"))
	b.WriteString(s.syscallRule([]string{"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr"}, s.byUser()+" -k perm_mod"))
	section("Unsuccessful file access")
	for _, exit := range []string{"-EACCES", "-EPERM"} {
		b.WriteString(s.syscallRule([]string{"creat", "open", "openat", "truncate", "ftruncate"}, "-F exit="+exit+" "+s.byUser()+" -k access"))
	}
	section("Users and groups")
	watch("identity", "/etc/group", "/etc/passwd", "/etc/gshadow", "/etc/shadow", "/etc/security/opasswd",
		"/etc/nsswitch.conf", "/etc/pam.conf", "/etc/pam.d/")
	section("Mounts")
	b.WriteString(s.syscallRule([]string{"mount"}, s.byUser()+" -k mounts"))
	section("File deletion")
	b.WriteString(s.syscallRule([]string{"unlink", "unlinkat", "rename", "renameat", "renameat2"}, s.byUser()+" -k delete"))
	section("ACL and security context changes, account changes")
	b.WriteString(s.execRule("/usr/bin/chcon", "perm_chng"))
	b.WriteString(s.execRule("/usr/bin/setfacl", "perm_chng"))
	b.WriteString(s.execRule("/usr/bin/chacl", "priv_cmd"))
	b.WriteString(s.execRule("/usr/sbin/usermod", "usermod"))
	section("Kernel modules")
	b.WriteString(s.syscallRule([]string{"init_module", "finit_module", "delete_module", "create_module", "query_module"}, s.byUser()+" -k kernel_modules"))
	b.WriteString(s.execRule("/usr/bin/kmod", "kernel_modules"))
	section("Privileged programs: every setuid and setgid program of the image")
	for _, p := range s.Privileged {
		b.WriteString(s.execRule(p, "privileged"))
	}
	return b.String()
}

// auditFinalize makes the rules immutable until the next boot; augenrules
// puts it last.
const auditFinalize = "## Written by hardbake: no rule changes until the next boot (CIS).\n-e 2\n"

var uidMinLine = regexp.MustCompile(`(?m)^[ \t]*UID_MIN[ \t]+([0-9]+)[ \t]*$`)

// uidMin is login.defs' UID_MIN, 1000 when it says nothing.
func uidMin(loginDefs string) int {
	if m := uidMinLine.FindAllStringSubmatch(loginDefs, -1); m != nil {
		if n, err := strconv.Atoi(m[len(m)-1][1]); err == nil {
			return n
		}
	}
	return 1000
}

var sudoLogfile = regexp.MustCompile(`(?m)^[ \t]*Defaults[ \t].*\blogfile[ \t]*=[ \t]*"?([^",\s]+)`)

// sudoLog is the logfile sudoers files set (the last one wins, as sudo
// reads them in order), or CIS's /var/log/sudo.log.
func sudoLog(sudoers ...string) string {
	file := "/var/log/sudo.log"
	for _, s := range sudoers {
		for _, m := range sudoLogfile.FindAllStringSubmatch(s, -1) {
			file = m[1]
		}
	}
	return file
}

// privilegedPrograms lists the setuid and setgid regular files of the
// root's own file system (find -xdev), skipping the kernel's virtual file
// systems. SSG's check finds them the same way on every local file system.
func privilegedPrograms(r *root.Root) ([]string, error) {
	top, err := r.Lstat("/")
	if err != nil {
		return nil, err
	}
	dev := deviceOf(top)
	var out []string
	var walk func(dir string) error
	walk = func(dir string) error {
		entries, err := r.ReadDir(dir)
		if err != nil {
			if isNotExist(err) || errors.Is(err, fs.ErrPermission) {
				return nil
			}
			return err
		}
		for _, e := range entries {
			p := path.Join(dir, e.Name())
			switch {
			case e.IsDir():
				if slices.Contains([]string{"/proc", "/sys", "/dev", "/run"}, p) {
					continue
				}
				fi, err := e.Info()
				if err != nil || deviceOf(fi) != dev {
					continue
				}
				if err := walk(p); err != nil {
					return err
				}
			case e.Type().IsRegular():
				fi, err := e.Info()
				if err == nil && fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
					out = append(out, p)
				}
			}
		}
		return nil
	}
	if err := walk("/"); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

// deviceOf is the file system a file is on (0 when the root cannot tell,
// e.g. a read-only image: then every directory counts as the same one).
func deviceOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Dev
	}
	return 0
}
