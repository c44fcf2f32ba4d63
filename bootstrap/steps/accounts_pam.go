package steps

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// PAM is changed only through the distribution's own mechanism, never by
// editing the generated files: pam-auth-update profiles on Debian and
// Ubuntu, authselect features on the RHEL family and Fedora. Arch has
// neither (pambase owns /etc/pam.d/system-auth, which already runs
// pam_faillock): there the step sets faillock.conf and reports pwquality
// and pwhistory as not wired.

const (
	pamConfigs     = "/usr/share/pam-configs"
	pwqualityConf  = "/etc/security/pwquality.conf"
	faillockConf   = "/etc/security/faillock.conf"
	pwhistoryConf  = "/etc/security/pwhistory.conf"
	debianUnixPAM  = pamConfigs + "/unix"
	hardbakeUnix   = "hardbake-unix"
	commonAuth     = "/etc/pam.d/common-auth"
	commonAccount  = "/etc/pam.d/common-account"
	commonPassword = "/etc/pam.d/common-password"
)

// pamAuthUpdate says whether the root configures PAM with pam-auth-update.
func pamAuthUpdate(env *Env) bool {
	return (env.Distro.Family == distro.Debian || env.Distro.Family == distro.Ubuntu) && env.Root.Exists(debianUnixPAM)
}

// authselectFamily says whether the distribution configures PAM with
// authselect.
func authselectFamily(d distro.Info) bool {
	return d.Family == distro.RHEL || d.Family == distro.Fedora
}

// pwqualityPackages are the packages that bring pam_pwquality and its
// pam-auth-update profile.
func pwqualityPackages(d distro.Info) []string {
	switch {
	case d.Family == distro.Debian || d.Family == distro.Ubuntu:
		// cracklib-runtime builds the dictionary pwquality's dictcheck
		// reads: without it every password change fails ("error loading
		// dictionary"), root's too. It is only recommended by libcrack2.
		return []string{"libpam-pwquality", "cracklib-runtime"}
	case authselectFamily(d):
		return []string{"libpwquality"}
	}
	return nil
}

// The pam-auth-update profiles, in the form CIS's Debian benchmark gives.
// Priorities place the lines: faillock's preauth before pam_unix (256) in
// auth, its authfail after it (0); pwhistory after pwquality (1024) and
// before pam_unix in password, so use_authtok takes the password pwquality
// accepted. pam-auth-update jumps from a successful pam_unix past authfail
// and authsucc to pam_permit; a failed one reaches authfail, which counts
// it and ends the stack. The account phase's pam_faillock clears the count
// after a successful login, so the authsucc line (where SSG looks for it)
// changes nothing. SSH key logins run no auth phase: they never count and
// are never locked out; root is never locked (faillock.conf).
func faillockProfile() string {
	return `Name: Lock accounts after repeated failed passwords (pam_faillock, hardbake)
Default: yes
Priority: 1024
Auth-Type: Primary
Auth:
	required	pam_faillock.so preauth
Account-Type: Primary
Account:
	required	pam_faillock.so
`
}

func faillockAuthfailProfile() string {
	return `Name: Count failed passwords (pam_faillock, hardbake)
Default: yes
Priority: 0
Auth-Type: Primary
Auth:
	[default=die]	pam_faillock.so authfail
	sufficient	pam_faillock.so authsucc
`
}

// pwhistoryProfile: without pwquality in front of it (Password-Initial)
// pwhistory asks for the password itself.
func pwhistoryProfile(p profile.Accounts) string {
	return fmt.Sprintf(`Name: Refuse recently used passwords (pam_pwhistory, hardbake)
Default: yes
Priority: 1000
Password-Type: Primary
Password:
	requisite	pam_pwhistory.so remember=%[1]d enforce_for_root use_authtok
Password-Initial:
	requisite	pam_pwhistory.so remember=%[1]d enforce_for_root
`, p.PasswordHistory)
}

var (
	nullokArg    = regexp.MustCompile(`[ \t]+nullok\b`)
	profileName  = regexp.MustCompile(`(?m)^Name:[^\n]*$`)
	profilePrio  = regexp.MustCompile(`(?m)^Priority:[^\n]*\n`)
	conflictsKey = regexp.MustCompile(`(?m)^Conflicts:[^\n]*\n`)
)

// unixWithoutNullok derives hardbake's copy of libpam-runtime's unix
// profile: the same lines without nullok (an empty password is no
// password), a higher priority and Conflicts: unix, so pam-auth-update
// never writes both. This is how SSG's own Debian fix does it; the copy is
// made again from the shipped profile on every bake, so it follows
// libpam-runtime's updates. Key logins and NOPASSWD sudo never ask for a
// password, so nullok matters to neither.
func unixWithoutNullok(unix string) string {
	out := nullokArg.ReplaceAllString(unix, "")
	out = conflictsKey.ReplaceAllString(out, "")
	out = profileName.ReplaceAllString(out, "Name: Unix authentication, empty passwords refused (hardbake)")
	out = profilePrio.ReplaceAllString(out, "Priority: 257\nConflicts: unix\n")
	// pam-auth-update's profile format has no comments: the Name says whose.
	return out
}

// debianPAMProfiles are hardbake's pam-auth-update profiles by name.
func debianPAMProfiles(env *Env) (map[string]string, error) {
	unix, err := env.Root.ReadFile(debianUnixPAM)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"hardbake-faillock":          faillockProfile(),
		"hardbake-faillock-authfail": faillockAuthfailProfile(),
		"hardbake-pwhistory":         pwhistoryProfile(env.Profile.Accounts),
		hardbakeUnix:                 unixWithoutNullok(string(unix)),
	}, nil
}

