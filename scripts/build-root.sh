#!/usr/bin/env bash
# build-root.sh SUITE OUT.tar
#
# Builds the Debian root that hardbake's tests use, as a tarball: one root
# serves both the chroot tests (internal/testroot) and the base of the QEMU VM
# image (internal/vm, make demo). internal/testroot runs exactly this script and
# caches its output under ${HARDBAKE_CACHE:-~/.cache/hardbake}/roots/, keyed by
# a hash of this file's non-comment lines: editing the package lists or hooks
# below makes a new cache entry (bump nothing by hand); editing comments does not.
#
# Needs root (--mode=root keeps real ownership, device nodes and xattrs) and
# mmdebstrap. Uses the host's Debian mirror (deb.debian.org, as in
# /etc/apt/sources.list.d/debian.sources); MIRROR overrides it (not part of
# the cache key).
#
# Deliberately NOT installed: nftables, fail2ban, unattended-upgrades — hardbake
# installs those itself and the tests must see it do so.
# Deliberately kept: the ssh host keys openssh-server's postinst generates (the
# tests decide whether to keep, remove or regenerate them).
#
# Measured on a 2-core machine: bookworm 56-96 s and a 429 MiB tar, trixie
# ~65 s and 378 MiB (docs and man pages excluded). Extract with
#   tar --xattrs --xattrs-include='*' --numeric-owner -xpf OUT.tar -C DIR
# (without --xattrs-include GNU tar restores only user.* xattrs).
#
# The root boots as is under QEMU with direct kernel boot (internal/vm): the
# kernel and initramfs are in /boot. It carries no network configuration of
# its own beyond what the packages ship; internal/vm.PrepareRoot adds DHCP.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 SUITE OUT.tar   (SUITE: bookworm or trixie)" >&2
  exit 2
fi
suite=$1
out=$2
mirror=${MIRROR:-http://deb.debian.org/debian}

# Common to every suite. Beyond the packages the tests name, the extras are what
# a VM needs to boot to a working SSH under systemd without Recommends:
#   udev            device nodes, module autoloading (virtio, isofs for the seed)
#   dbus            systemd-logind, hostnamed, timedatectl need the bus; logind
#                   turns QEMU's ACPI power button (vm.Stop) into a poweroff
#   e2fsprogs       fsck.ext4 for the root filesystem of the VM image
# A getty on ttyS0 needs nothing extra: systemd starts serial-getty@ttyS0 by
# itself when the kernel has console=ttyS0.
common=(
  systemd-sysv udev dbus
  openssh-server sudo cloud-init python3-systemd
  linux-image-cloud-amd64 initramfs-tools
  exim4-daemon-light rpcbind
  iproute2 netbase ca-certificates less e2fsprogs
)

case "$suite" in
  bookworm)
    # Debian 12: ifupdown + ISC dhclient; cloud-init renders
    # /etc/network/interfaces.d/50-cloud-init (eni renderer).
    net=(ifupdown isc-dhcp-client)
    ;;
  trixie)
    # Debian 13 cloud images (debian-cloud-images) network with netplan.io
    # rendering for systemd-networkd, DNS through systemd-resolved (networkd
    # alone never writes /etc/resolv.conf). ifupdown + isc-dhcp-client are
    # deprecated there; cloud-init prefers the netplan renderer when netplan.io
    # is installed.
    net=(netplan.io systemd-resolved)
    ;;
  *)
    echo "build-root.sh: unknown suite $suite (bookworm, trixie)" >&2
    exit 2
    ;;
esac

include=$(IFS=,; echo "${common[*]},${net[*]}")

# Customize hook (the only one): give the root a hostname of its own instead of
# none, so the VM does not come up as "localhost" and sudo does not warn.
hostname_hook='echo debian > "$1/etc/hostname"; printf "127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n::1\tlocalhost ip6-localhost ip6-loopback\n" > "$1/etc/hosts"'

mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$(dirname "$out")/.build-root.XXXXXX.tar")
trap 'rm -f "$tmp"' EXIT
# --variant=minbase: Essential + Priority: required (login, passwd, apt), no
# Recommends — small, but everything a real image's admin tools expect.
# Docs and man pages are left out (dpkg path-exclude) to keep the tarball and
# each test's extraction small; copyright files stay.
mmdebstrap \
  --mode=root \
  --variant=minbase \
  --format=tar \
  --include="$include" \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook="$hostname_hook" \
  "$suite" "$tmp" "$mirror"
chmod 0644 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
