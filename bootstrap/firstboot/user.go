package firstboot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/host"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/steps"
)

// account is a user as /etc/passwd has it.
type account struct {
	Name, Home, Shell string
	UID, GID          int
}

// lookupAccount is name's entry in the root's /etc/passwd as getpwnam(3)
// finds it, or nil.
func lookupAccount(r *root.Root, name string) (*account, error) {
	passwd, err := r.ReadFile("/etc/passwd")
	if err != nil {
		return nil, err
	}
	e, ok := distro.LookupUser(string(passwd), name)
	if !ok {
		return nil, nil
	}
	return &account{Name: e.Name, UID: e.UID, GID: e.GID, Home: e.Home, Shell: e.Shell}, nil
}

// groupsOf returns the groups whose member list names user, in /etc/group's
// order (the first entry of a group name counts, as getgrnam(3) sees it).
func groupsOf(r *root.Root, user string) []string {
	data, _ := r.ReadFile("/etc/group")
	var out []string
	for _, g := range distro.ParseGroup(string(data)) {
		if slices.Contains(g.Members, user) {
			out = append(out, g.Name)
		}
	}
	return out
}

// ensureUser creates the user with the distribution's useradd (its user
// group, home from /etc/skel, the shell, the admin group and extra groups),
// or, when a previous boot created it already, adds what is missing.
func ensureUser(ctx context.Context, env *steps.Env, u host.User) ([]report.Change, *account, error) {
	groups := append([]string{env.Distro.AdminGroup}, u.Groups...)
	groups = slices.Compact(groups)
	acct, err := lookupAccount(env.Root, u.Name)
	if err != nil {
		return nil, nil, err
	}
	var changes []report.Change
	do := func(summary string, c runner.Cmd) error {
		if _, err := env.Run.Run(ctx, c); err != nil {
			return err
		}
		changes = append(changes, report.Change{Kind: "run", Command: c.String(), Summary: summary})
		return nil
	}
	if acct == nil {
		c := runner.Cmd{Name: "useradd", Args: []string{"-m", "-U", "-s", u.Shell, "-G", strings.Join(groups, ","), "--", u.Name}}
		if err := do("create the admin user "+u.Name, c); err != nil {
			return changes, nil, err
		}
		if acct, err = lookupAccount(env.Root, u.Name); err != nil || acct == nil {
			return changes, nil, fmt.Errorf("useradd did not create %s: %v", u.Name, err)
		}
		more, err := afterAccountChange(ctx, env)
		return append(changes, more...), acct, err
	}
	if acct.Shell != u.Shell {
		if err := do("login shell "+u.Shell, runner.Cmd{Name: "usermod", Args: []string{"-s", u.Shell, "--", u.Name}}); err != nil {
			return changes, acct, err
		}
	}
	have := groupsOf(env.Root, u.Name)
	var need []string
	for _, g := range groups {
		if !slices.Contains(have, g) {
			need = append(need, g)
		}
	}
	if len(need) > 0 {
		if err := do("add "+u.Name+" to "+strings.Join(need, ", "), runner.Cmd{Name: "usermod", Args: []string{"-a", "-G", strings.Join(need, ","), "--", u.Name}}); err != nil {
			return changes, acct, err
		}
	}
	if !env.Root.Exists(acct.Home) {
		// useradd was cut off before it made the home directory.
		if err := env.Root.MkdirAll(acct.Home, 0o700, root.Owner{UID: acct.UID, GID: acct.GID}); err != nil {
			return changes, acct, err
		}
		changes = append(changes, report.Change{Kind: "write", Path: acct.Home, Summary: "home directory"})
	}
	if len(changes) == 0 {
		return nil, acct, nil
	}
	more, err := afterAccountChange(ctx, env)
	return append(changes, more...), acct, err
}

// afterAccountChange undoes what useradd and usermod do beyond the account:
// login.defs' password ageing on a user without a password, and the live
// files' modes on the backups /etc/shadow- and friends.
func afterAccountChange(ctx context.Context, env *steps.Env) ([]report.Change, error) {
	changes, err := exemptFromAgeing(ctx, env)
	if err != nil {
		return changes, err
	}
	more, err := steps.KeepAccountBackups(ctx, env)
	return append(changes, more...), err
}

// exemptFromAgeing runs the accounts step's ageing exemption, when the image
// has it, right after the user exists: useradd gives the new key-only user
// login.defs' ageing, which would demand a password it does not have once it
// expired. Under systemd a path unit runs the same script on every change of
// /etc/shadow; SysV and OpenRC have no such watcher, so first boot runs it.
func exemptFromAgeing(ctx context.Context, env *steps.Env) ([]report.Change, error) {
	if !env.Root.Exists(steps.AgeingScript) {
		return nil, nil
	}
	c := runner.Cmd{Name: steps.AgeingScript}
	res, err := env.Run.Run(ctx, c)
	if err != nil {
		return nil, err
	}
	out := strings.TrimSpace(string(res.Stdout))
	if out == "" {
		return nil, nil
	}
	return []report.Change{{Kind: "run", Command: c.String(), Summary: out}}, nil
}
