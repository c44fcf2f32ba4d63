package profile

import "regexp"

// Accounts configures the accounts step: password policy for the accounts
// that have a password, PAM lockout and history, su and sudo, the shell's
// umask and idle timeout, and login shells of system accounts.
type Accounts struct {
	// Umask of login shells and of new home directories (login.defs UMASK),
	// three octal digits.
	Umask string `yaml:"umask"`
	// ShellTimeout: seconds an idle interactive shell lives (TMOUT,
	// read-only); 0 writes none.
	ShellTimeout int `yaml:"shell_timeout"`
	// PasswordMaxDays, PasswordMinDays, PasswordWarnDays: login.defs'
	// PASS_MAX_DAYS, PASS_MIN_DAYS, PASS_WARN_AGE for new accounts.
	PasswordMaxDays  int `yaml:"password_max_days"`
	PasswordMinDays  int `yaml:"password_min_days"`
	PasswordWarnDays int `yaml:"password_warn_days"`
	// InactiveDays after a password expired before the account is locked
	// (useradd's INACTIVE).
	InactiveDays int `yaml:"inactive_days"`
	// PasswordHash is login.defs' ENCRYPT_METHOD.
	PasswordHash string `yaml:"password_hash"`
	// PasswordMinLength is pam_pwquality's minlen.
	PasswordMinLength int `yaml:"password_min_length"`
	// PasswordHistory is pam_pwhistory's remember.
	PasswordHistory int `yaml:"password_history"`
	// FaillockDeny failed password attempts lock the account for
	// FaillockUnlockTime seconds (pam_faillock).
	FaillockDeny       int `yaml:"faillock_deny"`
	FaillockUnlockTime int `yaml:"faillock_unlock_time"`
	// SuGroup: only its members may use su (pam_wheel); "" leaves su as
	// the distribution has it.
	SuGroup string `yaml:"su_group"`
	// SudoLogfile is sudo's own log; SudoTimestampTimeout the minutes a
	// sudo password is remembered.
	SudoLogfile          string `yaml:"sudo_logfile"`
	SudoTimestampTimeout int    `yaml:"sudo_timestamp_timeout"`
	// SystemAccountsNologin gives system accounts with a login shell
	// nologin.
	SystemAccountsNologin bool `yaml:"system_accounts_nologin"`
}

// PasswordHashes are the values accounts.password_hash accepts.
var PasswordHashes = []string{"yescrypt", "sha512"}

var (
	umaskText  = regexp.MustCompile(`^0?[0-7]{3}$`)
	groupName  = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	sudoLogPat = regexp.MustCompile(`^/[A-Za-z0-9._/-]+$`)
)

func (v *validator) accounts(c *Accounts) {
	if !umaskText.MatchString(c.Umask) {
		v.add("accounts.umask", "%q is not a umask (three octal digits, e.g. \"027\")", c.Umask)
	}
	v.intRange("accounts.shell_timeout", c.ShellTimeout, 0, 86400)
	v.intRange("accounts.password_max_days", c.PasswordMaxDays, 1, 99999)
	v.intRange("accounts.password_min_days", c.PasswordMinDays, 0, 365)
	if c.PasswordMinDays > c.PasswordMaxDays {
		v.add("accounts.password_min_days", "%d is more than password_max_days (%d)", c.PasswordMinDays, c.PasswordMaxDays)
	}
	v.intRange("accounts.password_warn_days", c.PasswordWarnDays, 0, 365)
	v.intRange("accounts.inactive_days", c.InactiveDays, 0, 99999)
	v.oneOf("accounts.password_hash", c.PasswordHash, PasswordHashes)
	v.intRange("accounts.password_min_length", c.PasswordMinLength, 8, 128)
	v.intRange("accounts.password_history", c.PasswordHistory, 0, 400)
	v.intRange("accounts.faillock_deny", c.FaillockDeny, 1, 100)
	v.intRange("accounts.faillock_unlock_time", c.FaillockUnlockTime, 0, 86400)
	if c.SuGroup != "" && !groupName.MatchString(c.SuGroup) {
		v.add("accounts.su_group", "%q is not a group name (lower-case letters, digits, _ and -, at most 32)", c.SuGroup)
	}
	if c.SuGroup == "root" {
		v.add("accounts.su_group", "%q is not allowed: pam_wheel treats gid 0 specially; name a group of its own (e.g. sugroup), or \"\"", c.SuGroup)
	}
	if c.SudoLogfile != "" && !sudoLogPat.MatchString(c.SudoLogfile) {
		v.add("accounts.sudo_logfile", "%q is not an absolute path of letters, digits, '.', '_', '-' and '/'", c.SudoLogfile)
	}
	v.intRange("accounts.sudo_timestamp_timeout", c.SudoTimestampTimeout, 0, 60)
}

// UmaskValue is the umask as three octal digits ("027").
func (c Accounts) UmaskValue() string {
	if len(c.Umask) == 4 {
		return c.Umask[1:]
	}
	return c.Umask
}
