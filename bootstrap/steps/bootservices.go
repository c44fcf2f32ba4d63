package steps

import (
	"context"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// Services that start at boot, in each service manager's terms. Steps name a
// service by its systemd unit, the default of every supported family; on
// SysV (Debian with sysvinit-core) the same job is done by an LSB init
// script that update-rc.d links into the runlevels (insserv orders the links
// by the script's header), on OpenRC by a script rc-update adds to a runlevel.

// initScripts maps units whose init script has another name than the unit
// without ".service".
var initScripts = map[string]string{
	// Without systemd as PID 1, apt's daily jobs (unattended-upgrades) run
	// from /etc/cron.daily/apt-compat: cron is what must start at boot.
	"apt-daily.timer":         "cron",
	"apt-daily-upgrade.timer": "cron",
	FirstbootUnitName:         FirstbootInitName,
}

// initScript is the name of the init script doing unit's job.
func initScript(unit string) string {
	if s, ok := initScripts[unit]; ok {
		return s
	}
	return strings.TrimSuffix(unit, ".service")
}

// serviceName is unit's name under env's service manager.
func serviceName(env *Env, unit string) string {
	switch {
	case env.Distro.ServiceManager == distro.Systemd:
		return unit
	case env.Distro.ServiceManager == distro.SysV && unit == "nftables.service":
		// Debian's nftables package ships no init script (the one of
		// orphan-sysvinit-scripts loads the rules after $network): hardbake
		// installs its own (firewall_sysv.go). OpenRC distributions ship one.
		return NftablesInitName
	}
	return initScript(unit)
}

// unitEnabled reports whether unit (or its init script) starts at boot, by
// the links the service manager's enable command makes, so it works offline
// and on images too:
//   - systemd: a symlink in some /etc/systemd/system/*.wants directory;
//   - SysV: a start link S<NN>NAME in /etc/rc2.d (Debian's default runlevel)
//     or, for scripts of the boot sequence like hardbake-nftables, /etc/rcS.d;
//   - OpenRC: a link in some /etc/runlevels/* directory.
func unitEnabled(env *Env, unit string) bool {
	var patterns []string
	switch name := serviceName(env, unit); env.Distro.ServiceManager {
	case distro.SysV:
		patterns = []string{"/etc/rc2.d/S[0-9][0-9]" + name, "/etc/rcS.d/S[0-9][0-9]" + name}
	case distro.OpenRC:
		patterns = []string{"/etc/runlevels/*/" + name}
	default:
		patterns = []string{"/etc/systemd/system/*.wants/" + name}
	}
	for _, p := range patterns {
		if m, _ := env.Root.Glob(p); len(m) > 0 {
			return true
		}
	}
	return false
}

// enableAction plans enabling the units not enabled yet with the service
// manager's own tool; every one works in a chroot without a running init,
// and none starts anything. Units sharing one init script (apt's two timers:
// cron) are enabled once.
func enableAction(env *Env, summary string, units ...string) *Action {
	var need []string
	for _, u := range units {
		if name := serviceName(env, u); !unitEnabled(env, u) && !slices.Contains(need, name) {
			need = append(need, name)
		}
	}
	if len(need) == 0 {
		return nil
	}
	var c []string
	switch env.Distro.ServiceManager {
	case distro.Systemd:
		return &Action{Kind: "run", Cmd: cmd("systemctl", append([]string{"enable"}, need...)...), Summary: summary}
	case distro.OpenRC:
		for _, n := range need {
			c = append(c, "rc-update add "+n+" default")
		}
	default:
		// update-rc.d defaults runs insserv, which places the links by the
		// script's LSB header (Default-Start, Required-Start, X-Start-Before).
		for _, n := range need {
			c = append(c, "update-rc.d "+n+" defaults")
		}
	}
	if len(c) == 1 {
		f := strings.Fields(c[0])
		return &Action{Kind: "run", Cmd: cmd(f[0], f[1:]...), Summary: summary}
	}
	// Both tools take one script per call.
	return &Action{Kind: "run", Cmd: cmd("sh", "-c", strings.Join(c, " && ")), Summary: summary}
}

// restartAction plans making a running service reread its configuration,
// starting it when it is not running (systemd's reload-or-restart): used
// only on the live system, never under --root.
func restartAction(env *Env, summary, unit string) Action {
	switch name := serviceName(env, unit); env.Distro.ServiceManager {
	case distro.Systemd:
		return Action{Kind: "run", Summary: summary, Cmd: cmd("systemctl", "reload-or-restart", name)}
	case distro.OpenRC:
		return Action{Kind: "run", Summary: summary, Cmd: cmd("rc-service", name, "restart")}
	default:
		return Action{Kind: "run", Summary: summary, Cmd: cmd("service", name, "restart")}
	}
}

// serviceState is what the service manager says of unit on the live
// system: systemctl is-active's word, or for an init script "active" when
// its status action exits 0 (LSB: running) and "inactive" otherwise.
func serviceState(ctx context.Context, env *Env, unit string) string {
	name := serviceName(env, unit)
	var c []string
	switch env.Distro.ServiceManager {
	case distro.Systemd:
		res, _ := env.Run.Run(ctx, cmd("systemctl", "is-active", name))
		return strings.TrimSpace(string(res.Stdout))
	case distro.OpenRC:
		c = []string{"rc-service", name, "status"}
	default:
		c = []string{"service", name, "status"}
	}
	if _, err := env.Run.Run(ctx, cmd(c[0], c[1:]...)); err != nil {
		return "inactive"
	}
	return "active"
}

// initScriptActions installs an LSB init script of hardbake's own at
// /etc/init.d/NAME and enables it. update-rc.d also runs when the text
// changed, so insserv re-reads a changed header and moves the links.
func initScriptActions(env *Env, name, text, summary, enableSummary string) ([]Action, error) {
	var actions []Action
	a, err := WriteFile(env.Root, "/etc/init.d/"+name, []byte(text), 0o755, summary)
	if err != nil {
		return nil, err
	}
	actions = appendAction(actions, a)
	if a != nil || !unitEnabled(env, name) {
		actions = append(actions, Action{Kind: "run", Summary: enableSummary, Cmd: cmd("update-rc.d", name, "defaults")})
	}
	return actions, nil
}

// initScriptCheck compares the installed script with the text this hardbake
// writes.
func initScriptCheck(env *Env, id, name, text string) report.Check {
	data, err := env.Root.ReadFile("/etc/init.d/" + name)
	state := "installed"
	switch {
	case err != nil:
		state = "missing"
	case string(data) != text:
		state = "differs from this hardbake's"
	}
	return check(id, "installed", state)
}
