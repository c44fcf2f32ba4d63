package steps

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

func TestSetAuditdConf(t *testing.T) {
	want := []confSetting{{"max_log_file", "6"}, {"max_log_file_action", "keep_logs"}, {"disk_full_action", "suspend"}}
	for _, c := range []struct{ name, in, out string }{
		{"rewritten in place, comments kept",
			"#\n# auditd\nlog_file = /var/log/audit/audit.log\nmax_log_file = 8\nmax_log_file_action = ROTATE\ndisk_full_action = SUSPEND\n",
			"#\n# auditd\nlog_file = /var/log/audit/audit.log\nmax_log_file = 6\nmax_log_file_action = keep_logs\ndisk_full_action = suspend\n"},
		{"missing keys appended, no final newline",
			"log_file = /var/log/audit/audit.log",
			"log_file = /var/log/audit/audit.log\nmax_log_file = 6\nmax_log_file_action = keep_logs\ndisk_full_action = suspend\n"},
		{"later duplicates dropped (auditd would take the last)",
			"max_log_file=8\nmax_log_file = 50\n  max_log_file_action=rotate\n",
			"max_log_file = 6\nmax_log_file_action = keep_logs\ndisk_full_action = suspend\n"},
		{"empty file", "", "max_log_file = 6\nmax_log_file_action = keep_logs\ndisk_full_action = suspend\n"},
		{"a key that only starts like ours is not ours",
			"max_log_file_size = 3\n",
			"max_log_file_size = 3\nmax_log_file = 6\nmax_log_file_action = keep_logs\ndisk_full_action = suspend\n"},
	} {
		got := setAuditdConf(c.in, want)
		if got != c.out {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.out)
		}
		if again := setAuditdConf(got, want); again != got {
			t.Errorf("%s: not idempotent: %q", c.name, again)
		}
		vals := auditdConfValues(got)
		for _, s := range want {
			if vals[s.Key] != s.Value {
				t.Errorf("%s: auditd would read %s = %q", c.name, s.Key, vals[s.Key])
			}
		}
	}
}

func TestSetAIDEBlock(t *testing.T) {
	block := aideBlock("/usr/sbin")
	debian := "database_in=file:/var/lib/aide/aide.db\nVarFile = OwnerMode+n+l+X\n@@x_include /etc/aide/aide.conf.d ^[a-zA-Z0-9_-]+$\n"
	got := setAIDEBlock(debian, block)
	if !strings.HasPrefix(got, "database_in=file:/var/lib/aide/aide.db\nVarFile = OwnerMode+n+l+X\n"+aideBlockBegin) ||
		!strings.HasSuffix(got, aideBlockEnd+"\n@@x_include /etc/aide/aide.conf.d ^[a-zA-Z0-9_-]+$\n") {
		t.Errorf("the block is not before Debian's include:\n%s", got)
	}
	if again := setAIDEBlock(got, block); again != got {
		t.Errorf("not idempotent:\n%s", again)
	}
	if changed := setAIDEBlock(got, aideBlock("/sbin")); strings.Count(changed, aideBlockBegin) != 1 || !strings.Contains(changed, "/sbin/auditctl p+") || strings.Contains(changed, "/usr/sbin/auditctl") {
		t.Errorf("an old block is not replaced:\n%s", changed)
	}
	if got := setAIDEBlock("@@define DBDIR /var/lib/aide\n# no include", block); got != "@@define DBDIR /var/lib/aide\n# no include\n"+block {
		t.Errorf("without an include the block goes last:\n%s", got)
	}
	for _, tool := range []string{"auditctl", "auditd", "ausearch", "aureport", "autrace", "augenrules"} {
		if !strings.Contains(block, "/usr/sbin/"+tool+" p+i+n+u+g+s+b+acl+selinux+xattrs+sha512\n") {
			t.Errorf("%s is not watched with CIS's attributes", tool)
		}
	}
}

