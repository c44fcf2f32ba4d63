package steps

import (
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// loginGroups is who may log in over SSH: sshd's AllowGroups. The
// distribution's admin group is always on the list (the first-boot user and
// cloud-init's default user are in it), then the profile's allow_groups, then
// the build user's own group when seal.remove_user names one: Packer logs in
// as that user for the whole build and may open a new connection after the
// ssh step ran.
//
// The build user's group is listed by the user's name, whether the account
// still exists or seal has removed it (userdel removes the user's own group
// too), so the list is the same before and after the seal: a bake, a second
// bake of the sealed image and first boot all write the same line. Once the
// user is gone the name admits nobody. A build user whose primary group is
// shared (gid 100 "users") is not listed: that would let every member in;
// the lockout guard then asks for allow_groups instead.
type loginGroups struct {
	Groups []string // in the order written; nil: no AllowGroups line
	// BuildUser is seal.remove_user; Shared names its primary group when
	// that is not the user's own (and so not listed).
	BuildUser, Shared string
	Why               string // why there is no list, for the check
}

func loginGroupsOf(env *Env) loginGroups {
	p := env.Profile.SSH
	g := loginGroups{BuildUser: env.Profile.Seal.RemoveUser}
	if !p.LimitGroups {
		g.Why = "ssh.limit_groups is false"
		return g
	}
	if env.Distro.AdminGroup == "" && len(p.AllowGroups) == 0 {
		// No admin group known for this distribution: a list without it
		// would lock the admins out.
		g.Why = "no admin group is known for this distribution and ssh.allow_groups is empty"
		return g
	}
	add := func(name string) {
		if name != "" && !slices.Contains(g.Groups, name) {
			g.Groups = append(g.Groups, name)
		}
	}
	add(env.Distro.AdminGroup)
	for _, name := range p.AllowGroups {
		add(name)
	}
	if g.BuildUser != "" {
		if primary := primaryGroup(env, g.BuildUser); primary == "" || primary == g.BuildUser {
			add(g.BuildUser)
		} else {
			g.Shared = primary
		}
	}
	return g
}

// primaryGroup is the name of user's primary group; "" when the user or
// the group does not exist.
func primaryGroup(env *Env, user string) string {
	acct, ok := passwdEntry(env, user)
	if !ok {
		return ""
	}
	group, _ := env.Root.ReadFile("/etc/group")
	for _, e := range distro.ParseGroup(string(group)) {
		if e.GID == acct.GID {
			return e.Name
		}
	}
	return ""
}

// directive is the AllowGroups line; "" when there is no list.
func (g loginGroups) directive() string {
	if len(g.Groups) == 0 {
		return ""
	}
	return "AllowGroups " + strings.Join(g.Groups, " ")
}

// check compares sshd's AllowGroups values with the list, as sets.
func (g loginGroups) check(got []string, source string) report.Check {
	if len(g.Groups) == 0 {
		c := check("ssh.allowgroups", "not managed", "not managed")
		c.Detail = g.Why
		return c
	}
	have := strings.Join(got, " ")
	if len(got) == 0 {
		have = "none (everyone may log in)"
	}
	c := check("ssh.allowgroups", strings.Join(g.Groups, " "), have)
	c.OK = len(got) > 0
	for _, name := range got {
		c.OK = c.OK && slices.Contains(g.Groups, name)
	}
	for _, name := range g.Groups {
		c.OK = c.OK && slices.Contains(got, name)
	}
	c.Detail = source
	switch {
	case g.Shared != "":
		c.Detail += "; the build user " + g.BuildUser + "'s primary group " + g.Shared + " is shared, so not listed"
	case g.BuildUser != "":
		c.Detail += "; " + g.BuildUser + " is the build user's group (seal.remove_user), which admits nobody once seal removed the user"
	}
	c.Refs = sshRefs["allowgroups"]
	return c
}
