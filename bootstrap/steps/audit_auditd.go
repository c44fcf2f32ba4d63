package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// The SSG rules the rule set covers (CIS Debian 12 4.1.3.x, Level 2).
var auditRuleRefs = []string{
	"audit_rules_usergroup_modification_group", "audit_rules_usergroup_modification_passwd",
	"audit_rules_usergroup_modification_gshadow", "audit_rules_usergroup_modification_shadow",
	"audit_rules_usergroup_modification_opasswd", "audit_rules_usergroup_modification_nsswitch_conf",
	"audit_rules_usergroup_modification_pam_conf", "audit_rules_usergroup_modification_pamd",
	"audit_rules_sysadmin_actions", "audit_rules_suid_auid_privilege_function", "audit_sudo_log_events",
	"audit_rules_time_adjtimex", "audit_rules_time_settimeofday", "audit_rules_time_clock_settime",
	"audit_rules_time_watch_localtime", "audit_rules_networkconfig_modification",
	"audit_rules_mac_modification_etc_apparmor", "audit_rules_mac_modification_etc_apparmor_d",
	"audit_rules_login_events_lastlog", "audit_rules_login_events_faillock", "audit_rules_session_events",
	"audit_rules_dac_modification_chmod", "audit_rules_dac_modification_fchmod", "audit_rules_dac_modification_fchmodat",
	"audit_rules_dac_modification_chown", "audit_rules_dac_modification_fchown", "audit_rules_dac_modification_fchownat",
	"audit_rules_dac_modification_lchown", "audit_rules_dac_modification_setxattr", "audit_rules_dac_modification_lsetxattr",
	"audit_rules_dac_modification_fsetxattr", "audit_rules_dac_modification_removexattr",
	"audit_rules_dac_modification_lremovexattr", "audit_rules_dac_modification_fremovexattr",
	"audit_rules_unsuccessful_file_modification_creat", "audit_rules_unsuccessful_file_modification_open",
	"audit_rules_unsuccessful_file_modification_openat", "audit_rules_unsuccessful_file_modification_truncate",
	"audit_rules_unsuccessful_file_modification_ftruncate", "audit_rules_media_export",
	"audit_rules_file_deletion_events_unlink", "audit_rules_file_deletion_events_unlinkat",
	"audit_rules_file_deletion_events_rename", "audit_rules_file_deletion_events_renameat",
	"audit_rules_execution_chcon", "audit_rules_execution_setfacl", "audit_rules_execution_chacl",
	"audit_rules_privileged_commands_usermod", "audit_rules_kernel_module_loading_init",
	"audit_rules_kernel_module_loading_finit", "audit_rules_kernel_module_loading_delete",
	"audit_rules_kernel_module_loading_create", "audit_rules_kernel_module_loading_query",
	"audit_rules_privileged_commands_kmod", "audit_rules_privileged_commands",
}

// auditdConfRefs are the SSG rules of each auditd.conf key.
var auditdConfRefs = map[string][]string{
	"max_log_file":            {"auditd_data_retention_max_log_file"},
	"max_log_file_action":     {"auditd_data_retention_max_log_file_action"},
	"space_left_action":       {"auditd_data_retention_space_left_action"},
	"action_mail_acct":        {"auditd_data_retention_action_mail_acct"},
	"admin_space_left_action": {"auditd_data_retention_admin_space_left_action"},
	"disk_full_action":        {"auditd_data_disk_full_action"},
	"disk_error_action":       {"auditd_data_disk_error_action"},
	"log_group":               {"file_group_ownership_var_log_audit"},
}

