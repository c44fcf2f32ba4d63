#!/usr/bin/env bash
# Prints the path of a pinned tool built from its module zip, building it into
# the cache first when missing. The module proxy refuses version listings for
# hashicorp modules (so `go install ...@version` fails) and Debian's packer
# 1.6.6 cannot load current plugins; both are built like this instead.
#   tools.sh packer        -> packer v1.16.0 (cold build ~3-8 min, ~1.8 GB RSS)
#   tools.sh qemu-plugin   -> packer-plugin-qemu v1.0.9 (~40 s)
set -euo pipefail
cache=${HARDBAKE_CACHE:-$HOME/.cache/hardbake}/tools
mkdir -p "$cache"
case "${1:-}" in
  packer)      mod=github.com/hashicorp/packer;             ver=v1.16.0; out=$cache/packer-1.16.0 ;;
  qemu-plugin) mod=github.com/hashicorp/packer-plugin-qemu; ver=v1.0.9;  out=$cache/packer-plugin-qemu-1.0.9 ;;
  *) echo "usage: $0 packer|qemu-plugin" >&2; exit 2 ;;
esac
exec 9>"$out.lock"
flock 9
if [ ! -x "$out" ]; then
  echo "tools: building $mod@$ver into $out" >&2
  dir=$(GOFLAGS=-mod=mod go mod download -json "$mod@$ver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { echo "tools: go mod download $mod@$ver failed" >&2; exit 1; }
  src=$(mktemp -d)
  trap 'rm -rf "$src"' EXIT
  cp -r "$dir/." "$src/"
  chmod -R u+w "$src"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$out.tmp" .) >&2
  mv "$out.tmp" "$out"
fi
echo "$out"
