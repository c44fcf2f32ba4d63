package firstboot

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/host"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/steps"
)

// sudoers.d files hardbake writes. Their names hold no dot: sudo skips files
// in an includedir whose name contains "." or ends in "~".
func userSudoers(name string) string { return "/etc/sudoers.d/90-hardbake-" + name }

const adminSudoers = "/etc/sudoers.d/10-hardbake-admin-group"

// ensureSudo gives the user sudo: with "nopasswd" through its own drop-in,
// with "password" through the admin group's rule (Debian's %sudo
// ALL=(ALL:ALL) ALL), which is added when the image lacks it. Every new
// sudoers file is checked with visudo before it stays.
func ensureSudo(ctx context.Context, env *steps.Env, u host.User) ([]report.Change, error) {
	var actions []steps.Action
	add := func(a *steps.Action, err error) error {
		if a != nil {
			a.Mode = 0o440
			actions = append(actions, *a)
		}
		return err
	}
	switch u.Sudo {
	case host.SudoNoPasswd:
		text := fmt.Sprintf("# Written by hardbake firstboot (host data user.sudo: nopasswd).\n%s ALL=(ALL:ALL) NOPASSWD: ALL\n", u.Name)
		if err := add(steps.WriteFile(env.Root, userSudoers(u.Name), []byte(text), 0o440, "sudo without password for "+u.Name)); err != nil {
			return nil, err
		}
	default:
		if err := add(steps.RemoveFile(env.Root, userSudoers(u.Name), "sudo asks "+u.Name+" for a password")); err != nil {
			return nil, err
		}
		if !adminRuleExists(env.Root, env.Distro.AdminGroup) {
			text := fmt.Sprintf("# Written by hardbake firstboot: members of %[1]s may use sudo with their password.\n%%%[1]s ALL=(ALL:ALL) ALL\n", env.Distro.AdminGroup)
			if err := add(steps.WriteFile(env.Root, adminSudoers, []byte(text), 0o440, "sudo rule for the admin group "+env.Distro.AdminGroup)); err != nil {
				return nil, err
			}
		}
	}
	if len(actions) == 0 {
		return nil, nil
	}
	if err := env.Root.MkdirAll("/etc/sudoers.d", 0o750, root.RootOwner); err != nil {
		return nil, err
	}
	// One `visudo -c` checks sudoers with every drop-in it includes, ours
	// too, and their owners and modes. Only when it refuses does each new
	// file get its own `visudo -c -f`, whose message names the file.
	check := runner.Cmd{Name: "visudo", Args: []string{"-c", "-q"}}
	actions = append(actions, steps.Action{
		Kind: "validate", Summary: "visudo -c accepts the sudoers files", Cmd: check,
		Validate: func(ctx context.Context) error {
			_, err := env.Run.Run(ctx, check)
			if err == nil {
				return nil
			}
			for _, a := range actions {
				if a.Kind == "write" {
					if _, ferr := env.Run.Run(ctx, runner.Cmd{Name: "visudo", Args: []string{"-c", "-q", "-f", a.Path}}); ferr != nil {
						return ferr
					}
				}
			}
			return err
		},
	})
	return steps.Execute(ctx, env, actions)
}

// adminRuleExists looks for an active "%group ALL=..." rule in sudoers and
// its drop-ins.
func adminRuleExists(r *root.Root, group string) bool {
	rule := regexp.MustCompile(`^\s*%` + regexp.QuoteMeta(group) + `\s+ALL\s*=`)
	files, _ := r.Glob("/etc/sudoers.d/*")
	for _, f := range append([]string{"/etc/sudoers"}, files...) {
		data, _ := r.ReadFile(f)
		for _, l := range strings.Split(string(data), "\n") {
			if rule.MatchString(l) {
				return true
			}
		}
	}
	return false
}