// auditdActions plans the rules, auditd.conf, the boot-time load and the
// kernel command line.
func (a Audit) auditdActions(ctx context.Context, env *Env) ([]Action, error) {
	set, err := a.ruleSet(ctx, env)
	if err != nil {
		return nil, err
	}
	p := env.Profile.Audit
	var writes []Action
	w, err := WriteFile(env.Root, AuditRulesFile, []byte(set.Rules()), 0o600,
		fmt.Sprintf("CIS audit rules (%d setuid/setgid programs)", len(set.Privileged)))
	if err != nil {
		return nil, err
	}
	writes = appendAction(writes, w)
	if p.Immutable {
		w, err = WriteFile(env.Root, AuditFinalizeFile, []byte(auditFinalize), 0o600, "audit rules immutable until reboot (-e 2)")
	} else {
		w, err = RemoveFile(env.Root, AuditFinalizeFile, "audit rules may change without a reboot (audit.immutable: false)")
	}
	if err != nil {
		return nil, err
	}
	writes = appendAction(writes, w)
	old, err := env.Root.ReadFile(AuditdConf)
	if err != nil && !isNotExist(err) {
		return nil, err
	}
	mode := fs.FileMode(0o640)
	if fi, err := env.Root.Stat(AuditdConf); err == nil {
		mode = fi.Mode().Perm()
	}
	w, err = WriteFile(env.Root, AuditdConf, []byte(setAuditdConf(string(old), auditdSettings(p))), mode,
		"auditd.conf: log size and what to do when the disk fills")
	if err != nil {
		return nil, err
	}
	writes = appendAction(writes, w)
	private, err := auditRulesPrivate(env)
	if err != nil {
		return nil, err
	}
	writes = append(writes, private...)
	writes = appendAction(writes, auditLogDirPrivate(env))

	actions := writes
	if len(writes) > 0 {
		// Every rule augenrules will join is judged first; then augenrules
		// joins rules.d into audit.rules, what auditd loads at boot
		// (without --load it touches no kernel).
		actions = append(actions, Action{Kind: "validate", Summary: "the image's auditctl parses every rule of " + AuditRulesDir, Cmd: auditctlParseCmd("RULE"),
			Validate: func(ctx context.Context) error {
				err := auditRulesParse(ctx, env)
				if errors.Is(err, errNotJudged) {
					env.logf("  %v", err)
					return nil
				}
				return err
			}},
			Action{Kind: "run", Cmd: cmd("augenrules"), Summary: "join " + AuditRulesDir + " into " + AuditLoadedRules})
	}
	actions = appendAction(actions, enableAction(env, "start auditd at boot", "auditd.service"))
	boot, err := auditBootActions(env)
	if err != nil {
		return nil, err
	}
	return append(actions, boot...), nil
}

// auditRulesPrivate makes the rule files of rules.d readable by root only
// (0600, SSG's file_permissions_etc_audit_rulesd): rules say what is
// watched, and so what is not. Debian ships its audit.rules 0640, and a
// file keeps its mode when rewritten.
func auditRulesPrivate(env *Env) ([]Action, error) {
	files, err := env.Root.Glob(AuditRulesDir + "/*.rules")
	if err != nil {
		return nil, err
	}
	var actions []Action
	for _, f := range files {
		fi, err := env.Root.Stat(f)
		if err != nil {
			return nil, err
		}
		if perm := fi.Mode().Perm(); perm&^0o600 != 0 {
			actions = append(actions, Action{Kind: "chmod", Path: f, Mode: perm & 0o600,
				Summary: fmt.Sprintf("mode %04o: audit rules readable by root only", perm&0o600)})
		}
	}
	return actions, nil
}

// AuditLogDir holds auditd's logs (auditd.conf log_file's directory).
const AuditLogDir = "/var/log/audit"

// auditLogDirPrivate closes the log directory to its group as well: with
// log_group = root the logs are root's alone (0700, SSG's
// directory_permissions_var_log_audit); Debian ships it root:adm 0750.
func auditLogDirPrivate(env *Env) *Action {
	fi, err := env.Root.Stat(AuditLogDir)
	if err != nil || fi.Mode().Perm()&^0o700 == 0 {
		return nil
	}
	// A directory: chmod(1), the snapshot keeps files only.
	mode := fmt.Sprintf("%04o", fi.Mode().Perm()&0o700)
	return &Action{Kind: "run", Path: AuditLogDir, Cmd: cmd("chmod", mode, AuditLogDir), Summary: "audit logs: root's alone (log_group = root)"}
}

