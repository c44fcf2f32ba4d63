#!/usr/bin/env bash
# build-root-sysv.sh OUT.tar
#
# A Debian 12 (bookworm) root with SysV init (sysvinit-core) instead of
# systemd, as a tarball: it proves hardbake's SysV path in a chroot
# (distro detection, `service ssh reload`, the first-boot init script ordered
# by insserv before ssh). internal/testroot (DebianSysV) runs exactly this
# script and caches its output beside the systemd roots, keyed by a hash of
# this file's non-comment lines, like build-root.sh.
#
# Kept minimal so the build stays short: minbase + sysvinit-core (with
# sysv-rc/insserv, which order init scripts by their LSB headers) +
# openssh-server + sudo. No kernel: it is a chroot root, not a VM image.
#
# Needs root and mmdebstrap; MIRROR overrides the Debian mirror.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT.tar" >&2
  exit 2
fi
out=$1
mirror=${MIRROR:-http://deb.debian.org/debian}

mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$(dirname "$out")/.build-root-sysv.XXXXXX.tar")
trap 'rm -f "$tmp"' EXIT
# sysvinit-core conflicts with systemd-sysv; apt picks SysV when it is named.
mmdebstrap \
  --mode=root \
  --variant=minbase \
  --format=tar \
  --include=sysvinit-core,openssh-server,sudo \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook='echo debian-sysv > "$1/etc/hostname"' \
  bookworm "$tmp" "$mirror"
chmod 0644 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
