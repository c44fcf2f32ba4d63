#!/bin/sh
# hardbake package, after removal (deb postrm, rpm %postun, apk
# post-deinstall, Arch post_remove). The package manager removes the
# package's files (dpkg keeps /etc/hardbake/profile.yaml until purge; rpm
# keeps an edited one as .rpmsave). Left to do on removal: the metrics the
# audit service wrote for node_exporter, which would otherwise be served as
# if this host were still audited. Upgrades keep them. Safe to run again.
set -e
case "${1:-}" in
upgrade | failed-upgrade | abort-install | abort-upgrade | disappear | 1)
	# dpkg's upgrade steps; rpm's $1 = 1: another version stays installed.
	;;
*)
	rm -f /var/lib/prometheus/node-exporter/hardbake.prom
	;;
esac
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
