package steps

import (
	"fmt"
	"path"
	"strings"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
	"golang.org/x/crypto/ssh"
)

// Account is a login-capable account from /etc/passwd.
type Account struct {
	Name, Home, Shell string
	UID               int
}

// loginAccounts lists accounts whose shell allows a login, in /etc/passwd's
// order. An account listed twice is its first entry (getpwnam(3), which sshd
// uses); NIS compat lines are no local account.
func loginAccounts(passwd string) []Account {
	var out []Account
	for _, f := range distro.ColonEntries(passwd, 7) {
		if distro.NISCompat(f[0]) {
			continue
		}
		shell := f[6]
		if shell == "" || strings.HasSuffix(shell, "/nologin") || strings.HasSuffix(shell, "/false") || strings.HasSuffix(shell, "/sync") {
			continue
		}
		var uid int
		fmt.Sscanf(f[2], "%d", &uid)
		out = append(out, Account{Name: f[0], UID: uid, Home: f[5], Shell: shell})
	}
	return out
}

// authorizedKeysPaths expands AuthorizedKeysFile tokens (%h, %u, %U, %%) the
// way sshd does; relative paths are relative to the home directory.
func authorizedKeysPaths(patterns []string, a Account) []string {
	var out []string
	for _, p := range patterns {
		r := strings.NewReplacer("%%", "%", "%h", a.Home, "%u", a.Name, "%U", fmt.Sprint(a.UID))
		p = r.Replace(p)
		if !strings.HasPrefix(p, "/") {
			p = path.Join(a.Home, p)
		}
		out = append(out, p)
	}
	return out
}

// countUsableKeys counts authorized keys that parse (golang.org/x/crypto/ssh).
func countUsableKeys(data []byte) int {
	n := 0
	for len(data) > 0 {
		_, _, _, rest, err := ssh.ParseAuthorizedKey(data)
		if err != nil {
			break
		}
		n++
		data = rest
	}
	return n
}

// lockoutGuard refuses to turn password login off on a live system when no
// account that may log in has a usable authorized key: that would leave the
// admin with only the console. sshd's AuthorizedKeysCommand (cloud IAM, LDAP)
// cannot be judged offline and counts as a way in.
func lockoutGuard(env *Env) error {
	eff, err := sshdconfig.Load(env.Root, SSHDConfig)
	if err != nil {
		return err
	}
	if v, ok := eff.Get("passwordauthentication"); ok && len(v.Args) > 0 && strings.EqualFold(v.Args[0], "no") {
		return nil // passwords are already off: nothing new to lose
	}
	if v, ok := eff.Get("authorizedkeyscommand"); ok && len(v.Args) > 0 && !strings.EqualFold(v.Args[0], "none") {
		return nil
	}
	patterns := []string{".ssh/authorized_keys", ".ssh/authorized_keys2"}
	if v, ok := eff.Get("authorizedkeysfile"); ok && len(v.Args) > 0 {
		patterns = v.Args
	}
	passwd, err := env.Root.ReadFile("/etc/passwd")
	if err != nil {
		return err
	}
	for _, a := range loginAccounts(string(passwd)) {
		if a.UID == 0 && env.Profile.SSH.PermitRootLogin == "no" {
			continue
		}
		for _, p := range authorizedKeysPaths(patterns, a) {
			data, err := env.Root.ReadFile(p)
			if err != nil {
				continue
			}
			if countUsableKeys(data) > 0 {
				env.logf("  lockout guard: %s has a usable key in %s", a.Name, p)
				return nil
			}
		}
	}
	return fmt.Errorf("%w: turning SSH password login off would leave no way in: no account that may log in "+
		"(root excluded by permit_root_login: no) has a usable key in its authorized_keys. Add a key for an admin user "+
		"first (ssh-copy-id), or rerun with --force if you have console access", bootstrap.ErrLockout)
}
