#!/usr/bin/env bash
# build-root-sysv.sh OUT.tar
#
# A Debian 12 (bookworm) root with SysV init (sysvinit-core) instead of
# systemd, as a tarball. One root serves two kinds of tests:
#   - chroot (bootstrap/steps sysv_test.go): distro detection, `service ssh
#     reload`, the first-boot init script ordered by insserv before ssh;
#   - boot (cmd/hardbake sysv_boot_integration_test.go): `hardbake bake
#     --root` on a copy, then the copy booted in QEMU like the systemd roots
#     (internal/vm: mkfs.ext4 -d, direct kernel boot with this root's own
#     kernel and initramfs, DHCP on the virtio NIC from vm.WriteDHCPConfig).
# internal/testroot (DebianSysV) runs exactly this script and caches its
# output beside the systemd roots, keyed by a hash of this file's
# non-comment lines, like build-root.sh.
#
# minbase + sysvinit-core (with sysv-rc/insserv, which order init scripts by
# their LSB headers) + openssh-server + sudo, and what a VM needs to boot to
# SSH under SysV without Recommends:
#   linux-image-cloud-amd64 initramfs-tools   kernel and initramfs in /boot
#                   (initramfs-tools pulls udev, whose init script runs in rcS)
#   ifupdown isc-dhcp-client   /etc/init.d/networking brings up `auto` NICs
#   acpid acpi-support-base    turn QEMU's ACPI power button (vm.Stop) into
#                   a clean shutdown; without them only a kill ends the VM
#   e2fsprogs       fsck.ext4 for the VM's root filesystem
# Deliberately NOT installed, so the tests see hardbake install them: nftables,
# fail2ban, rsyslog, orphan-sysvinit-scripts (sysvinit-core only recommends
# it), cron, unattended-upgrades. No cloud-init: host data reaches first boot
# through /etc/hardbake/host.yaml or a seed read by hardbake itself.
#
# Measured on a 2-core machine: about 80 s cold (the kernel's initramfs is
# most of the difference to the chroot-only root, ~40 s) and a ~330 MiB tar.
#
# Needs root and mmdebstrap; MIRROR overrides the Debian mirror.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT.tar" >&2
  exit 2
fi
out=$1
mirror=${MIRROR:-http://deb.debian.org/debian}

include=(
  sysvinit-core openssh-server sudo
  linux-image-cloud-amd64 initramfs-tools
  ifupdown isc-dhcp-client iproute2 netbase
  acpid acpi-support-base e2fsprogs
)

hostname_hook='echo debian-sysv > "$1/etc/hostname"; printf "127.0.0.1\tlocalhost\n127.0.1.1\tdebian-sysv\n::1\tlocalhost ip6-localhost ip6-loopback\n" > "$1/etc/hosts"'

mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$(dirname "$out")/.build-root-sysv.XXXXXX.tar")
trap 'rm -f "$tmp"' EXIT
# sysvinit-core conflicts with systemd-sysv; apt picks SysV when it is named.
mmdebstrap \
  --mode=root \
  --variant=minbase \
  --format=tar \
  --include="$(IFS=,; echo "${include[*]}")" \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook="$hostname_hook" \
  bookworm "$tmp" "$mirror"
chmod 0644 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