func TestAuditRuleInputs(t *testing.T) {
	for in, want := range map[string]int{
		"":                                 1000,
		"UID_MIN\t\t\t 1000\n":             1000,
		"# UID_MIN 500\nUID_MIN 2000\n":    2000,
		"UID_MIN 500\nUID_MIN   1500  \n":  1500,
		"UID_MINIMUM 3\n#UID_MIN 9\n":      1000,
		"SYS_UID_MIN 100\nUID_MIN 1001\n":  1001,
		"UID_MIN 1000\nSYS_UID_MIN  201\n": 1000,
	} {
		if got := uidMin(in); got != want {
			t.Errorf("uidMin(%q) = %d, want %d", in, got, want)
		}
	}
	for _, c := range []struct {
		sudoers []string
		want    string
	}{
		{nil, "/var/log/sudo.log"},
		{[]string{"Defaults env_reset\n"}, "/var/log/sudo.log"},
		{[]string{"Defaults logfile=\"/var/log/sudo.log\"\n"}, "/var/log/sudo.log"},
		{[]string{"Defaults\tuse_pty, logfile=/var/log/sudo-io.log\n", "Defaults logfile = /var/log/admin.log\n"}, "/var/log/admin.log"},
		{[]string{"# Defaults logfile=/nope\n"}, "/var/log/sudo.log"},
	} {
		if got := sudoLog(c.sudoers...); got != c.want {
			t.Errorf("sudoLog(%q) = %q, want %q", c.sudoers, got, c.want)
		}
	}
}

// TestAuditRuleSet: the rendered rules, in the forms SSG reads.
func TestAuditRuleSet(t *testing.T) {
	s := auditRuleSet{Arches: []string{"b64", "b32"}, UIDMin: 1000, MACPolicy: []string{"/etc/apparmor", "/etc/apparmor.d"},
		SudoLog: "/var/log/sudo.log", Privileged: []string{"/usr/bin/passwd", "/usr/bin/sudo"}}
	rules := s.Rules()
	for _, want := range []string{
		"-w /etc/sudoers -p wa -k scope\n",
		"-a always,exit -F arch=b64 -S execve -C euid!=uid -F auid!=unset -k user_emulation\n",
		"-a always,exit -F arch=b32 -S execve -C euid!=uid -F auid!=unset -k user_emulation\n",
		"-w /var/log/sudo.log -p wa -k sudo_log_file\n",
		"-a always,exit -F arch=b32 -S adjtimex,settimeofday -k time-change\n",
		"-a always,exit -F arch=b64 -S clock_settime -F a0=0x0 -k time-change\n",
		"-w /etc/network/ -p wa -k system-locale\n",
		"-w /etc/apparmor.d -p wa -k MAC-policy\n",
		"-w /var/run/faillock -p wa -k logins\n",
		"-a always,exit -F arch=b64 -S creat,open,openat,truncate,ftruncate -F exit=-EPERM -F auid>=1000 -F auid!=unset -k access\n",
		"-a always,exit -F path=/usr/bin/kmod -F perm=x -F auid>=1000 -F auid!=unset -k kernel_modules\n",
		"-a always,exit -F path=/usr/bin/passwd -F perm=x -F auid>=1000 -F auid!=unset -k privileged\n",
		"-a always,exit -F path=/usr/bin/sudo -F perm=x -F auid>=1000 -F auid!=unset -k privileged\n",
	} {
		if !strings.Contains(rules, want) {
			t.Errorf("missing %q", want)
		}
	}
	if strings.Contains(rules, "-e 2") {
		t.Error("-e 2 belongs to the finalize file")
	}
	// aarch64 has no open/creat/... in its 64-bit table.
	s.Missing = map[string][]string{"b64": {"open", "creat"}}
	if r := s.Rules(); !strings.Contains(r, "-F arch=b64 -S openat,truncate,ftruncate -F exit=-EACCES") ||
		!strings.Contains(r, "-F arch=b32 -S creat,open,openat,truncate,ftruncate -F exit=-EACCES") {
		t.Errorf("missing syscalls are not left out of their arch only:\n%s", r)
	}
}

