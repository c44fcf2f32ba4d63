package steps

// On SysV init nothing loads /etc/nftables.conf at boot: Debian's nftables
// package ships only nftables.service, and the init script of
// orphan-sysvinit-scripts (installed on SysV systems as sysvinit-core's
// recommendation) requires $network, so interfaces come up, DHCP included,
// before any rule exists. hardbake's own script runs in the boot sequence
// (runlevel S) before the network: insserv puts it before every script that
// provides $network (networking, ifupdown) and, through them, before ssh and
// everything of runlevel 2. When both scripts are installed the file is
// loaded twice: it starts with "flush ruleset" and nft applies it as one
// transaction, so the second load replaces the same rules atomically.
const (
	NftablesInitName   = "hardbake-nftables"
	NftablesInitScript = "/etc/init.d/" + NftablesInitName
)

// nftablesInitScriptText loads main (the distribution's nftables file, which
// includes hardbake's table) at boot. Default-Stop is empty: the rules stay
// until the machine is off; "stop" flushes them like nftables.service's
// ExecStop. A missing nft or a file nft rejects fails loudly on the console.
func nftablesInitScriptText(main string) string {
	return `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ` + NftablesInitName + `
# Required-Start:    $local_fs
# Required-Stop:
# X-Start-Before:    $network networking ifupdown
# Default-Start:     S
# Default-Stop:
# Short-Description: hardbake firewall: load ` + main + ` before the network
# Description:       Loads the nftables ruleset (hardbake's default-deny
#                    inbound table) before any interface is configured.
### END INIT INFO
# Written by hardbake bake: the firewall step rewrites it on every bake.

NFT=/usr/sbin/nft
CONF=` + main + `

case "$1" in
start|restart|reload|force-reload)
	if [ ! -x "$NFT" ]; then
		echo "` + NftablesInitName + `: $NFT missing: NO FIREWALL" >&2
		exit 1
	fi
	if ! "$NFT" -f "$CONF"; then
		echo "` + NftablesInitName + `: nft rejected $CONF: NO FIREWALL" >&2
		exit 1
	fi
	echo "` + NftablesInitName + `: firewall rules loaded from $CONF"
	;;
stop)
	"$NFT" flush ruleset
	;;
status)
	"$NFT" list table inet hardbake >/dev/null 2>&1 || exit 3
	;;
*)
	echo "Usage: $0 {start|stop|restart|reload|force-reload|status}" >&2
	exit 3
	;;
esac
`
}
