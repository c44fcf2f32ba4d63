#!/bin/sh
# hardbake package, after install or upgrade (deb postinst, rpm %post, apk
# post-install, Arch post_install): tell a running systemd about the unit
# files. Nothing is enabled or started, sshd is not touched, nothing is
# baked: that is for `hardbake bake` and `systemctl enable`. Safe to run
# again.
set -e
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
