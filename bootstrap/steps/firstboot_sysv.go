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

// FirstbootInitScriptText is the init script that runs `binary firstboot`;
// writer names who installed it (see FirstbootUnitText).
func FirstbootInitScriptText(binary, writer string) string {
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
#                    starts (see ` + binary + ` firstboot -h).
### END INIT INFO
# Written by ` + writer + `. Runs until host data was applied;
# ` + FirstbootMarker + ` records that.

case "$1" in
start)
	[ -e ` + FirstbootMarker + ` ] && exit 0
	exec ` + binary + ` firstboot
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

// firstbootSysVActions installs and enables the init script.
func firstbootSysVActions(env *Env) ([]Action, error) {
	return initScriptActions(env, FirstbootInitName, FirstbootInitScriptText(FirstbootBinary, "hardbake bake"),
		"first-boot init script (SysV), before ssh", "run hardbake firstboot at boot (insserv orders it before ssh)")
}

func firstbootSysVChecks(env *Env) []report.Check {
	return []report.Check{
		initScriptCheck(env, "firstboot.init_script", FirstbootInitName, FirstbootInitScriptText(FirstbootBinary, "hardbake bake")),
		check("firstboot.enabled", "enabled", enabledWord(unitEnabled(env, FirstbootUnitName))),
	}
}
