package host

import (
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/root"
)

// Target is the system host data is applied to. Its own /etc files decide
// which accounts, groups and shells exist: a chroot's are not the host's.
type Target struct {
	Root   *root.Root
	Distro distro.Info
}

type targetFacts struct {
	users  map[string]int // name -> uid
	groups map[string]int // name -> gid
	shells []string
	uids   distro.UIDRange
	sudo   bool
}

func (t *Target) facts() (*targetFacts, error) {
	passwd, err := t.Root.ReadFile("/etc/passwd")
	if err != nil {
		return nil, err
	}
	group, err := t.Root.ReadFile("/etc/group")
	if err != nil {
		return nil, err
	}
	f := &targetFacts{users: map[string]int{}, groups: map[string]int{}}
	for _, u := range distro.ParsePasswd(string(passwd)) {
		f.users[u.Name] = u.UID
	}
	for _, g := range distro.ParseGroup(string(group)) {
		f.groups[g.Name] = g.GID
	}
	shells, _ := t.Root.ReadFile("/etc/shells")
	for _, l := range strings.Split(string(shells), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			f.shells = append(f.shells, l)
		}
	}
	defs, _ := t.Root.ReadFile("/etc/login.defs")
	f.uids = distro.UIDRangeFromLoginDefs(string(defs))
	f.sudo = t.Root.Exists("/etc/sudoers")
	return f, nil
}