// auditctlParseCmd asks the target's auditctl to add one rule as root of a
// user namespace of its own: auditctl parses the whole rule (syscall names
// of each arch, fields, permissions), and the kernel, which accepts audit
// rules only from the initial user namespace, refuses to load it. No rule
// can reach the kernel of the host that builds the image, or of a live host.
func auditctlParseCmd(rule string) runner.Cmd {
	c := cmd("auditctl", strings.Fields(rule)...)
	c.UserNS = true
	return c
}

// auditctlRefusals are what auditctl says once a rule is parsed and no
// kernel takes it (audit 3.0 then exits 0, audit 4.0 exits 1: the exit
// status says nothing here, the messages do).
var auditctlRefusals = []string{"The audit system is disabled", "Error - audit support not in kernel", "Cannot open netlink audit socket"}

// auditctlAdvice are audit 4's performance hints, not errors: SSG's
// checks read the "-w" watches and arch-less "-F path=" rules CIS writes.
var auditctlAdvice = []string{"Old style watch rules are slower", "perm used without an arch is slower"}

// auditControl are the control lines of a rules file (-D, -b, -f, -e,
// --backlog_wait_time, --loginuid-immutable, -c): auditctl sends them to the
// kernel while it parses them, so they are checked by their form here.
var auditControl = regexp.MustCompile(`^(-D|-c|-b [0-9]+|-f [012]|-e [012]|--backlog_wait_time [0-9]+|--loginuid-immutable|-r [0-9]+)$`)

// auditRulesParse judges every line of the files augenrules joins into
// the rules auditd loads at boot (rules.d/*.rules).
func auditRulesParse(ctx context.Context, env *Env) error {
	files, err := env.Root.Glob(AuditRulesDir + "/*.rules")
	if err != nil {
		return err
	}
	var bad []string
	for _, f := range files {
		data, err := env.Root.ReadFile(f)
		if err != nil {
			return err
		}
		more, err := auditFileParse(ctx, env, f, string(data))
		if err != nil {
			return err
		}
		bad = append(bad, more...)
	}
	if len(bad) > 0 {
		return fmt.Errorf("auditctl refuses %d rule(s): %s", len(bad), strings.Join(bad, "; "))
	}
	return nil
}

// errNotJudged: auditctl could not be started in a user namespace (a host
// that allows none: user.max_user_namespaces = 0). Running it outside one
// would load the rules into the host's kernel, so the rules go unjudged.
var errNotJudged = errors.New("audit rules not judged: no user namespace for auditctl on this host")

// auditFileParse returns what auditctl refuses in one rules file.
func auditFileParse(ctx context.Context, env *Env, file, data string) ([]string, error) {
	var bad []string
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "-D") || strings.HasPrefix(line, "-c") || strings.HasPrefix(line, "-b") || strings.HasPrefix(line, "-f") ||
			strings.HasPrefix(line, "-e") || strings.HasPrefix(line, "--") || strings.HasPrefix(line, "-r") {
			if !auditControl.MatchString(strings.Join(strings.Fields(line), " ")) {
				bad = append(bad, fmt.Sprintf("%s:%d %q: not a control line auditctl knows", file, i+1, line))
			}
			continue
		}
		res, err := env.Run.Run(ctx, auditctlParseCmd(line))
		var ee *runner.ExitError
		if err != nil && !errors.As(err, &ee) {
			if ctx.Err() != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w (%v)", errNotJudged, err)
		} else if ee != nil {
			res = ee.Result
		}
		// Parsed means: auditctl got as far as the kernel (a refusal) and
		// said nothing else but advice.
		var said []string
		refused := false
		for _, l := range strings.Split(strings.TrimSpace(string(res.Stderr)), "\n") {
			switch l = strings.TrimSpace(l); {
			case containsString(auditctlRefusals, l):
				refused = true
			case l != "" && !containsString(auditctlAdvice, l):
				said = append(said, l)
			}
		}
		if !refused && len(said) == 0 {
			said = append(said, fmt.Sprintf("auditctl stopped before sending it (exit %d)", res.ExitCode))
		}
		if len(said) > 0 {
			bad = append(bad, fmt.Sprintf("%s:%d %q: %s", file, i+1, line, strings.Join(said, "; ")))
		}
	}
	return bad, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// auditdChecks verifies auditd: package, boot, rules and their effect.
