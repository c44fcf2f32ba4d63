package steps

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
	"golang.org/x/crypto/ssh"
)

// KeyAuth is what sshd's configuration says about logging in with a key,
// as `sshd -T` prints it or sshdconfig evaluates it offline. The zero
// value is sshd's defaults.
type KeyAuth struct {
	// AuthorizedKeysFile holds the patterns as written (%h, %u, %U, %%;
	// relative ones are relative to the home directory); nil means sshd's
	// default, .ssh/authorized_keys and .ssh/authorized_keys2.
	AuthorizedKeysFile []string
	// AuthorizedKeysCommand is the program sshd asks for keys (cloud IAM,
	// LDAP); "" or "none" when there is none.
	AuthorizedKeysCommand string
	// PermitRootLogin is sshd's value; only "no" keeps accounts with uid 0
	// out (sshd's default, prohibit-password, lets their keys in).
	PermitRootLogin string
	// AllowGroups are sshd's AllowGroups patterns; nil lets every group in.
	AllowGroups []string
}

// KeyAuthOf reads KeyAuth from the global values of an evaluated sshd
// configuration (Match blocks are not applied: they depend on the client).
func KeyAuthOf(eff *sshdconfig.Effective) KeyAuth {
	var k KeyAuth
	if v, ok := eff.Get("authorizedkeysfile"); ok && len(v.Args) > 0 {
		k.AuthorizedKeysFile = v.Args
	}
	if v, ok := eff.Get("authorizedkeyscommand"); ok && len(v.Args) > 0 {
		k.AuthorizedKeysCommand = v.Args[0]
	}
	if v, ok := eff.Get("permitrootlogin"); ok && len(v.Args) > 0 {
		k.PermitRootLogin = v.Args[0]
	}
	// AllowGroups adds up across lines and files.
	for _, v := range eff.Values["allowgroups"] {
		k.AllowGroups = append(k.AllowGroups, v.Args...)
	}
	return k
}

// KeyLogin is one way in with a key, for logs: who, and the file holding
// the key or the AuthorizedKeysCommand (never the key itself).
type KeyLogin struct {
	User string // "" for an AuthorizedKeysCommand, which may admit anyone
	From string
}

func (k KeyLogin) String() string {
	if k.User == "" {
		return k.From
	}
	return k.User + "'s key in " + k.From
}

// FindKeyLogin returns the first way to log in with a key that sshd would
// accept on the root r under k: an AuthorizedKeysCommand (which cannot be
// judged offline, so it counts), or an account of /etc/passwd, in the
// file's order, that
//   - has a shell that gives a session (distro.PasswdEntry.LoginShell),
//   - is not uid 0 while PermitRootLogin is no (sshd checks the uid),
//   - is in a group AllowGroups names, when it names any (its primary group
//     or a group of /etc/group listing it; '*' and '?' patterns match as
//     sshd's do, negated ones never admit),
//   - and has a key file under AuthorizedKeysFile holding at least one key
//     that parses (a file of comments or garbage lets nobody in).
//
// NIS compat lines and malformed entries are no accounts (distro.ParsePasswd).
// Not judged: StrictModes' ownership and permission checks, AllowUsers,
// DenyUsers and DenyGroups, and key types the target's sshd has turned off.
func FindKeyLogin(r *root.Root, k KeyAuth) (KeyLogin, bool, error) {
	if c := k.AuthorizedKeysCommand; c != "" && !strings.EqualFold(c, "none") {
		return KeyLogin{From: "AuthorizedKeysCommand " + c}, true, nil
	}
	passwd, err := r.ReadFile("/etc/passwd")
	if err != nil {
		return KeyLogin{}, false, err
	}
	var groups []distro.GroupEntry
	if k.AllowGroups != nil {
		data, _ := r.ReadFile("/etc/group")
		groups = distro.ParseGroup(string(data))
	}
	for _, a := range distro.ParsePasswd(string(passwd)) {
		if !a.LoginShell() || (a.UID == 0 && strings.EqualFold(k.PermitRootLogin, "no")) {
			continue
		}
		if k.AllowGroups != nil && !inAllowedGroup(a, groups, k.AllowGroups) {
			continue
		}
		for _, p := range k.keyFiles(a) {
			data, err := r.ReadFile(p)
			if err != nil {
				continue
			}
			// ParseAuthorizedKey skips comments and lines it cannot read,
			// and fails only when no line holds a key.
			if _, _, _, _, err := ssh.ParseAuthorizedKey(data); err == nil {
				return KeyLogin{User: a.Name, From: p}, true, nil
			}
		}
	}
	return KeyLogin{}, false, nil
}

// keyFiles expands AuthorizedKeysFile for account a the way sshd's
// expand_authorized_keys does: %h home, %u name, %U uid, %% a '%'; a path
// that is not absolute is relative to the home; "none" is no file.
func (k KeyAuth) keyFiles(a distro.PasswdEntry) []string {
	patterns := k.AuthorizedKeysFile
	if patterns == nil {
		patterns = []string{".ssh/authorized_keys", ".ssh/authorized_keys2"}
	}
	expand := strings.NewReplacer("%%", "%", "%h", a.Home, "%u", a.Name, "%U", strconv.Itoa(a.UID))
	var out []string
	for _, p := range patterns {
		if strings.EqualFold(p, "none") {
			continue
		}
		p = expand.Replace(p)
		if !strings.HasPrefix(p, "/") {
			p = path.Join("/", a.Home, p)
		}
		out = append(out, p)
	}
	return out
}

// inAllowedGroup reports whether account a is in a group the AllowGroups
// patterns admit: its primary group or one whose member list names it.
func inAllowedGroup(a distro.PasswdEntry, groups []distro.GroupEntry, patterns []string) bool {
	for _, g := range groups {
		if g.GID != a.GID && !slices.Contains(g.Members, a.Name) {
			continue
		}
		for _, p := range patterns {
			if ok, _ := path.Match(p, g.Name); ok && !strings.HasPrefix(p, "!") {
				return true
			}
		}
	}
	return false
}
