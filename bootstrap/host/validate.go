package host

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/internal/names"
)

// validator collects semantic problems; lines maps field paths to lines.
type validator struct {
	lines    map[string]int
	problems []Problem
	prefix   string
}

func (v *validator) path(p string) string {
	if v.prefix == "" {
		return p
	}
	return v.prefix + "." + p
}

func (v *validator) add(field, format string, args ...any) {
	p := v.path(field)
	for _, old := range v.problems {
		if old.Path == p {
			return // already reported while decoding
		}
	}
	line := v.lines[p]
	if line == 0 {
		// A missing field: point at its section.
		if i := strings.LastIndexByte(p, '.'); i > 0 {
			line = v.lines[p[:i]]
		}
	}
	v.problems = append(v.problems, Problem{Path: p, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) given(field string) bool {
	_, ok := v.lines[v.path(field)]
	return ok
}

// hostNameMax is the kernel's HOST_NAME_MAX.
const hostNameMax = 64

func (v *validator) host(h *Host, t *Target) {
	var facts *targetFacts
	if t != nil {
		var err error
		if facts, err = t.facts(); err != nil {
			v.add("user", "cannot read the target's accounts: %v", err)
			return
		}
	}
	userGiven := v.given("user") && (h.User.Name != "" || h.User.Sudo != "" || len(h.User.AuthorizedKeys) > 0 || h.User.Shell != "" || len(h.User.Groups) > 0)
	if !userGiven && h.SSH == (SSH{}) && h.Hostname == "" && !v.given("ssh.port") {
		if len(v.problems) == 0 {
			v.add("user", "host data holds no user, ssh or hostname: nothing to do")
		}
		return
	}
	if userGiven {
		v.user(h, t, facts)
	}
	if h.SSH.AddressFamily != "" && !slices.Contains(profile.AddressFamilies, h.SSH.AddressFamily) {
		v.add("ssh.address_family", "%q is not one of %s", h.SSH.AddressFamily, strings.Join(profile.AddressFamilies, ", "))
	}
	if v.given("ssh.port") && (h.SSH.Port < 1 || h.SSH.Port > 65535) {
		v.add("ssh.port", "%d is out of range 1-65535 (leave the key out to keep the image's ports)", h.SSH.Port)
	}
	if h.Hostname != "" || v.given("hostname") {
		v.hostname(h.Hostname)
	}
}

func (v *validator) hostname(name string) {
	if name == "" {
		v.add("hostname", "is empty (leave the key out to keep the image's)")
		return
	}
	if len(name) > hostNameMax {
		v.add("hostname", "%q is %d characters; the kernel keeps at most %d", name, len(name), hostNameMax)
		return
	}
	for _, label := range strings.Split(name, ".") {
		if !names.HostLabel(label) {
			v.add("hostname", "%q is not a host name: dot-separated labels of letters, digits and inner hyphens (RFC 1123)", name)
			return
		}
	}
}

func (v *validator) user(h *Host, t *Target, facts *targetFacts) {
	u := &h.User
	rule := distro.Info{Family: distro.Debian}.UserNameRule() // the strictest: valid everywhere
	where := "every supported distribution"
	if t != nil {
		rule = t.Distro.UserNameRule()
		where = string(t.Distro.Family)
	}
	switch {
	case u.Name == "":
		v.add("user.name", "is required when a user is given")
	case u.Name == "root":
		v.add("user.name", `"root" is refused: hardbake creates an unprivileged admin who uses sudo`)
	case len(u.Name) > rule.MaxLen:
		v.add("user.name", "%q is %d characters; at most %d", u.Name, len(u.Name), rule.MaxLen)
	case !rule.Match(u.Name):
		v.add("user.name", "%q is not a valid user name on %s: it must match %s (%s)", u.Name, where, rule.Pattern, rule.Tool)
	case facts != nil:
		if uid, ok := facts.users[u.Name]; ok && !facts.uids.Regular(uid) {
			v.add("user.name", "%q is an existing system account (uid %d; regular accounts have uids %d-%d)", u.Name, uid, facts.uids.Min, facts.uids.Max)
		} else if _, isGroup := facts.groups[u.Name]; isGroup && !ok {
			v.add("user.name", "%q is already a group of the image; useradd would refuse to create its user group", u.Name)
		}
	}

	if u.Shell == "" {
		u.Shell = DefaultShell
	}
	switch {
	case !strings.HasPrefix(u.Shell, "/") || strings.ContainsAny(u.Shell, " \t\n\r\x00:"):
		v.add("user.shell", "%q is not an absolute path to a shell", u.Shell)
	case facts != nil && !slices.Contains(facts.shells, u.Shell):
		v.add("user.shell", "%q is not listed in the image's /etc/shells (%s)", u.Shell, strings.Join(facts.shells, ", "))
	}

	for i, g := range u.Groups {
		field := fmt.Sprintf("user.groups[%d]", i)
		switch {
		case !names.Shadow(g) || len(g) > 32:
			v.add(field, "%q is not a group name", g)
		case slices.Index(u.Groups, g) < i:
			v.add(field, "%q is listed twice", g)
		case facts != nil:
			if _, ok := facts.groups[g]; !ok {
				v.add(field, "group %q does not exist in the image", g)
			}
		}
	}

	switch {
	case u.Sudo == "":
		v.add("user.sudo", "is required: %s", strings.Join(SudoModes, " or "))
	case !slices.Contains(SudoModes, u.Sudo):
		v.add("user.sudo", "%q is not one of %s", u.Sudo, strings.Join(SudoModes, ", "))
	case facts != nil && !facts.sudo:
		v.add("user.sudo", "sudo is not installed in the image (no /etc/sudoers); install the sudo package at bake time")
	case facts != nil:
		if _, ok := facts.groups[t.Distro.AdminGroup]; !ok {
			v.add("user.sudo", "the admin group %q does not exist in the image", t.Distro.AdminGroup)
		}
	}

	if len(u.AuthorizedKeys) == 0 {
		v.add("user.authorized_keys", "at least one key is required: SSH accepts keys only")
	}
	seen := map[string]int{}
	for i, s := range u.AuthorizedKeys {
		field := fmt.Sprintf("user.authorized_keys[%d]", i)
		k, err := ParseKey(s)
		if err != nil {
			v.add(field, "%v", err)
			continue
		}
		if j, dup := seen[k.Fingerprint]; dup {
			v.add(field, "%s is the same key as user.authorized_keys[%d]", k.Fingerprint, j)
			continue
		}
		seen[k.Fingerprint] = i
		h.Keys = append(h.Keys, k)
	}
}
