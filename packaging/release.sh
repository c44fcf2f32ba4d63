#!/usr/bin/env bash
# make release: builds a release into $DIST (default dist/), from scratch:
#   packer-plugin-hardbake_vX.Y.Z_x5.0_<os>_<arch>.zip   the Packer plugin, in the
#       layout `packer init` downloads from a GitHub release, one per platform in
#       PLUGIN_PLATFORMS, and packer-plugin-hardbake_vX.Y.Z_SHA256SUMS
#   hardbake_vX.Y.Z_linux_<arch>.tar.gz                  the static binary (amd64, arm64)
#   hardbake_0.1.0_amd64.deb, hardbake-0.1.0-1.x86_64.rpm, hardbake_0.1.0_x86_64.apk,
#   hardbake-0.1.0-1-x86_64.pkg.tar.zst (and arm64/aarch64): PKG_FORMATS x PKG_ARCHS
#   hardbake_vX.Y.Z_SHA256SUMS                           the tarballs and packages
# Environment (the Makefile passes them): VERSION (vX.Y.Z[-pre]), DIST,
# PLUGIN_PLATFORMS, PKG_ARCHS, PKG_FORMATS, MAINTAINER, BUILD_DATE, GO.
# The build date is the commit's date unless BUILD_DATE says otherwise, so
# building the same tag again gives the same binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
DIST=${DIST:-dist}
PLUGIN_PLATFORMS=${PLUGIN_PLATFORMS:-linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64}
PKG_ARCHS=${PKG_ARCHS:-amd64 arm64}
PKG_FORMATS=${PKG_FORMATS:-deb rpm apk archlinux}
MAINTAINER=${MAINTAINER:-hardbake maintainers <hardbake@users.noreply.github.com>}

VERSION=${VERSION:-$(git describe --tags 2>/dev/null || true)}
if ! [[ $VERSION =~ ^v([0-9]+\.[0-9]+\.[0-9]+)(-([0-9A-Za-z.-]+))?$ ]]; then
  echo "release: version \"$VERSION\" is not vX.Y.Z[-PRERELEASE]: tag the commit (git tag v0.1.0) or pass VERSION=v0.1.0" >&2
  exit 2
fi
plain=${BASH_REMATCH[1]}      # 0.1.0: the packages' and Packer's version
prerelease=${BASH_REMATCH[3]} # rc1 in v0.1.0-rc1
commit=$(git rev-parse HEAD)
BUILD_DATE=${BUILD_DATE:-$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ)}
export SOURCE_DATE_EPOCH=$(date -d "$BUILD_DATE" +%s) # nfpm's file times

case "$(realpath -m "$DIST")" in
/ | "$PWD" | "$HOME") echo "release: DIST=$DIST would remove $(realpath -m "$DIST")" >&2; exit 2 ;;
esac
rm -rf "$DIST"
mkdir -p "$DIST/.work"
DIST=$(realpath "$DIST")
work=$DIST/.work
gobuild() { CGO_ENABLED=0 "$GO" build -trimpath "$@"; }

# The static hardbake binaries, stamped with the release.
ldflags="-s -w -X main.version=$VERSION -X main.commit=$commit -X main.buildDate=$BUILD_DATE"
for arch in amd64 arm64; do
  GOOS=linux GOARCH=$arch gobuild -ldflags "$ldflags" -o "$work/linux_$arch/hardbake" ./cmd/hardbake
done
hostbin=$work/linux_$("$GO" env GOHOSTARCH)/hardbake
if ! "$hostbin" version | grep -qxF "hardbake $VERSION commit $commit built $BUILD_DATE"; then
  echo "release: $hostbin version says \"$("$hostbin" version)\"" >&2
  exit 1
fi

# Tarballs: one directory holding the binary; same bytes for the same input.
for arch in amd64 arm64; do
  name=hardbake_${VERSION}_linux_$arch
  mkdir -p "$work/tar/$name"
  cp "$work/linux_$arch/hardbake" "$work/tar/$name/hardbake"
  tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    -C "$work/tar" -cf - "$name" | gzip -n -9 >"$DIST/$name.tar.gz"
