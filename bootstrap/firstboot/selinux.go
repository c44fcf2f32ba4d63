package firstboot

import (
	"context"
	"path"

	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/steps"
)

// relabelSSHDir gives ~/.ssh the SELinux contexts the policy wants
// (ssh_home_t): files written by hardbake get the context of whatever
// created them, and sshd under an enforcing policy then refuses to read
// authorized_keys — key login fails with nothing in sshd's own log. Without
// SELinux in the root it does nothing.
func relabelSSHDir(ctx context.Context, env *steps.Env, a *account) ([]report.Change, error) {
	if !steps.SELinuxPresent(env.Root) {
		return nil, nil
	}
	c := runner.Cmd{Name: "restorecon", Args: []string{"-R", path.Join(a.Home, ".ssh")}}
	if _, err := env.Run.Run(ctx, c); err != nil {
		return nil, err
	}
	return []report.Change{{Kind: "run", Command: c.String(), Summary: "SELinux contexts of " + a.Name + "'s ~/.ssh"}}, nil
}