// TestAuditFixturePlans: the packages, files and commands of each family
// (fixture roots with each distribution's real default files; nothing is
// installed or run there, so what is tested is the plan).
func TestAuditFixturePlans(t *testing.T) {
	for name, want := range map[string][]string{
		"debian12": {"install auditd audispd-plugins aide aide-common", "write " + AuditRulesFile, "write " + AuditFinalizeFile,
			"write " + AuditdConf, "run augenrules", "validate unshare --user --map-root-user auditctl RULE",
			"run systemctl enable auditd.service", "write /etc/aide/aide.conf", "run systemctl enable dailyaidecheck.timer", "aide --init --config=/etc/aide/aide.conf"},
		"rocky9": {"install audit aide", "write " + AuditRulesFile, "run augenrules", "write /etc/aide.conf",
			"write " + AIDECheckService, "write " + AIDECheckTimer, "run systemctl enable aidecheck.timer",
			"mv -f /var/lib/aide/aide.db.new.gz /var/lib/aide/aide.db.gz"},
		"fedora41": {"install audit aide", "write " + AuditRulesFile, "-w /etc/selinux -p wa", "run systemctl enable aidecheck.timer"},
		"arch":     {"--noconfirm audit\n", "write " + AuditRulesFile, "run systemctl enable auditd.service"},
	} {
		t.Run(name, func(t *testing.T) {
			env, _ := goldenEnv(t, name, "", pkgQueryResponses)
			actions, err := Audit{}.Plan(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}
			var plan strings.Builder
			for _, a := range actions {
				ch := a.Change()
				switch a.Kind {
				case "write", "remove":
					plan.WriteString(a.Kind + " " + a.Path + "\n" + string(a.Data) + "\n")
				default:
					plan.WriteString(a.Kind + " " + ch.Command + "\n")
				}
			}
			for _, w := range want {
				if !strings.Contains(plan.String(), w) {
					t.Errorf("%s: plan lacks %q:\n%s", name, w, plan.String())
				}
			}
			if name == "arch" && strings.Contains(plan.String(), "aide") {
				t.Errorf("arch: AIDE is not in Arch's archive, yet planned:\n%s", plan.String())
			}
		})
	}
}

// pkgQueryResponses answer rpm's query on the RHEL-family fixtures: nothing
// installed.
var pkgQueryResponses = map[string]runner.Result{"rpm -q": {ExitCode: 1, Stdout: []byte("package x is not installed\n")}}

// TestAuditDeviations: deliberate, and only where the profile or the
// distribution makes them so.
func TestAuditDeviations(t *testing.T) {
	env, _ := goldenEnv(t, "debian12", "", nil)
	var got []string
	for _, d := range (Audit{}).Deviations(env) {
		got = append(got, d.Refs...)
	}
	if strings.Join(got, " ") != "ssg:auditd_data_retention_admin_space_left_action ssg:auditd_data_disk_full_action ssg:aide_periodic_checking_systemd_timer ssg:aide_build_database" {
		t.Errorf("debian12 default deviations: %v", got)
	}
	env, _ = goldenEnv(t, "debian12", "audit:\n  admin_space_left_action: halt\n  disk_full_action: single\n  aide: false\n", nil)
	if d := (Audit{}).Deviations(env); len(d) != 0 {
		t.Errorf("a profile that asks for CIS's actions still deviates: %+v", d)
	}
	env, _ = goldenEnv(t, "arch", "", nil)
	got = nil
	for _, d := range (Audit{}).Deviations(env) {
		got = append(got, d.Refs...)
	}
	if !strings.Contains(strings.Join(got, " "), "ssg:package_aide_installed") {
		t.Errorf("arch: no deviation for the missing AIDE package: %v", got)
	}
}

