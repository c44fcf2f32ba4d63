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
// the primary group of the build user (seal.remove_user) while that account
// exists: Packer logs in as that user for the whole build, and may open a
// new connection after the ssh step ran. Once seal has removed the user, the
// next run of the step (first boot re-applies it) leaves its group out.
type loginGroups struct {
	Groups []string // in the order written; nil: no AllowGroups line
	// BuildUser is seal.remove_user; BuildGroup its primary group while
	// the account exists.
	BuildUser, BuildGroup string
	Why                   string // why there is no list, for the check
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
		if acct, ok := passwdEntry(env, g.BuildUser); ok {
			group, _ := env.Root.ReadFile("/etc/group")
			for _, e := range distro.ParseGroup(string(group)) {
				if e.GID == acct.GID {
					g.BuildGroup = e.Name
					break
				}
			}
			add(g.BuildGroup)
		}
	}
	return g
}

// directive is the AllowGroups line; "" when there is no list.
func (g loginGroups) directive() string {
	if len(g.Groups) == 0 {
		return ""
	}
	return "AllowGroups " + strings.Join(g.Groups, " ")
}

// check compares sshd's AllowGroups values with the list. One extra name
// is accepted: the removed build user's own group, left in the files by a
// bake that ran while the user existed (seal removes it at first boot,
// possibly after first boot re-applied this step). It admits nobody: userdel
// removed that group too.
func (g loginGroups) check(got []string, source string) report.Check {
	if len(g.Groups) == 0 {
		c := check("ssh.allowgroups", "not managed", "not managed")
		c.Detail = g.Why
		return c
	}
	var extra []string
	for _, name := range got {
		if !slices.Contains(g.Groups, name) && !slices.Contains(extra, name) {
			extra = append(extra, name)
		}
	}
	have := strings.Join(got, " ")
	if len(got) == 0 {
		have = "none (everyone may log in)"
	}
	c := check("ssh.allowgroups", strings.Join(g.Groups, " "), have)
	c.OK = len(extra) == 0 || (len(extra) == 1 && g.BuildUser != "" && extra[0] == g.BuildUser && g.BuildGroup == "")
	for _, name := range g.Groups {
		c.OK = c.OK && slices.Contains(got, name)
	}
	c.Detail = source
	if g.BuildGroup != "" {
		c.Detail += "; " + g.BuildGroup + " is the build user " + g.BuildUser + "'s group (seal.remove_user) until it is removed"
	}
	c.Refs = sshRefs["allowgroups"]
	return c
}
