package steps

import (
	"github.com/hardbake/hardbake/bootstrap/report"
)

// On SysV init (Debian with sysvinit-core) first boot runs from an LSB init
// script instead of the systemd unit. insserv orders scripts by their LSB
// headers: "X-Start-Before: ssh" puts it before sshd's script in every
// runlevel, "Required-Start: $local_fs" after writable local file systems,
// which is all useradd and ssh-keygen need.
const (
	FirstbootInitName   = "hardbake-firstboot"
	FirstbootInitScript = "/etc/init.d/" + FirstbootInitName
)

func firstbootInitScriptText() string {
	return `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ` + FirstbootInitName + `
# Required-Start:    $local_fs
# Required-Stop:
# X-Start-Before:    ssh
# Default-Start:     2 3 4 5
# Default-Stop:
# Short-Description: hardbake first boot: admin user, SSH keys and settings
# Description:       Applies this machine's host data once, before sshd
#                    starts (see ` + FirstbootBinary + ` firstboot -h).
### END INIT INFO
# Written by hardbake bake. Runs until host data was applied;
# ` + FirstbootMarker + ` records that.

case "$1" in
start)
	[ -e ` + FirstbootMarker + ` ] && exit 0
	exec ` + FirstbootBinary + ` firstboot
	;;
stop|restart|force-reload|status)
	exit 0
	;;
*)
	echo "Usage: $0 start" >&2
	exit 3
	;;
esac
`
}

// sysvEnabled reports whether update-rc.d linked the script into runlevel 2.
func sysvEnabled(env *Env, name string) bool {
	m, _ := env.Root.Glob("/etc/rc2.d/S*" + name)
	return len(m) > 0
}

// firstbootSysVActions installs and enables the init script.
func firstbootSysVActions(env *Env) ([]Action, error) {
	var actions []Action
	a, err := WriteFile(env.Root, FirstbootInitScript, []byte(firstbootInitScriptText()), 0o755, "first-boot init script (SysV), before ssh")
	if err != nil {
		return nil, err
	}
	actions = appendAction(actions, a)
	if !sysvEnabled(env, FirstbootInitName) {
		actions = append(actions, Action{Kind: "run", Summary: "run hardbake firstboot at boot (insserv orders it before ssh)",
			Cmd: cmd("update-rc.d", FirstbootInitName, "defaults")})
	}
	return actions, nil
}

func firstbootSysVChecks(env *Env) []report.Check {
	data, err := env.Root.ReadFile(FirstbootInitScript)
	state := "installed"
	switch {
	case err != nil:
		state = "missing"
	case string(data) != firstbootInitScriptText():
		state = "differs from this hardbake's"
	}
	return []report.Check{
		check("firstboot.init_script", "installed", state),
		check("firstboot.enabled", "enabled", enabledWord(sysvEnabled(env, FirstbootInitName))),
	}
}
