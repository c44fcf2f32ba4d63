package steps

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/profile"
)

// The accounts step's files as pure text transforms: each takes the file as
// it is and returns it as it should be, keeping the distribution's comments
// and order, so a second bake changes nothing.

// setting is one key of a key/value file and the value it must have.
type setting struct{ Key, Value string }

// setSettings sets each key of a key/value file to its value: login.defs(5)
// ("KEY<tab>VALUE", sep "\t"), /etc/default/useradd ("KEY=VALUE", sep "="),
// pwquality.conf and faillock.conf ("key = value", sep " = "): every active line of
// the key gets the value (shadow's getdef keeps the last one, so a second
// line may not contradict the first), keeping the line's own spacing; a key
// with no active line is added after its commented example ("#KEY ...")
// when there is one, else at the end. A bare key (Value "" with sep " ",
// pwquality's enforce_for_root) is a line of its own.
func setSettings(text, sep string, want []setting) string {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > 0 && !strings.HasSuffix(lines[len(lines)-1], "\n") {
		lines[len(lines)-1] += "\n"
	}
	for _, s := range want {
		key := regexp.QuoteMeta(s.Key)
		active := regexp.MustCompile(`^([ \t]*)` + key + `(?:([ \t]*=[ \t]*|[ \t]+)([^\n#]*?))?([ \t]*(?:#[^\n]*)?)\n$`)
		example := regexp.MustCompile(`^[ \t]*#[ \t]*` + key + `(?:[ \t]*=|[ \t]|\n)`)
		found, exampleAt := false, -1
		for i, l := range lines {
			m := active.FindStringSubmatch(l)
			switch {
			case m == nil:
				if exampleAt < 0 && example.MatchString(l) {
					exampleAt = i
				}
			case s.Value == "":
				found = true
				lines[i] = m[1] + s.Key + m[4] + "\n"
			default:
				found = true
				between := m[2]
				if between == "" {
					between = sep
				}
				lines[i] = m[1] + s.Key + between + s.Value + m[4] + "\n"
			}
		}
		if found {
			continue
		}
		add := s.Key + sep + s.Value + "\n"
		if s.Value == "" {
			add = s.Key + "\n"
		}
		if exampleAt >= 0 {
			lines = append(lines[:exampleAt+1], append([]string{add}, lines[exampleAt+1:]...)...)
		} else {
			lines = append(lines, add)
		}
	}
	return strings.Join(lines, "")
}

// loginDefsSettings are login.defs' keys from the profile: umask, ageing
// and hash of new passwords.
func loginDefsSettings(p profile.Accounts) []setting {
	return []setting{
		{"UMASK", p.UmaskValue()},
		{"PASS_MAX_DAYS", fmt.Sprint(p.PasswordMaxDays)},
		{"PASS_MIN_DAYS", fmt.Sprint(p.PasswordMinDays)},
		{"PASS_WARN_AGE", fmt.Sprint(p.PasswordWarnDays)},
		{"ENCRYPT_METHOD", strings.ToUpper(p.PasswordHash)},
		// Rounds of SHA-512 hashes: with password_hash sha512, and
		// whenever a tool is asked for SHA-512 (chpasswd -c SHA512).
		// glibc's default is 5000; yescrypt keeps its own cost factor.
		{"SHA_CRYPT_MIN_ROUNDS", "65536"},
		{"SHA_CRYPT_MAX_ROUNDS", "65536"},
	}
}

// useraddSettings are /etc/default/useradd's: days after expiry until an
// account with a password is locked.
func useraddSettings(p profile.Accounts) []setting {
	return []setting{{"INACTIVE", fmt.Sprint(p.InactiveDays)}}
}

// pwqualitySettings are pwquality.conf's: SSG 0.1.82 reads this main file,
// not pwquality.conf.d. Every class required (credit -1 each, minclass 4),
// at most 3 repeated or sequential characters, 2 changed from the old one,
// dictionary check, enforced, for root too.
func pwqualitySettings(p profile.Accounts) []setting {
	return []setting{
		{"minlen", fmt.Sprint(p.PasswordMinLength)},
		{"minclass", "4"},
		{"dcredit", "-1"},
		{"ucredit", "-1"},
		{"lcredit", "-1"},
		{"ocredit", "-1"},
		{"maxrepeat", "3"},
		{"maxsequence", "3"},
		{"difok", "2"},
		{"dictcheck", "1"},
		{"enforcing", "1"},
		{"enforce_for_root", ""},
	}
}

// faillockSettings are faillock.conf's: deny and unlock_time live here, not
// on the PAM lines (SSG wants them in one place only). Root is not locked
// (no even_deny_root): the console stays a way back in.
func faillockSettings(p profile.Accounts) []setting {
	return []setting{
		{"deny", fmt.Sprint(p.FaillockDeny)},
		{"unlock_time", fmt.Sprint(p.FaillockUnlockTime)},
	}
}

