package firstboot

import (
	"context"
	"slices"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/host"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/steps"
)

func logf(env *steps.Env, format string, args ...any) {
	if env.Log != nil {
		env.Log(format, args...)
	}
}

// withHostSSH is env with a copy of the profile whose ssh address family and
// ports are the host's: the ssh step then writes them like any profile value.
func withHostSSH(env *steps.Env, s host.SSH) *steps.Env {
	p := *env.Profile
	p.SSH.Ports = slices.Clone(p.SSH.Ports)
	if s.AddressFamily != "" {
		p.SSH.AddressFamily = s.AddressFamily
	}
	if s.Port != 0 {
		p.SSH.Ports = []int{s.Port}
	}
	e := *env
	e.Profile = &p
	return &e
}

// registered finds a step in the registry by name: firstboot re-applies the
// firewall and fail2ban only where those steps exist.
func registered(name string) (steps.Step, bool) {
	for _, s := range steps.Registry {
		if s.Name() == name {
			return s, true
		}
	}
	return nil, false
}

// bakedPlan is a step's plan when the step was applied when the image was
// baked: its plan installs nothing. At first boot there may be no network,
// and a step left out of the bake (--skip) must stay out.
func bakedPlan(ctx context.Context, env *steps.Env, s steps.Step) ([]steps.Action, bool) {
	actions, err := s.Plan(ctx, env)
	if err != nil {
		return nil, false
	}
	for _, a := range actions {
		if a.Kind == "run" && distro.IsPackageManager(a.Cmd.Name) {
			return nil, false
		}
	}
	return actions, true
}

// applyBaked re-applies a step the image was baked with (the firewall,
// fail2ban) after the host's sshd port changed; nothing when the step is
// not registered or was left out of the bake.
func applyBaked(ctx context.Context, env *steps.Env, name string) (*report.Step, error) {
	s, ok := registered(name)
	if !ok {
		return nil, nil
	}
	actions, ok := bakedPlan(ctx, env, s)
	if !ok {
		return nil, nil
	}
	return runStep(env, name, func() ([]report.Change, error) { return executeBootSafe(ctx, env, actions) })
}

// applySSH applies the ssh step with the host's address family and port.
// The step's own validation (`sshd -T` of the written files) is the one
// time sshd judges the result; its check reads that answer.
func applySSH(ctx context.Context, env *steps.Env, h *host.Host) (*report.Step, error) {
	if h != nil && (h.SSH.AddressFamily != "" || h.SSH.Port != 0) {
		env = withHostSSH(env, h.SSH)
	}
	st := &report.Step{Name: "ssh"}
	logf(env, "ssh:")
	actions, err := steps.SSH{}.Plan(ctx, env)
	if err == nil {
		st.Changes, err = executeBootSafe(ctx, env, actions)
	}
	if err == nil {
		st.Checks, err = steps.SSH{}.Check(ctx, env)
	}
	if err != nil {
		st.Error = err.Error()
	}
	return st, err
}

// executeBootSafe executes a step's actions with its service commands made
// safe for early boot: firstboot runs before sshd (and, with cloud-init,
// before sysinit.target), so a `systemctl start` or `reload-or-restart` of
// a unit ordered after it would wait for firstboot to finish: a deadlock.
// Commands only act on units that already run, and never wait for a job.
func executeBootSafe(ctx context.Context, env *steps.Env, actions []steps.Action) ([]report.Change, error) {
	if len(actions) == 0 {
		return nil, nil
	}
	var safe []steps.Action
	for _, a := range actions {
		if a.Kind == "run" && a.Cmd.Name == "systemctl" && env.Live() {
			var ok bool
			if a.Cmd, ok = bootSafe(a.Cmd.Args); !ok {
				continue
			}
		}
		safe = append(safe, a)
	}
	return steps.Execute(ctx, env, safe)
}

// bootSafe rewrites systemctl arguments so they never start a unit and never
// block on a job; false drops the command.
func bootSafe(args []string) (cmd runner.Cmd, ok bool) {
	cmd.Name = "systemctl"
	if len(args) == 0 {
		return cmd, false
	}
	verb := map[string]string{
		"reload-or-restart": "try-reload-or-restart", "restart": "try-restart", "reload": "try-reload-or-restart",
		"try-restart": "try-restart", "try-reload-or-restart": "try-reload-or-restart",
	}
	switch v := args[0]; {
	case v == "start":
		return cmd, false
	case verb[v] != "":
		cmd.Args = append([]string{"--no-block", verb[v]}, args[1:]...)
	default: // enable, daemon-reload, is-active...: no jobs
		cmd.Args = slices.Clone(args)
	}
	return cmd, true
}

// anyAuthorizedKey reports whether someone can log in with a key: the
// bake's lockout guard and first boot ask the same rule of the same image
// (steps.BakedKeyLogin). An unreadable sshd configuration or /etc/passwd
// counts as no way in, so the warning is shown.
func anyAuthorizedKey(env *steps.Env) bool {
	_, ok, err := steps.BakedKeyLogin(env)
	return ok && err == nil
}
