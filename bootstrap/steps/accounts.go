package steps

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
	"golang.org/x/crypto/ssh"
)

// Accounts applies CIS's accounts family: login.defs (umask, ageing and
// hash of new passwords), useradd's inactive lock, pam_pwquality,
// pam_faillock and pam_pwhistory through the distribution's PAM tool, su
// for one group only, sudo's log and password timeout, the shell's umask
// and idle timeout, and nologin for system accounts. Accounts without a
// password never get ageing (accounts_ageing.go), so key-only admins and
// NOPASSWD sudo keep working.
type Accounts struct{}

// Name implements Step.
func (Accounts) Name() string { return "accounts" }

const (
	loginDefs      = "/etc/login.defs"
	useraddDefault = "/etc/default/useradd"
	shellProfileD  = "/etc/profile.d/hardbake-accounts.sh"
	pamSu          = "/etc/pam.d/su"
	sudoersDefault = "/etc/sudoers.d/05-hardbake-accounts"
	systemdUnits   = "/etc/systemd/system/"
)

// bashrcFiles are bash's system-wide rc files (Debian, Arch: bash.bashrc;
// the RHEL family: bashrc); the step sets the umask in those that exist.
var bashrcFiles = []string{"/etc/bash.bashrc", "/etc/bashrc"}

// nologinShell is the root's nologin program.
func nologinShell(env *Env) string {
	for _, p := range []string{"/usr/sbin/nologin", "/sbin/nologin", "/usr/bin/nologin"} {
		if env.Root.Exists(p) {
			return p
		}
	}
	return "/usr/sbin/nologin"
}

// systemAccountsWithShell are the accounts below UID_MIN, other than root
// and the sync/shutdown/halt accounts (their "shell" is the one command
// they run), whose shell is not nologin: /bin/false too, which SSG counts
// as a shell. NIS lines are no local accounts (ParsePasswd). An account
// that holds an SSH key (a build user made with useradd -r, say) keeps its
// shell, so nobody is locked out mid-build: it is returned in keyed.
func systemAccountsWithShell(env *Env) (change, keyed []string) {
	passwd, _ := env.Root.ReadFile("/etc/passwd")
	defs, _ := env.Root.ReadFile(loginDefs)
	uidMin := distro.UIDRangeFromLoginDefs(string(defs)).Min
	for _, e := range distro.ParsePasswd(string(passwd)) {
		switch e.Name {
		case "root", "sync", "shutdown", "halt":
			continue
		}
		if e.UID >= uidMin || strings.HasSuffix(e.Shell, "/nologin") {
			continue
		}
		if hasAuthorizedKey(env, e) {
			keyed = append(keyed, e.Name)
		} else {
			change = append(change, e.Name)
		}
	}
	return change, keyed
}

// hasAuthorizedKey reports whether one of the account's default key files
// (sshd's AuthorizedKeysFile default) holds a key.
func hasAuthorizedKey(env *Env, e distro.PasswdEntry) bool {
	for _, p := range (KeyAuth{}).keyFiles(e) {
		if data, err := env.Root.ReadFile(p); err == nil {
			if _, _, _, _, err := ssh.ParseAuthorizedKey(data); err == nil {
				return true
			}
		}
	}
	return false
}