// shellProfile is /etc/profile.d's script for login shells: the umask and
// the idle timeout. TMOUT is set read-only and exported only by shells that
// know it (bash, zsh, ksh), with `typeset`, which they all have; dash would
// stop at `typeset` and has no TMOUT anyway. The 2>/dev/null keeps a second
// sourcing of /etc/profile (TMOUT already read-only) quiet.
func shellProfile(p profile.Accounts) string {
	var b strings.Builder
	b.WriteString("# Written by hardbake (accounts step); rewritten on every bake.\n")
	b.WriteString("# Files made by login shells are not readable by other users.\n")
	fmt.Fprintf(&b, "umask %s\n", p.UmaskValue())
	if p.ShellTimeout > 0 {
		fmt.Fprintf(&b, "# Idle interactive shells end after %d seconds; read-only, so a session cannot lift it.\n", p.ShellTimeout)
		b.WriteString("if [ -n \"${BASH_VERSION-}${ZSH_VERSION-}${KSH_VERSION-}\" ]; then\n")
		fmt.Fprintf(&b, "\ttypeset -xr TMOUT=%d 2>/dev/null\n", p.ShellTimeout)
		b.WriteString("fi\n")
	}
	return b.String()
}

const (
	blockBegin = "# BEGIN hardbake accounts: interactive shells not started by login get the umask too\n"
	blockEnd   = "# END hardbake accounts\n"
)

// bashrcBlock puts a managed block setting the umask at the end of bash's
// system-wide rc file: non-login interactive shells (a terminal, `sudo -s`)
// read it, and Debian's copy returns early for non-interactive ones, so
// scripts keep the umask they were given. A re-run replaces the block.
func bashrcBlock(text, umask string) string {
	if i := strings.Index(text, blockBegin); i >= 0 {
		if j := strings.Index(text[i:], blockEnd); j >= 0 {
			text = text[:i] + text[i+j+len(blockEnd):]
		}
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + blockBegin + "umask " + umask + "\n" + blockEnd
}

var (
	wheelActive    = regexp.MustCompile(`(?m)^[ \t]*auth[ \t]+\S+[ \t]+pam_wheel\.so\b[^\n]*\n`)
	wheelCommented = regexp.MustCompile(`(?m)^#[ \t]*auth[ \t]+required[ \t]+pam_wheel\.so(?:[ \t]+use_uid)?[ \t]*\n`)
	rootOK         = regexp.MustCompile(`(?m)^[ \t]*auth[ \t]+sufficient[ \t]+pam_rootok\.so[^\n]*\n`)
	firstAuth      = regexp.MustCompile(`(?m)^[ \t]*(auth[ \t]|@include[ \t]+common-auth|@include[ \t]+system-auth)`)
)

// suWheel restricts su in /etc/pam.d/su to group's members: `use_uid`
// judges the user who runs su, not the target. The line comes after
// pam_rootok (root may still su anywhere) and before the password is asked.
// An active pam_wheel line is replaced, else the shipped commented example
// ("# auth required pam_wheel.so" on Debian, "#auth required pam_wheel.so
// use_uid" on the RHEL family, Fedora and Arch), else the line goes after
// pam_rootok, or before the first auth line.
func suWheel(text, group string) string {
	line := "auth       required   pam_wheel.so use_uid group=" + group + "\n"
	marker := "# hardbake: only members of " + group + " may use su (admins use sudo).\n"
	text = regexp.MustCompile(`(?m)^# hardbake: only members of [^\n]*\n`).ReplaceAllString(text, "")
	if loc := wheelActive.FindStringIndex(text); loc != nil {
		// Keep other pam_wheel lines (trust, deny group=nosu) commented.
		rest := wheelActive.ReplaceAllStringFunc(text[loc[1]:], func(l string) string { return "#" + l })
		return text[:loc[0]] + marker + line + rest
	}
	if loc := wheelCommented.FindStringIndex(text); loc != nil {
		return text[:loc[0]] + marker + line + text[loc[1]:]
	}
	if loc := rootOK.FindStringIndex(text); loc != nil {
		return text[:loc[1]] + marker + line + text[loc[1]:]
	}
	if loc := firstAuth.FindStringIndex(text); loc != nil {
		return text[:loc[0]] + marker + line + text[loc[0]:]
	}
	return text + marker + line
}

// sudoDefaults is the sudoers drop-in: sudo's own log and how long a typed
// password is remembered. It sets no rule, so every NOPASSWD rule (the
// first-boot user's, Packer's build user's) works as before.
func sudoDefaults(p profile.Accounts) string {
	var b strings.Builder
	b.WriteString("# Written by hardbake (accounts step); rewritten on every bake.\n")
	if p.SudoLogfile != "" {
		b.WriteString("# sudo logs every command to a file of its own.\n")
		fmt.Fprintf(&b, "Defaults logfile=\"%s\"\n", p.SudoLogfile)
	}
	b.WriteString("# Minutes a typed sudo password is remembered (NOPASSWD rules ask none).\n")
	fmt.Fprintf(&b, "Defaults timestamp_timeout=%d\n", p.SudoTimestampTimeout)
	return b.String()
}
