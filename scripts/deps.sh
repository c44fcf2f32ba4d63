#!/usr/bin/env bash
# Installs what `make test` and `make demo` need on a fresh Debian machine,
# and nothing when it is all there already. Needs root (apt-get).
set -euo pipefail

# command -> Debian package
declare -A need=(
  [mmdebstrap]=mmdebstrap
  [qemu-system-x86_64]=qemu-system-x86
  [sshd]=openssh-server
  [ssh]=openssh-client
  [ssh-keygen]=openssh-client
  [nft]=nftables
  [isoinfo]=genisoimage
  [genisoimage]=genisoimage
  [fsck.vfat]=dosfstools
  [mtype]=mtools
  [mkfs.ext4]=e2fsprogs
  [sgdisk]=gdisk
  [sfdisk]=fdisk
  [flock]=util-linux
  [debugfs]=e2fsprogs
  [cloud-localds]=cloud-image-utils
  [ssh-audit]=ssh-audit
  # packaging's release tests: the .deb judged by lintian, the .rpm read by
  # rpm, the .apk and Arch package listed by bsdtar; zip for the plugin zips.
  [lintian]=lintian
  [rpm]=rpm
  [bsdtar]=libarchive-tools
  [zip]=zip
  [oscap]=openscap-scanner
  [oscap-chroot]=openscap-utils
  # audit --format prometheus/junit is judged by Prometheus' promtool, served by
  # Debian's node_exporter, and validated against JUnit schemas by xmllint.
  [promtool]=prometheus
  [prometheus-node-exporter]=prometheus-node-exporter
  [xmllint]=libxml2-utils
  # boots a baked root with its own systemd to run hardbake-audit.service
  [systemd-nspawn]=systemd-container
)
missing=()
for cmd in "${!need[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ] && ! [ -x "/sbin/$cmd" ]; then
    missing+=("${need[$cmd]}")
  fi
done
# bootstrap/ini's dnf reader is judged against libdnf's own parser (Debian's
# python3-libdnf, for the system python3).
/usr/bin/python3 -c 'import libdnf' >/dev/null 2>&1 || missing+=(python3-libdnf)
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "deps: installing $pkgs"
  if [ "$(id -u)" != 0 ]; then
    echo "deps: need root to apt-get install $pkgs" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the host's own sshd/nftables from being started by the install.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends $pkgs
fi
