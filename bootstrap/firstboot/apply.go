package firstboot

import (
	"context"
	"slices"
	"strings"

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
		if a.Kind == "run" && slices.Contains([]string{"apt-get", "dnf", "pacman"}, a.Cmd.Name) {
			return nil, false
		}
	}
	return actions, true
}

// applySSH applies the ssh step with the host's address family and port,
// and lets sshd judge the result (`sshd -T` with the real host keys).
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

// anyAuthorizedKey reports whether some account that may log in has a
// non-empty ~/.ssh/authorized_keys.
func anyAuthorizedKey(env *steps.Env) bool {
	passwd, _ := env.Root.ReadFile("/etc/passwd")
	for _, f := range distro.ColonEntries(string(passwd), 7) {
		if distro.NISCompat(f[0]) || strings.HasSuffix(f[6], "nologin") || strings.HasSuffix(f[6], "/false") {
			continue
		}
		for _, name := range []string{"authorized_keys", "authorized_keys2"} {
			if fi, err := env.Root.Stat(f[5] + "/.ssh/" + name); err == nil && fi.Size() > 0 {
				return true
			}
		}
	}
	return false
}
