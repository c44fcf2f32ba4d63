package steps

import (
	"context"
	"strings"
	"time"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/ini"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
)

// Fail2ban bans addresses that keep failing SSH logins: an sshd jail on the
// ports sshd really listens on, reading the journal, banning with the
// firewall's own tool, validated by `fail2ban-client -t`.
type Fail2ban struct{}

// Name implements Step.
func (Fail2ban) Name() string { return "fail2ban" }

func (Fail2ban) settings(ctx context.Context, env *Env) (jailSettings, error) {
	ports, err := sshPorts(ctx, env)
	if err != nil {
		return jailSettings{}, err
	}
	filter, _ := env.Root.ReadFile(Fail2banSSHDFilter)
	return jailSettings{
		Ports:       ports,
		Journal:     hasJournal(env.Distro),
		SSHUnit:     env.Distro.SSHService + ".service",
		Backend:     logBackend(env.Distro),
		LogPath:     authLog(env.Distro),
		Firewall:    firewallBackend(env),
		Profile:     env.Profile.Fail2ban,
		FilterLocal: len(filter) > 0 && !strings.Contains(string(filter), "sshd-session"),
	}, nil
}

// configure plans the jail (and filter override) from the files as they are.
func (f Fail2ban) configure(ctx context.Context, env *Env) ([]Action, error) {
	s, err := f.settings(ctx, env)
	if err != nil {
		return nil, err
	}
	var actions []Action
	a, err := WriteFile(env.Root, Fail2banJail, []byte(sshdJail(s)), 0o644, "sshd jail on ports "+joinInts(s.Ports, ","))
	if err != nil {
		return nil, err
	}
	actions = appendAction(actions, a)
	if s.FilterLocal {
		a, err := WriteFile(env.Root, Fail2banFilterLocal, []byte(sshdFilterLocal), 0o644, "sshd filter: match sshd-session")
		if err != nil {
			return nil, err
		}
		actions = appendAction(actions, a)
	}
	if !s.Journal {
		actions = appendAction(actions, authLogAction(env, s.LogPath))
		actions = appendAction(actions, enableAction(env, "start the syslog daemon at boot: sshd logs through it", "rsyslog.service"))
	}
	actions = appendAction(actions, enableAction(env, "start fail2ban at boot", "fail2ban.service"))
	if len(actions) == 0 {
		return nil, nil
	}
	actions = append(actions, Action{
		Kind: "validate", Summary: "fail2ban-client -t accepts the configuration", Cmd: cmd("fail2ban-client", "-t"),
		Validate: func(ctx context.Context) error { _, err := env.Run.Run(ctx, cmd("fail2ban-client", "-t")); return err },
	})
	if env.Live() {
		actions = append(actions, restartAction(env, "load the jail", "fail2ban.service"))
	}
	return actions, nil
}

// Plan implements Step.
func (f Fail2ban) Plan(ctx context.Context, env *Env) ([]Action, error) {
	return planWithPackages(ctx, env, "install fail2ban", fail2banPackages(env.Distro, firewallBackend(env)),
		func() ([]Action, error) { return f.configure(ctx, env) })
}

// Apply implements Step.
func (f Fail2ban) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	return applyWithPackages(ctx, env, "install fail2ban", fail2banPackages(env.Distro, firewallBackend(env)),
		func() ([]Action, error) { return f.configure(ctx, env) })
}

// Check implements Step.
func (f Fail2ban) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	var all []string
	for _, p := range fail2banPackages(env.Distro, firewallBackend(env)) {
		all = append(all, p...)
	}
	pc, err := packagesCheck(ctx, env, "fail2ban.packages", all)
	if err != nil {
		return nil, err
	}
	checks := []report.Check{pc}
	s, err := f.settings(ctx, env)
	if err != nil {
		return nil, err
	}
	data, _ := env.Root.ReadFile(Fail2banJail)
	jail := ini.Parse(string(data), ini.Fail2ban)
	checks = append(checks,
		check("fail2ban.sshd_ports", joinInts(s.Ports, ","), jail.Value("sshd", "port")),
		check("fail2ban.enabled_at_boot", "enabled", enabledWord(unitEnabled(env, "fail2ban.service"))))
	if s.Journal {
		checks = append(checks, check("fail2ban.backend", "systemd", jail.Value("sshd", "backend")))
	} else {
		checks = append(checks,
			check("fail2ban.backend", s.Backend, jail.Value("sshd", "backend")),
			check("fail2ban.logpath", s.LogPath, jail.Value("sshd", "logpath")),
			check("fail2ban.logpath_exists", "yes", yesNo(env.Root.Exists(s.LogPath))),
			check("fail2ban.syslog_enabled_at_boot", "enabled", enabledWord(unitEnabled(env, "rsyslog.service"))))
	}
	if env.Live() {
		// The config test passes even when the server cannot run (e.g. the
		// systemd backend without python3-systemd): ask the running server.
		// A just (re)started server needs seconds before its socket answers
		// (python start-up; ~5-10 s on a TCG-emulated build VM), so wait a
		// little before calling it not running.
		_, err := env.Run.Run(ctx, cmd("fail2ban-client", "status", "sshd"))
		for deadline := time.Now().Add(45 * time.Second); err != nil && time.Now().Before(deadline) && ctx.Err() == nil; {
			time.Sleep(time.Second)
			_, err = env.Run.Run(ctx, cmd("fail2ban-client", "status", "sshd"))
		}
		checks = append(checks, check("fail2ban.sshd_jail_running", "running", map[bool]string{true: "running", false: "not running"}[err == nil]))
	} else if env.CanRun() && pc.OK {
		_, err := env.Run.Run(ctx, cmd("fail2ban-client", "-t"))
		c := check("fail2ban.config_test", "ok", "ok")
		if err != nil {
			c = check("fail2ban.config_test", "ok", err.Error())
		}
		checks = append(checks, c)
	}
	return checks, nil
}

// authLogAction creates the empty auth log when it is missing, as rsyslog
// would (root:adm, 0640): rsyslog writes it only with the first auth message,
// and fail2ban refuses to start a jail whose log file does not exist ("Have
// not found any log file for sshd jail"), which at the first boot of an
// image comes before sshd has logged anything.
func authLogAction(env *Env, path string) *Action {
	return emptyLogAction(env, path, "empty auth log for the sshd jail (syslog appends to it)")
}

// emptyLogAction creates the log file path empty, root:adm 0640, when it is
// missing; nil when it exists.
func emptyLogAction(env *Env, path, summary string) *Action {
	if env.Root.Exists(path) {
		return nil
	}
	return &Action{Kind: "write", Path: path, Data: []byte{}, Mode: 0o640, Owner: root.Owner{UID: 0, GID: groupID(env, "adm")}, Summary: summary}
}

// groupID is name's gid in the root's /etc/group, or 0 (root) when missing.
func groupID(env *Env, name string) int {
	data, _ := env.Root.ReadFile("/etc/group")
	if g, ok := distro.LookupGroup(string(data), name); ok {
		return g.GID
	}
	return 0
}