done

# The Packer plugin embeds both binaries (provisioner/hardbake/bin). They go
# in through -overlay, so a release never writes into the source tree.
printf '{"Replace":{"%s":"%s","%s":"%s"}}\n' \
  "$PWD/provisioner/hardbake/bin/hardbake-linux-amd64" "$work/linux_amd64/hardbake" \
  "$PWD/provisioner/hardbake/bin/hardbake-linux-arm64" "$work/linux_arm64/hardbake" >"$work/overlay.json"
pldflags="-s -w -X main.Version=$plain -X main.VersionPrerelease=$prerelease"
# The plugin API version (x5.0) is the SDK's: read it from the plugin itself.
hostplugin=$work/plugin-host
gobuild -overlay "$work/overlay.json" -ldflags "$pldflags" -o "$hostplugin" ./cmd/packer-plugin-hardbake
# A missing overlay file would silently leave the binaries out: the plugin
# must hold both, byte for byte (checked again by packaging's tests).
size() { stat -c %s "$1"; }
if [ "$(size "$hostplugin")" -le $(($(size "$work/linux_amd64/hardbake") + $(size "$work/linux_arm64/hardbake"))) ]; then
  echo "release: $hostplugin is smaller than the two hardbake binaries it must embed" >&2
  exit 1
fi
api=$("$hostplugin" describe | sed -n 's/.*"api_version":"\([^"]*\)".*/\1/p')
[ -n "$api" ] || { echo "release: the plugin's describe has no api_version" >&2; exit 1; }
for platform in $PLUGIN_PLATFORMS; do
  os=${platform%_*} arch=${platform#*_}
  name=packer-plugin-hardbake_${VERSION}_${api}_${os}_$arch
  exe=$name
  [ "$os" = windows ] && exe=$name.exe
  mkdir -p "$work/plugin"
  if [ "$os/$arch" = "$("$GO" env GOHOSTOS)/$("$GO" env GOHOSTARCH)" ]; then
    cp "$hostplugin" "$work/plugin/$exe" # the same build
  else
    GOOS=$os GOARCH=$arch gobuild -overlay "$work/overlay.json" -ldflags "$pldflags" -o "$work/plugin/$exe" ./cmd/packer-plugin-hardbake
  fi
  touch -d "$BUILD_DATE" "$work/plugin/$exe"
  (cd "$work/plugin" && TZ=UTC zip -q -X -9 "$DIST/$name.zip" "$exe")
done
(cd "$DIST" && sha256sum packer-plugin-hardbake_"${VERSION}"_*.zip >"packer-plugin-hardbake_${VERSION}_SHA256SUMS")

# Native packages: the files packaging/gen makes from the built binary, then
# nfpm once per format and architecture.
"$GO" run ./packaging/gen -hardbake "$hostbin" -maintainer "$MAINTAINER" -o "$work/files"
"$GO" build -o "$work/nfpm" github.com/goreleaser/nfpm/v2/cmd/nfpm
for arch in $PKG_ARCHS; do
  for format in $PKG_FORMATS; do
    HARDBAKE_PKG_VERSION=$plain HARDBAKE_PKG_PRERELEASE=$prerelease HARDBAKE_PKG_ARCH=$arch \
      HARDBAKE_PKG_BIN=$work/linux_$arch/hardbake HARDBAKE_PKG_FILES=$work/files HARDBAKE_PKG_MAINTAINER=$MAINTAINER \
      "$work/nfpm" package -f packaging/nfpm.yaml -p "$format" -t "$DIST/" >/dev/null
  done
done
(cd "$DIST" && sha256sum hardbake_*.tar.gz $(ls | grep -E '^hardbake.*\.(deb|rpm|apk|pkg\.tar\.zst)$') >"hardbake_${VERSION}_SHA256SUMS")

rm -rf "$work"
echo "release $VERSION (commit $commit, built $BUILD_DATE) in $DIST:"
ls -l "$DIST"