// editFile plans path's transformed text when the file exists.
func editFile(env *Env, path, summary string, transform func(string) string) (*Action, error) {
	old, err := env.Root.ReadFile(path)
	if isNotExist(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	a, err := WriteFile(env.Root, path, []byte(transform(string(old))), 0o644, summary)
	if a != nil {
		if fi, err := env.Root.Stat(path); err == nil {
			a.Mode = fi.Mode().Perm()
		}
	}
	return a, err
}

// configure plans every file and command, with the packages in place.
func (s Accounts) configure(ctx context.Context, env *Env) ([]Action, error) {
	p := env.Profile.Accounts
	var actions []Action
	add := func(a *Action, err error) error {
		actions = appendAction(actions, a)
		return err
	}
	edits := []struct {
		path, summary string
		transform     func(string) string
	}{
		{loginDefs, "login.defs: umask " + p.UmaskValue() + ", password ageing, " + p.PasswordHash,
			func(t string) string { return setSettings(t, "\t", loginDefsSettings(p)) }},
		{pwqualityConf, "pwquality: passwords of at least " + fmt.Sprint(p.PasswordMinLength) + " characters, every class",
			func(t string) string { return setSettings(t, " = ", pwqualitySettings(p)) }},
		{faillockConf, fmt.Sprintf("faillock: %d failed passwords lock for %d s", p.FaillockDeny, p.FaillockUnlockTime),
			func(t string) string { return setSettings(t, " = ", faillockSettings(p)) }},
	}
	if !pamAuthUpdate(env) {
		// Debian's profiles carry remember on the pam_pwhistory line;
		// authselect's line has none, so it comes from pwhistory.conf
		// where this PAM reads one (it ships the file then).
		edits = append(edits, struct {
			path, summary string
			transform     func(string) string
		}{pwhistoryConf, fmt.Sprintf("pwhistory: remember %d passwords, root too", p.PasswordHistory),
			func(t string) string {
				return setSettings(t, " = ", []setting{{"remember", fmt.Sprint(p.PasswordHistory)}, {"enforce_for_root", ""}})
			}})
	}
	for _, b := range bashrcFiles {
		edits = append(edits, struct {
			path, summary string
			transform     func(string) string
		}{b, "umask " + p.UmaskValue() + " for interactive shells", func(t string) string { return bashrcBlock(t, p.UmaskValue()) }})
	}
	if p.SuGroup != "" {
		edits = append(edits, struct {
			path, summary string
			transform     func(string) string
		}{pamSu, "su only for members of " + p.SuGroup, func(t string) string { return suWheel(t, p.SuGroup) }})
	}
	for _, e := range edits {
		if err := add(editFile(env, e.path, e.summary, e.transform)); err != nil {
			return nil, err
		}
	}
	// /etc/default/useradd is optional; useradd -D writes it. Its absence
	// means INACTIVE -1.
	old, _ := env.Root.ReadFile(useraddDefault)
	if err := add(WriteFile(env.Root, useraddDefault, []byte(setSettings(string(old), "=", useraddSettings(p))), 0o644,
		fmt.Sprintf("useradd: accounts with a password lock %d days after it expired", p.InactiveDays))); err != nil {
		return nil, err
	}
	if err := add(WriteFile(env.Root, shellProfileD, []byte(shellProfile(p)), 0o644, "login shells: umask and idle timeout")); err != nil {
		return nil, err
	}

	// Ageing never locks out an account without a password.
	if err := add(WriteFile(env.Root, AgeingScript, []byte(AgeingScriptText), 0o755, "no password ageing for accounts without a password")); err != nil {
		return nil, err
	}
	if env.Distro.ServiceManager == distro.Systemd {
		if err := add(WriteFile(env.Root, systemdUnits+AgeingService, []byte(ageingService), 0o644, "run it at every boot")); err != nil {
			return nil, err
		}
		if err := add(WriteFile(env.Root, systemdUnits+AgeingPath, []byte(ageingPath), 0o644, "run it whenever /etc/shadow changes")); err != nil {
			return nil, err
		}
		actions = appendAction(actions, enableAction(env, "ageing exemption at boot and on every account change", AgeingService, AgeingPath))
		if env.Live() {
			actions = append(actions, Action{Kind: "run", Cmd: cmd("systemctl", "start", AgeingPath), Summary: "watch /etc/shadow from now on"})
		}
	}
	shadow, _ := env.Root.ReadFile("/etc/shadow")
	if l := ageingLockouts(string(shadow)); len(l) > 0 {
		actions = append(actions, Action{Kind: "run", Cmd: cmd(AgeingScript), Summary: "no password ageing for " + strings.Join(l, ", ") + " (no usable password)"})
	}

	// PAM through the distribution's tool.
	switch {
	case pamAuthUpdate(env):
		more, err := debianPAMActions(env)
		if err != nil {
			return nil, err
		}
		actions = append(actions, more...)
	case authselectFamily(env.Distro):
		more, err := authselectActions(ctx, env)
		if err != nil {
			return nil, err
		}
		actions = append(actions, more...)
	}

	// su's group exists (empty) before pam_wheel names it.
	if p.SuGroup != "" && !groupExists(env, p.SuGroup) {
		actions = append(actions, Action{Kind: "run", Cmd: cmd("groupadd", "--system", p.SuGroup), Summary: "group " + p.SuGroup + " for su (no members)"})
	}

	// sudo's defaults, judged by the target's visudo with every other file.
	if env.Root.Exists("/etc/sudoers") {
		a, err := WriteFile(env.Root, sudoersDefault, []byte(sudoDefaults(p)), 0o440, "sudo: own log, password remembered "+fmt.Sprint(p.SudoTimestampTimeout)+" min")
		if err != nil {
			return nil, err
		}
		if a != nil {
			check := cmd("visudo", "-c", "-q")
			actions = append(actions, *a, Action{Kind: "validate", Cmd: check, Summary: "visudo -c accepts the sudoers files",
				Validate: func(ctx context.Context) error { _, err := env.Run.Run(ctx, check); return err }})
		}
	}

	if p.SystemAccountsNologin {
		nologin := nologinShell(env)
		change, _ := systemAccountsWithShell(env)
		for _, name := range change {
			actions = append(actions, Action{Kind: "run", Cmd: cmd("usermod", "-s", nologin, "--", name), Summary: "system account " + name + ": no login shell"})
		}
	}
	return actions, nil
}

func groupExists(env *Env, name string) bool {
	data, _ := env.Root.ReadFile("/etc/group")
	_, ok := distro.LookupGroup(string(data), name)
	return ok
}

func accountsPackages(env *Env) [][]string { return [][]string{pwqualityPackages(env.Distro)} }

// Plan implements Step.
func (s Accounts) Plan(ctx context.Context, env *Env) ([]Action, error) {
	return planWithPackages(ctx, env, "install pam_pwquality", accountsPackages(env),
		func() ([]Action, error) { return s.configure(ctx, env) })
}

// Apply implements Step.
func (s Accounts) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	return applyWithPackages(ctx, env, "install pam_pwquality", accountsPackages(env),
		func() ([]Action, error) { return s.configure(ctx, env) })
}

