#!/usr/bin/env bash
# make demo: bake a real Debian 12 root built with mmdebstrap and show the proof
# (quick, part 1), then the whole golden-image pipeline: packer build of a
# sealed Debian 12 image, booted fresh for alice (scripts/pipeline.sh, part 2).
# DEMO_PIPELINE=0 stops after part 1.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${HARDBAKE_CACHE:-$HOME/.cache/hardbake}
suite=${SUITE:-bookworm}
tar=$(go run ./internal/testroot/cmd/roottar "$suite")
work=$(mktemp -d /tmp/hardbake-demo.XXXXXX)
echo "== demo root: $work (from $tar)"
tar --xattrs --numeric-owner -xpf "$tar" -C "$work"
# A starting point as hostile as real images: cloud-init's drop-in turns passwords on.
printf 'PasswordAuthentication yes\n' > "$work/etc/ssh/sshd_config.d/50-cloud-init.conf"
sed -i '1i PermitRootLogin yes' "$work/etc/ssh/sshd_config"

echo; echo "== hardbake audit (before)"; bin/hardbake audit --root "$work" || true
echo; echo "== hardbake plan";           bin/hardbake plan --root "$work"
echo; echo "== hardbake bake";           bin/hardbake bake --root "$work" --report "$work.report.json"
echo; echo "== hardbake bake again (must change nothing)"; bin/hardbake bake --root "$work" | tail -n 1
echo; echo "== the root's own sshd -T"
mkdir -p "$work/run/sshd"
chroot "$work" /usr/sbin/sshd -T | grep -E '^(permitrootlogin|passwordauthentication|kbdinteractiveauthentication|pubkeyauthentication|addressfamily|port) '
echo; echo "== report: $work.report.json; root left in $work"

[ "${DEMO_PIPELINE:-1}" = 1 ] || exit 0
echo; echo "== part 2: the golden-image pipeline (scripts/pipeline.sh; ~10 min under TCG)"
exec bash scripts/pipeline.sh all "${DEMO_WORK:-/tmp/hardbake-pipeline}"
