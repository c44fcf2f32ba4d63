#!/usr/bin/env bash
# The golden-image pipeline, end to end (what `make demo` runs):
#   1. base image: a bootable Debian raw disk + kernel/initrd, cached under
#      ~/.cache/hardbake/images (internal/baseimage; direct kernel boot);
#   2. `packer build` of examples/packer/debian-12.pkr.hcl: the real QEMU
#      builder (TCG) boots the base image, cloud-init creates the build user
#      `packer` from a NoCloud seed, the hardbake provisioner bakes and seals;
#      output: a sealed disk.raw with its vmlinuz and initrd.img;
#   3. boot that image fresh (QEMU -snapshot: the sealed image stays as built)
#      with a second seed made by `hardbake seed` holding host data: user
#      alice, her key, ssh address_family inet; wait for SSH; print the login.
#
#   scripts/pipeline.sh [all|build|seed|boot] [WORKDIR]   (default: all /tmp/hardbake-pipeline)
#
# build does 1-2 (WORKDIR/image, WORKDIR/report.json), seed writes the host
# data and WORKDIR/seed.iso (alice's key: WORKDIR/alice_key), boot does seed
# and 3. The e2e suite runs build and seed and boots the image itself.
# SUITE=trixie builds from Debian 13 instead.
# Needs root (the base image is made from an mmdebstrap root), QEMU, genisoimage.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
what=${1:-all}
work=$(realpath -m "${2:-${WORK:-/tmp/hardbake-pipeline}}")
suite=${SUITE:-bookworm}
template=${TEMPLATE:-$repo/examples/packer/debian-12.pkr.hcl}
mkdir -p "$work"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
secs() { echo $(( $(date +%s) - $1 )); }

build() {
  say "1. base image (Debian $suite, cached under ~/.cache/hardbake/images)"
  local t0 base packer qemu_plugin
  t0=$(date +%s)
  base=$(go run ./internal/baseimage/cmd/baseimage "$suite")
  ls -lsh "$base"
  echo "base image ready in $(secs "$t0") s"

  say "2. packer build (packer v1.16.0, packer-plugin-qemu v1.0.9, our plugin; TCG)"
  packer=$(bash scripts/tools.sh packer)
  qemu_plugin=$(bash scripts/tools.sh qemu-plugin)
  [ -x bin/packer-plugin-hardbake ] || make build
  # A private plugin directory: nothing of the user's Packer setup is used or changed.
  export CHECKPOINT_DISABLE=1 PACKER_PLUGIN_PATH=$work/packer/plugins PACKER_CONFIG_DIR=$work/packer
  mkdir -p "$PACKER_PLUGIN_PATH"
  "$packer" plugins install --path "$qemu_plugin" github.com/hashicorp/qemu
  "$packer" plugins install --path bin/packer-plugin-hardbake github.com/hardbake/hardbake
  # The build user's key pair, new for every build (sealing removes the user).
  rm -f "$work/build_key" "$work/build_key.pub"
  ssh-keygen -q -t ed25519 -N '' -C packer-build -f "$work/build_key"
  rm -rf "$work/image" "$work/report.json"
  local vars=(
    -var "base_dir=$base"
    -var "output_directory=$work/image"
    -var "ssh_private_key_file=$work/build_key"
    -var "ssh_public_key=$(cat "$work/build_key.pub")"
    -var "report_path=$work/report.json"
    -var "serial_log=$work/build-serial.log"
  )
  "$packer" validate "${vars[@]}" "$template"
  t0=$(date +%s)
  "$packer" build -color=false -timestamp-ui "${vars[@]}" "$template" 2>&1 | tee "$work/packer-build.log"
  [ "${PIPESTATUS[0]}" = 0 ] || { echo "packer build failed (log: $work/packer-build.log, console: $work/build-serial.log)" >&2; exit 1; }
  secs "$t0" > "$work/packer-build.seconds"
  echo "packer build took $(cat "$work/packer-build.seconds") s"
  ls -lsh "$work/image"
  echo "report: $work/report.json"
}

seed() {
  say "host data for alice: a NoCloud seed made by hardbake seed"
  [ -f "$work/alice_key" ] || ssh-keygen -q -t ed25519 -N '' -C alice -f "$work/alice_key"
  umask 077
  cat > "$work/host.yaml" <<EOF
user:
  name: alice
  sudo: nopasswd
  authorized_keys:
    - $(cat "$work/alice_key.pub")
ssh:
  address_family: inet
EOF
  # hardbake firstboot (installed by the bake) applies it before sshd starts:
  # the user, her sudo rule and key, the address family, new host keys.
  umask 022
  bin/hardbake seed --host "$work/host.yaml" -o "$work/seed.iso"
}

boot() {
  local img=$work/image
  [ -f "$img/disk.raw" ] || { echo "no $img/disk.raw: run $0 build $work first" >&2; exit 1; }
  seed
  say "3. boot the sealed image fresh with the host data"
  local port pidfile=$work/qemu.pid
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "stopping the previous demo VM (pid $(cat "$pidfile"))"
    kill "$(cat "$pidfile")"; sleep 1
  fi
  port=${SSH_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
  local t0
  t0=$(date +%s)
  qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 1024 -smp 2 \
    -nodefaults -display none -no-user-config \
    -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1" \
    -drive "file=$img/disk.raw,format=raw,if=virtio,cache=unsafe" -snapshot \
    -drive "file=$work/seed.iso,format=raw,if=virtio,readonly=on" \
    -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=net0 \
    -device virtio-rng-pci -serial "file:$work/serial.log" \
    -daemonize -pidfile "$pidfile"
  echo "VM started (pid $(cat "$pidfile"), console: $work/serial.log); waiting for SSH on 127.0.0.1:$port"
  local ssh=(ssh -i "$work/alice_key" -p "$port" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no
    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 -o BatchMode=yes)
  for _ in $(seq 1 120); do
    if "${ssh[@]}" alice@127.0.0.1 true 2>/dev/null; then break; fi
    sleep 5
  done
  "${ssh[@]}" alice@127.0.0.1 'echo "logged in as $(id -un) on $(hostname), sshd AddressFamily: $(sudo -n sshd -T | sed -n "s/^addressfamily //p")"'
  echo "boot to SSH: $(secs "$t0") s"
  say "log in:"
  echo "  ssh -i $work/alice_key -p $port -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null alice@127.0.0.1"
  echo "stop the VM: kill \$(cat $pidfile)   (the sealed image $img/disk.raw is unchanged: -snapshot)"
}

case "$what" in
  all) build; boot ;;
  build) build ;;
  seed) seed ;;
  boot) boot ;;
  *) echo "usage: $0 [all|build|seed|boot] [WORKDIR]" >&2; exit 2 ;;
esac
