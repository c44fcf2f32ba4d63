package profile

import (
	"strings"
	"testing"
)

// TestBadAccountsValues: each mistake in the accounts section is reported
// with its field path and line, and what is allowed.
func TestBadAccountsValues(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"accounts:\n  umask: \"22\"\n", `accounts.umask (line 2): "22" is not a umask (three octal digits, e.g. "027")`},
		{"accounts:\n  umask: \"028\"\n", `accounts.umask (line 2): "028" is not a umask`},
		{"accounts:\n  shell_timeout: -1\n", "accounts.shell_timeout (line 2): -1 is out of range 0-86400"},
		{"accounts:\n  password_max_days: 0\n", "accounts.password_max_days (line 2): 0 is out of range 1-99999"},
		{"accounts:\n  password_max_days: 30\n  password_min_days: 31\n", "accounts.password_min_days (line 3): 31 is more than password_max_days (30)"},
		{"accounts:\n  password_hash: md5\n", `accounts.password_hash (line 2): "md5" is not one of yescrypt, sha512`},
		{"accounts:\n  password_min_length: 6\n", "accounts.password_min_length (line 2): 6 is out of range 8-128"},
		{"accounts:\n  faillock_deny: 0\n", "accounts.faillock_deny (line 2): 0 is out of range 1-100"},
		{"accounts:\n  su_group: \"Admins!\"\n", `accounts.su_group (line 2): "Admins!" is not a group name`},
		{"accounts:\n  su_group: root\n", `accounts.su_group (line 2): "root" is not allowed`},
		{"accounts:\n  sudo_logfile: relative.log\n", `accounts.sudo_logfile (line 2): "relative.log" is not an absolute path`},
		{"accounts:\n  sudo_timestamp_timeout: 90\n", "accounts.sudo_timestamp_timeout (line 2): 90 is out of range 0-60"},
		{"accounts:\n  system_accounts_nologin: maybe\n", "accounts.system_accounts_nologin (line 2)"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: want %q in error, got %v", c.yaml, c.want, err)
		}
	}
	// The defaults, an empty su_group and the admin group are accepted.
	for _, ok := range []string{"", "accounts:\n  su_group: \"\"\n", "accounts:\n  su_group: sudo\n  umask: \"0077\"\n"} {
		if _, err := Parse([]byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