// TestPrivilegedProgramsOfARealRoot: the setuid/setgid programs found
// through the root are those find(1) finds in it.
func TestPrivilegedProgramsOfARealRoot(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.Debian(t, "bookworm")
	r, _ := testroot.Open(t, dir)
	got, err := privilegedPrograms(r)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("chroot", dir, "find", "/", "-xdev", "-type", "f", "(", "-perm", "-4000", "-o", "-perm", "-2000", ")").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(out))
	slices.Sort(want)
	if strings.Join(got, " ") != strings.Join(want, " ") || len(want) < 5 {
		t.Errorf("privileged programs:\n got  %v\n want %v", got, want)
	}
}

// TestAuditBootParameters: with GRUB's defaults file in the image the
// kernel command line gets a drop-in (update-grub only on a live host:
// under --root it would probe the build host's disks); without one, a
// warning, never a failure.
func TestAuditBootParameters(t *testing.T) {
	env, _ := goldenEnv(t, "debian12", "", nil)
	if err := env.Root.MkdirAll("/etc/default", 0o755, root.RootOwner); err != nil {
		t.Fatal(err)
	}
	if err := env.Root.WriteFile("/etc/default/grub", []byte("GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"\"\n"), 0o644, root.RootOwner); err != nil {
		t.Fatal(err)
	}
	actions, err := auditBootActions(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(actions) != 1 || actions[0].Path != AuditGrubDropIn || !strings.Contains(string(actions[0].Data), `GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX audit=1 audit_backlog_limit=8192"`) {
		t.Fatalf("boot actions: %+v", actions)
	}
	if _, err := Execute(context.Background(), env, actions); err != nil {
		t.Fatal(err)
	}
	// What grub-mkconfig does with it: /etc/default/grub, then each
	// drop-in, sourced by sh.
	out, err := exec.Command("sh", "-c", `. "$1/etc/default/grub"; for f in "$1"/etc/default/grub.d/*.cfg; do . "$f"; done; echo "$GRUB_CMDLINE_LINUX"`, "sh", env.Root.HostPath("/")).Output()
	if err != nil || strings.TrimSpace(string(out)) != "audit=1 audit_backlog_limit=8192" {
		t.Errorf("GRUB_CMDLINE_LINUX as grub-mkconfig reads it: %q, %v", out, err)
	}
	for _, c := range auditBootChecks(env) {
		if !c.OK {
			t.Errorf("check %s: %s", c.ID, c.Got)
		}
	}

	env, _ = goldenEnv(t, "debian12", "", nil)
	checks := auditBootChecks(env)
	if len(checks) != 1 || checks[0].OK || checks[0].Severity != report.Warn || checks[0].Failed() {
		t.Errorf("without GRUB: %+v", checks)
	}
	if actions, _ := auditBootActions(env); len(actions) != 0 {
		t.Errorf("without GRUB the step plans %+v", actions)
	}
}

// TestAuditPlanOnSysV: on a Debian root booted by sysvinit (a real root,
// nothing installed or run here), auditd starts from its init script
// (update-rc.d) and AIDE's daily check comes from cron.daily: no systemctl.
func TestAuditPlanOnSysV(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.DebianSysV(t)
	r, d := testroot.Open(t, dir)
	p, err := profile.Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Root: r, Run: runner.Exec{Chroot: dir}, Distro: d, Profile: p}
	actions, err := Audit{}.Plan(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, a := range actions {
		if a.Kind == "run" {
			cmds = append(cmds, a.Cmd.String())
		}
	}
	all := strings.Join(cmds, "\n")
	if !strings.Contains(all, "update-rc.d auditd defaults") || strings.Contains(all, "systemctl") {
		t.Errorf("SysV plan:\n%s", all)
	}
	if !unitEnabled(env, "cron.service") && !strings.Contains(all, "update-rc.d cron defaults") {
		t.Errorf("cron (AIDE's daily check) is not started at boot, nor planned:\n%s", all)
	}
}