func (a Audit) auditdChecks(ctx context.Context, env *Env) ([]report.Check, error) {
	f := auditFamilyOf(env.Distro)
	pc, err := packagesCheck(ctx, env, "audit.packages", f.auditPackages)
	if err != nil {
		return nil, err
	}
	pc.Refs = auditRefs("package_audit_installed", "package_audit-audispd-plugins_installed")
	checks := []report.Check{pc,
		withLynis(withSSG(check("audit.enabled_at_boot", "enabled", enabledWord(unitEnabled(env, "auditd.service"))), "service_auditd_enabled"), "ACCT-9628")}

	set, err := a.ruleSet(ctx, env)
	if err != nil {
		return nil, err
	}
	checks = append(checks, withLynis(withSSG(fileCheck(env, "audit.rules", AuditRulesFile, set.Rules(),
		fmt.Sprintf("CIS rules, %d setuid/setgid programs", len(set.Privileged))), auditRuleRefs...), "ACCT-9630"))
	if env.Profile.Audit.Immutable {
		checks = append(checks, withSSG(fileCheck(env, "audit.immutable", AuditFinalizeFile, auditFinalize, "-e 2"), "audit_rules_immutable"))
	}
	loose := "0600 or stricter"
	if private, err := auditRulesPrivate(env); err != nil {
		return nil, err
	} else if len(private) > 0 {
		loose = "readable by others: " + private[0].Path
	}
	checks = append(checks, withSSG(check("audit.rules_private", "0600 or stricter", loose), "file_permissions_etc_audit_rulesd"))
	logDir := "0700 or stricter"
	if a := auditLogDirPrivate(env); a != nil {
		logDir = "open to its group or others"
	}
	checks = append(checks, withSSG(check("audit.log_dir", "0700 or stricter", logDir), "directory_permissions_var_log_audit"))
	conf, _ := env.Root.ReadFile(AuditdConf)
	got := auditdConfValues(string(conf))
	for _, s := range auditdSettings(env.Profile.Audit) {
		c := check("audit.auditd_conf."+s.Key, s.Value, got[s.Key])
		c.OK = strings.EqualFold(s.Value, got[s.Key])
		checks = append(checks, withSSG(c, auditdConfRefs[s.Key]...))
	}
	if env.CanRun() && pc.OK {
		// The effect: what auditd loads at boot is what rules.d says
		// (augenrules --check), and the image's auditctl parses all of it.
		_, err := env.Run.Run(ctx, cmd("augenrules", "--check"))
		c := check("audit.rules_current", AuditLoadedRules+" joins rules.d", AuditLoadedRules+" joins rules.d")
		if err != nil {
			c = check("audit.rules_current", AuditLoadedRules+" joins rules.d", firstLine(err))
		}
		checks = append(checks, c)
		c = check("audit.rules_parse", "auditctl parses every rule", "auditctl parses every rule")
		if err := auditRulesParse(ctx, env); err != nil {
			c = check("audit.rules_parse", "auditctl parses every rule", err.Error())
			if errors.Is(err, errNotJudged) {
				c.Severity = report.Warn
			}
		}
		checks = append(checks, c)
	}
	if env.Live() && pc.OK {
		// Rules load at boot; a live bake does not load them (with -e 2
		// loaded, nothing could change them until the reboot).
		res, err := env.Run.Run(ctx, cmd("auditctl", "-l"))
		n := 0
		for _, l := range strings.Split(string(res.Stdout), "\n") {
			if strings.HasPrefix(l, "-") {
				n++
			}
		}
		c := check("audit.rules_loaded", "loaded", "loaded")
		if err != nil || n == 0 {
			c = check("audit.rules_loaded", "loaded", "not loaded yet: they load at the next boot")
			c.Severity = report.Warn
		}
		checks = append(checks, c)
	}
	return append(checks, auditBootChecks(env)...), nil
}