var debianProfileOrder = []string{"hardbake-faillock", "hardbake-faillock-authfail", "hardbake-pwhistory", hardbakeUnix}

// pamAuthUpdateCmd enables hardbake's profiles and pwquality's, and turns
// the shipped unix profile off (hardbake-unix replaces it). --disable,
// unlike --remove, records unix as seen, so a later `pam-auth-update
// --package` (any libpam-* upgrade) does not enable it again and never
// stops at a conflict note.
func pamAuthUpdateCmd() runner.Cmd {
	c := cmd("pam-auth-update", append(append([]string{"--enable"}, debianProfileOrder...), "pwquality", "--disable", "unix")...)
	c.Env = []string{"DEBIAN_FRONTEND=noninteractive"}
	return c
}

// debianPAMState judges the generated common-* files: what SSG and PAM
// read. Empty when every line is in place.
func debianPAMState(env *Env) []string {
	read := func(p string) string { b, _ := env.Root.ReadFile(p); return stripComments(string(b)) }
	auth, account, password := read(commonAuth), read(commonAccount), read(commonPassword)
	var missing []string
	want := func(ok bool, what string) {
		if !ok {
			missing = append(missing, what)
		}
	}
	want(regexp.MustCompile(`(?m)^auth\s+required\s+pam_faillock\.so\s+preauth`).MatchString(auth), "common-auth: pam_faillock preauth")
	want(regexp.MustCompile(`(?m)^auth\s+\[default=die\]\s+pam_faillock\.so\s+authfail`).MatchString(auth), "common-auth: pam_faillock authfail")
	want(regexp.MustCompile(`(?m)^account\s+required\s+pam_faillock\.so`).MatchString(account), "common-account: pam_faillock")
	want(regexp.MustCompile(`(?m)^password\s+requisite\s+pam_pwquality\.so`).MatchString(password), "common-password: pam_pwquality")
	want(regexp.MustCompile(`(?m)^password\s+requisite\s+pam_pwhistory\.so\s.*remember=`+fmt.Sprint(env.Profile.Accounts.PasswordHistory)+`\b`).MatchString(password), "common-password: pam_pwhistory")
	want(len(regexp.MustCompile(`(?m)^auth\s.*pam_unix\.so`).FindAllString(auth, -1)) == 1, "common-auth: exactly one pam_unix")
	for _, f := range []string{commonAuth, commonAccount, commonPassword, "/etc/pam.d/common-session", "/etc/pam.d/common-session-noninteractive"} {
		want(!nullokArg.MatchString(read(f)), strings.TrimPrefix(f, "/etc/pam.d/")+": no nullok")
	}
	return missing
}

func stripComments(text string) string {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if i := strings.Index(l, "#"); i >= 0 {
			l = l[:i]
		}
		b.WriteString(strings.TrimLeft(l, " \t") + "\n")
	}
	return b.String()
}

// debianPAMActions writes the profiles and runs pam-auth-update when the
// generated files lack a line, then judges what it wrote: pam-auth-update
// exits 0 also when it leaves hand-edited files alone.
func debianPAMActions(env *Env) ([]Action, error) {
	profiles, err := debianPAMProfiles(env)
	if err != nil {
		return nil, err
	}
	var actions []Action
	for _, name := range debianProfileOrder {
		a, err := WriteFile(env.Root, pamConfigs+"/"+name, []byte(profiles[name]), 0o644, "pam-auth-update profile "+name)
		if err != nil {
			return nil, err
		}
		actions = appendAction(actions, a)
	}
	if len(actions) == 0 && len(debianPAMState(env)) == 0 {
		return nil, nil
	}
	c := pamAuthUpdateCmd()
	actions = append(actions,
		Action{Kind: "run", Cmd: c, Summary: "PAM: faillock, pwhistory, pwquality, no nullok (pam-auth-update)"},
		Action{Kind: "validate", Cmd: cmd("cat", commonAuth, commonAccount, commonPassword), Summary: "pam-auth-update wrote the lines",
			Validate: func(context.Context) error {
				if m := debianPAMState(env); len(m) > 0 {
					return fmt.Errorf("after pam-auth-update, missing: %s (hand-edited /etc/pam.d/common-* files are left alone by pam-auth-update: review them, then run pam-auth-update --force)", strings.Join(m, "; "))
				}
				return nil
			}})
	return actions, nil
}

// authselectFeatures are the authselect features the step turns on.
var authselectFeatures = []string{"with-faillock", "with-pwhistory", "without-nullok"}

// authselectActions enables the features authselect's current profile
// lacks. A system not managed by authselect (`authselect current` fails) is
// left alone: selecting a profile would replace whatever configures PAM
// there (sssd, winbind); Check reports it.
func authselectActions(ctx context.Context, env *Env) ([]Action, error) {
	have, ok := authselectCurrent(ctx, env)
	if !ok {
		return nil, nil
	}
	var actions []Action
	for _, f := range authselectFeatures {
		if !have[f] {
			actions = append(actions, Action{Kind: "run", Cmd: cmd("authselect", "enable-feature", f), Summary: "PAM: authselect feature " + f})
		}
	}
	return actions, nil
}

// authselectCurrent is the current profile's features; ok is false when
// authselect manages nothing here (or cannot run).
func authselectCurrent(ctx context.Context, env *Env) (map[string]bool, bool) {
	if !env.CanRun() {
		return nil, false
	}
	res, err := env.Run.Run(ctx, cmd("authselect", "current", "--raw"))
	if err != nil {
		return nil, false
	}
	f := strings.Fields(string(res.Stdout))
	if len(f) == 0 {
		return nil, false
	}
	have := map[string]bool{}
	for _, x := range f[1:] {
		have[x] = true
	}
	return have, true
}