// ssgCheck builds a check with refs: SSG rule ids, or refs that name
// their benchmark ("lynis:AUTH-9262").
func ssgCheck(id, want, got string, rules ...string) report.Check {
	c := check(id, want, got)
	for _, r := range rules {
		if !strings.Contains(r, ":") {
			r = "ssg:" + r
		}
		c.Refs = append(c.Refs, r)
	}
	return c
}

// settingsGot reads keys back with the same rules setSettings writes them.
func settingsGot(text string, keys []setting) string {
	var got []string
	for _, s := range keys {
		if setSettings(text, "\t", []setting{s}) == text || setSettings(text, " = ", []setting{s}) == text || setSettings(text, "=", []setting{s}) == text {
			got = append(got, s.Key+"="+s.Value)
		} else {
			got = append(got, s.Key+"≠"+s.Value)
		}
	}
	return strings.Join(got, " ")
}

func wantSettings(keys []setting) string {
	var w []string
	for _, s := range keys {
		w = append(w, s.Key+"="+s.Value)
	}
	return strings.Join(w, " ")
}

// Check implements Step.
func (s Accounts) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	p := env.Profile.Accounts
	read := func(path string) string { b, _ := env.Root.ReadFile(path); return string(b) }
	var checks []report.Check

	defs := read(loginDefs)
	for _, k := range loginDefsSettings(p) {
		rules := map[string][]string{
			"UMASK":                {"accounts_umask_etc_login_defs"},
			"PASS_MAX_DAYS":        {"accounts_maximum_age_login_defs"},
			"PASS_MIN_DAYS":        {"accounts_minimum_age_login_defs"},
			"PASS_WARN_AGE":        {"accounts_password_warn_age_login_defs"},
			"ENCRYPT_METHOD":       {"set_password_hashing_algorithm_logindefs"},
			"SHA_CRYPT_MIN_ROUNDS": {"set_password_hashing_min_rounds_logindefs"},
		}[k.Key]
		c := ssgCheck("accounts.login_defs."+strings.ToLower(k.Key), wantSettings([]setting{k}), settingsGot(defs, []setting{k}), rules...)
		c.Refs = append(c.Refs, map[string][]string{
			"UMASK":                {"lynis:AUTH-9328"},
			"PASS_MAX_DAYS":        {"lynis:AUTH-9286"},
			"PASS_MIN_DAYS":        {"lynis:AUTH-9286"},
			"ENCRYPT_METHOD":       {"lynis:AUTH-9229"},
			"SHA_CRYPT_MIN_ROUNDS": {"lynis:AUTH-9230"},
			"SHA_CRYPT_MAX_ROUNDS": {"lynis:AUTH-9230"},
		}[k.Key]...)
		checks = append(checks, c)
	}
	checks = append(checks, ssgCheck("accounts.useradd_inactive", wantSettings(useraddSettings(p)), settingsGot(read(useraddDefault), useraddSettings(p)), "account_disable_post_pw_expiration"))

	// The lockout guard: no account without a password can expire.
	lock := ageingLockouts(read("/etc/shadow"))
	checks = append(checks, ssgCheck("accounts.no_ageing_without_password", "none", orNone(lock)))
	if env.Distro.ServiceManager == distro.Systemd {
		checks = append(checks, check("accounts.ageing_exemption_units", "enabled",
			enabledWord(unitEnabled(env, AgeingService) && unitEnabled(env, AgeingPath) && read(AgeingScript) == AgeingScriptText)))
	} else {
		c := check("accounts.ageing_exemption_units", "enabled", "no systemd: accounts created later are not exempted automatically")
		c.Severity = report.Warn
		checks = append(checks, c)
	}
	var stale []string
	for _, e := range parseShadow(read("/etc/shadow")) {
		if e.usablePassword() && (!e.expires() || e.Max > p.PasswordMaxDays) {
			stale = append(stale, e.Name)
		}
	}
	c := ssgCheck("accounts.password_accounts_ageing", "none", orNone(stale), "accounts_password_set_max_life_existing", "accounts_set_post_pw_existing")
	c.Severity = report.Warn
	c.Detail = "accounts with a password whose maximum age exceeds the policy: set it with chage -M after the password was changed (hardbake does not, so that an old password cannot expire mid-build)"
	checks = append(checks, c)

	prof := read(shellProfileD)
	checks = append(checks, ssgCheck("accounts.shell_umask", "umask "+p.UmaskValue(), firstMatch(prof, `(?m)^umask \d+`), "accounts_umask_etc_profile", "lynis:AUTH-9328"))
	for _, b := range bashrcFiles {
		if env.Root.Exists(b) {
			checks = append(checks, ssgCheck("accounts.bashrc_umask"+strings.ReplaceAll(b, "/", "_"), "umask "+p.UmaskValue(), lastMatch(read(b), `(?m)^\s*umask \d+`), "accounts_umask_etc_bashrc"))
		}
	}
	if p.ShellTimeout > 0 {
		c := ssgCheck("accounts.shell_timeout", fmt.Sprintf("typeset -xr TMOUT=%d", p.ShellTimeout), strings.TrimSpace(firstMatch(prof, `(?m)^\s*typeset -xr TMOUT=\d+`)), "accounts_tmout")
		c.Refs = append(c.Refs, "lynis:SHLL-6220")
		checks = append(checks, c)
	}

	checks = append(checks, ssgCheck("accounts.pwquality", wantSettings(pwqualitySettings(p)), settingsGot(read(pwqualityConf), pwqualitySettings(p)), "lynis:AUTH-9262",
		"accounts_password_pam_minlen", "accounts_password_pam_minclass", "accounts_password_pam_dcredit", "accounts_password_pam_ucredit",
		"accounts_password_pam_lcredit", "accounts_password_pam_ocredit", "accounts_password_pam_maxrepeat", "accounts_password_pam_maxsequence",
		"accounts_password_pam_difok", "accounts_password_pam_dictcheck", "accounts_password_pam_enforcing", "accounts_password_pam_enforce_root"))
	checks = append(checks, ssgCheck("accounts.faillock_conf", wantSettings(faillockSettings(p)), settingsGot(read(faillockConf), faillockSettings(p)),
		"accounts_passwords_pam_faillock_deny", "accounts_passwords_pam_faillock_unlock_time"))
	if pk := pwqualityPackages(env.Distro); len(pk) > 0 {
		pc, err := packagesCheck(ctx, env, "accounts.pwquality_package", pk)
		if err != nil {
			return nil, err
		}
		pc.Refs = []string{"ssg:package_pam_pwquality_installed"}
		checks = append(checks, pc)
	}
	switch {
	case pamAuthUpdate(env):
		want := "faillock pwhistory pwquality, no nullok"
		got := want
		if m := debianPAMState(env); len(m) > 0 {
			got = "missing: " + strings.Join(m, "; ")
		}
		checks = append(checks, ssgCheck("accounts.pam_stack", want, got,
			"accounts_passwords_pam_faillock_enabled", "accounts_password_pam_pwhistory_enabled", "accounts_password_pam_pwhistory_remember",
			"accounts_password_pam_pwhistory_enforce_root", "accounts_password_pam_pwhistory_use_authtok", "accounts_password_pam_pwquality_enabled",
			"no_empty_passwords_unix"))
	case authselectFamily(env.Distro):
		have, ok := authselectCurrent(ctx, env)
		got := "authselect manages nothing here"
		if ok {
			var missing []string
			for _, f := range authselectFeatures {
				if !have[f] {
					missing = append(missing, f)
				}
			}
			got = strings.Join(authselectFeatures, " ")
			if len(missing) > 0 {
				got = "missing: " + strings.Join(missing, " ")
			}
		}
		c := ssgCheck("accounts.pam_stack", strings.Join(authselectFeatures, " "), got,
			"accounts_passwords_pam_faillock_enabled", "accounts_password_pam_pwhistory_enabled", "no_empty_passwords")
		if !ok {
			c.Severity = report.Warn
		}
		checks = append(checks, c)
	default:
		c := check("accounts.pam_stack", "pwquality and pwhistory in the PAM stack",
			string(env.Distro.Family)+" has no PAM configuration tool (pam-auth-update, authselect); hardbake does not hand-edit system-auth")
		c.Severity = report.Warn
		c.Refs = []string{"ssg:accounts_password_pam_pwhistory_enabled", "ssg:accounts_password_pam_pwquality_enabled"}
		checks = append(checks, c)
	}

	if p.SuGroup != "" {
		line := firstMatch(stripComments(read(pamSu)), `(?m)^auth\s+required\s+pam_wheel\.so[^\n]*`)
		checks = append(checks, ssgCheck("accounts.su_wheel", "auth required pam_wheel.so use_uid group="+p.SuGroup, strings.Join(strings.Fields(line), " "), "use_pam_wheel_group_for_su"))
		checks = append(checks, ssgCheck("accounts.su_group_members", "none", orNone(groupMembers(env, p.SuGroup)), "ensure_pam_wheel_group_empty"))
	}
	if env.Root.Exists("/etc/sudoers") {
		checks = append(checks, ssgCheck("accounts.sudo_defaults", "written", map[bool]string{true: "written", false: "missing"}[read(sudoersDefault) == sudoDefaults(p)],
			"sudo_custom_logfile", "sudo_require_reauthentication"))
	}
	if p.SystemAccountsNologin {
		change, keyed := systemAccountsWithShell(env)
		got := "nologin"
		if len(change) > 0 {
			got = "shells: " + strings.Join(change, ", ")
		}
		checks = append(checks, ssgCheck("accounts.system_accounts_shell", "nologin", got, "no_shelllogin_for_systemaccounts"))
		if len(keyed) > 0 {
			c := ssgCheck("accounts.system_accounts_with_keys", "none", strings.Join(keyed, ", "), "no_shelllogin_for_systemaccounts")
			c.Severity = report.Warn
			c.Detail = "system accounts that hold an SSH key keep their shell (someone logs in with it); give them a uid from UID_MIN up, or remove the key"
			checks = append(checks, c)
		}
	}
	checks = append(checks, rootPathCheck(env))
	return checks, nil
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// groupMembers lists the group's members: its member list and the accounts
// whose primary group it is.
func groupMembers(env *Env, name string) []string {
	gdata, _ := env.Root.ReadFile("/etc/group")
	g, ok := distro.LookupGroup(string(gdata), name)
	if !ok {
		return []string{"(group missing)"}
	}
	out := slices.Clone(g.Members)
	pdata, _ := env.Root.ReadFile("/etc/passwd")
	for _, e := range distro.ParsePasswd(string(pdata)) {
		if e.GID == g.GID && !slices.Contains(out, e.Name) {
			out = append(out, e.Name)
		}
	}
	return out
}