// fileCheck compares a file hardbake writes with the text it would write.
func fileCheck(env *Env, id, path, want, what string) report.Check {
	data, err := env.Root.ReadFile(path)
	switch {
	case err != nil:
		return check(id, what, "missing: "+path)
	case string(data) != want:
		return check(id, what, path+" differs from this hardbake's")
	}
	return check(id, what, what)
}

// The kernel command line, where GRUB makes it from /etc/default/grub and
// its drop-ins (Debian, Ubuntu).
const (
	AuditGrubDropIn  = "/etc/default/grub.d/60-hardbake-audit.cfg"
	auditGrubDropIn  = "# Written by hardbake: audit every process from the start of boot, not only\n# those started after auditd, with a backlog big enough for boot (CIS).\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX audit=1 audit_backlog_limit=8192\"\n"
	auditKernelParam = "audit=1 audit_backlog_limit=8192"
)

// auditGrub reports whether the image has a GRUB configuration the
// drop-in reaches.
func auditGrub(env *Env) bool {
	return (env.Distro.Family == distro.Debian || env.Distro.Family == distro.Ubuntu) && env.Root.Exists("/etc/default/grub")
}

// auditBootActions writes the drop-in, and regenerates grub.cfg on a live
// host. In an image (--root) grub-mkconfig would probe the build host's
// devices: grub.cfg is made by the image's next update-grub (every kernel
// update runs it), and audit reports it until then.
func auditBootActions(env *Env) ([]Action, error) {
	if !env.Profile.Audit.BootParameters || !auditGrub(env) {
		return nil, nil
	}
	w, err := WriteFile(env.Root, AuditGrubDropIn, []byte(auditGrubDropIn), 0o644, "kernel command line: "+auditKernelParam)
	if err != nil || w == nil {
		return nil, err
	}
	actions := []Action{*w}
	if _, ok := runner.Lookup(env.Root.HostPath("/"), "update-grub"); ok && env.Live() && env.Root.Exists("/boot/grub/grub.cfg") {
		actions = append(actions, Action{Kind: "run", Cmd: cmd("update-grub"), Summary: "regenerate grub.cfg with " + auditKernelParam})
	}
	return actions, nil
}

// auditBootChecks: the drop-in, and whether grub.cfg boots with it.
func auditBootChecks(env *Env) []report.Check {
	if !env.Profile.Audit.BootParameters {
		return nil
	}
	want := auditKernelParam + " on the kernel command line"
	if !auditGrub(env) {
		c := check("audit.boot_parameters", want, "no GRUB configuration in the image (direct kernel boot?): whoever boots it sets the kernel command line")
		c.Severity = report.Warn
		c.Refs = auditRefs("grub2_audit_argument", "grub2_audit_backlog_limit_argument")
		return []report.Check{c}
	}
	checks := []report.Check{withSSG(fileCheck(env, "audit.boot_parameters", AuditGrubDropIn, auditGrubDropIn, want),
		"grub2_audit_argument", "grub2_audit_backlog_limit_argument")}
	if cfg, err := env.Root.ReadFile("/boot/grub/grub.cfg"); err == nil {
		c := check("audit.grub_cfg", "audit=1 in grub.cfg", "audit=1 in grub.cfg")
		if !strings.Contains(string(cfg), "audit=1") {
			c = check("audit.grub_cfg", "audit=1 in grub.cfg", "grub.cfg predates it: the next update-grub (kernel update) adds it")
			c.Severity = report.Warn
		}
		checks = append(checks, c)
	}
	return checks
}