// rootPathCheck judges root's PATH as the image gives it (login.defs'
// ENV_SUPATH, which su and login set): absolute, existing directories, no
// empty or "." entry. SSG's root_path_* rules read the PATH of the process
// running the scanner instead (a deviation, see Deviations).
func rootPathCheck(env *Env) report.Check {
	defs, _ := env.Root.ReadFile(loginDefs)
	supath := strings.TrimPrefix(firstMatch(string(defs), `(?m)^ENV_SUPATH\s+PATH=\S+`), "ENV_SUPATH")
	supath = strings.TrimPrefix(strings.TrimSpace(supath), "PATH=")
	var bad []string
	for _, d := range strings.Split(supath, ":") {
		if !strings.HasPrefix(d, "/") {
			bad = append(bad, fmt.Sprintf("%q", d))
		} else if fi, err := env.Root.Stat(d); err != nil || !fi.IsDir() {
			bad = append(bad, d+" (no directory)")
		}
	}
	c := check("accounts.root_path", "absolute existing directories", "absolute existing directories")
	if supath == "" {
		c.Got, c.OK, c.Severity = "no ENV_SUPATH in login.defs", false, report.Warn
	} else if len(bad) > 0 {
		c.Got, c.OK = strings.Join(bad, " "), false
	}
	c.Detail = "root's PATH from login.defs ENV_SUPATH: " + supath
	return c
}

func firstMatch(text, re string) string { return regexp.MustCompile(re).FindString(text) }

func lastMatch(text, re string) string {
	all := regexp.MustCompile(re).FindAllString(text, -1)
	if len(all) == 0 {
		return ""
	}
	return strings.TrimSpace(all[len(all)-1])
}

// Deviations implements Deviator: the CIS rules this step leaves unmet on
// purpose, by the profile or because the scanner cannot see the image.
func (Accounts) Deviations(env *Env) []report.Deviation {
	p := env.Profile.Accounts
	var out []report.Deviation
	if !env.Live() {
		out = append(out, report.Deviation{OfflineOnly: true,
			Refs: []string{"ssg:root_path_all_dirs", "ssg:root_path_no_dot"},
			Reason: "these rules judge the PATH of the process running the scanner (OVAL environmentvariable58 without a pid), not root's PATH in the image. " +
				"Offline (oscap-chroot) the probe reads that environment through the image's /proc: unmounted, it finds no PATH and both fail; " +
				"with /proc mounted it judges the scanning shell's PATH (measured on a baked Debian 12 root: a plain root PATH passes both, the build host's PATH fails root_path_all_dirs). " +
				"The image's root PATH (login.defs ENV_SUPATH) is checked by accounts.root_path",
		})
	}
	dev := func(reason string, rules ...string) {
		d := report.Deviation{Reason: reason}
		for _, r := range rules {
			d.Refs = append(d.Refs, "ssg:"+r)
		}
		out = append(out, d)
	}
	switch {
	case p.SuGroup == "":
		dev("accounts.su_group is empty: su is left as the distribution ships it", "use_pam_wheel_group_for_su", "ensure_pam_wheel_group_empty")
	case p.SuGroup == env.Distro.AdminGroup || len(groupMembers(env, p.SuGroup)) > 0 && groupExists(env, p.SuGroup):
		dev("accounts.su_group "+p.SuGroup+" has members (admins may use su); CIS wants su's group empty", "ensure_pam_wheel_group_empty")
	}
	if p.ShellTimeout == 0 || p.ShellTimeout > 900 {
		dev("accounts.shell_timeout is off or above CIS's 900 seconds", "accounts_tmout")
	}
	if !p.SystemAccountsNologin {
		dev("accounts.system_accounts_nologin is false: system accounts keep their shells", "no_shelllogin_for_systemaccounts")
	}
	if p.PasswordMaxDays > 365 {
		dev("accounts.password_max_days is above CIS's 365", "accounts_maximum_age_login_defs")
	}
	if p.InactiveDays > 45 {
		dev("accounts.inactive_days is above CIS's 45", "account_disable_post_pw_expiration")
	}
	if p.FaillockDeny > 4 {
		dev("accounts.faillock_deny is above SSG's CIS value 4", "accounts_passwords_pam_faillock_deny")
	}
	if p.PasswordHistory < 24 {
		dev("accounts.password_history is below CIS's 24", "accounts_password_pam_pwhistory_remember")
	}
	if p.PasswordMinLength < 14 {
		dev("accounts.password_min_length is below CIS's 14", "accounts_password_pam_minlen")
	}
	if p.PasswordHash != "yescrypt" {
		dev("accounts.password_hash is not yescrypt, which SSG's CIS profile wants", "set_password_hashing_algorithm_logindefs")
	}
	if p.Umask != "027" && p.Umask != "0027" {
		dev("accounts.umask is not CIS's 027", "accounts_umask_etc_login_defs", "accounts_umask_etc_profile", "accounts_umask_etc_bashrc")
	}
	if p.SudoLogfile == "" || p.SudoLogfile != "/var/log/sudo.log" {
		dev("accounts.sudo_logfile is not SSG's /var/log/sudo.log", "sudo_custom_logfile")
	}
	if p.SudoTimestampTimeout > 15 {
		dev("accounts.sudo_timestamp_timeout is above CIS's 15 minutes", "sudo_require_reauthentication")
	}
	return out
}
