#!/usr/bin/env bash
# dist.sh: build the release archives of the three plugins.
#
#   scripts/dist.sh            # or: make dist
#   VERSION=1.2.0 scripts/dist.sh
#
# Writes into dist/ one archive per platform (linux/amd64, linux/arm64),
#   nomad-gpu-autoscaler-plugins_<version>_linux_<arch>.tar.gz
# holding apm-rabbitmq, strategy-slope and target-gce-gpu at the archive root
# (ready for a Nomad artifact block with destination = plugin_dir), the
# per-node daemon and the SLI exporter as bare binaries per platform,
#   maintenance-drain_<version>_linux_<arch>
#   sli_<version>_linux_<arch>
# (the artifacts of deploy/maintenance-drain.nomad.hcl and
# deploy/sli-exporter.nomad.hcl), and SHA256SUMS over
# all of them. Binaries are static (CGO off), stripped, built
# with -trimpath and stamped with the version (`<binary> -version`). Archives
# are reproducible: sorted entries, fixed owner and modification time.
set -euo pipefail

cd "$(dirname "$0")/.."
MODULE=github.com/fleetslope/nomad-gpu-autoscaler
PLUGINS=(apm-rabbitmq strategy-slope target-gce-gpu)
PLATFORMS=(linux/amd64 linux/arm64)
OUT=${DIST_DIR:-dist}

version() {
  if [[ -n ${VERSION:-} ]]; then printf '%s' "${VERSION#v}"; return; fi
  local v
  if v=$(git describe --tags --match 'v*' --dirty 2>/dev/null); then printf '%s' "${v#v}"; return; fi
  # No release tag yet: the in-code version plus the commit.
  v=$(sed -n 's/^var Version = "\(.*\)"$/\1/p' internal/version/version.go)
  printf '%s+%s' "$v" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
}

VER=$(version)
[[ $VER =~ ^[0-9A-Za-z.+-]+$ ]] || { echo "dist: version '$VER' has unexpected characters" >&2; exit 1; }
# The build stamps the version; the file names keep only characters every
# HTTP server and artifact getter accept.
FILE_VER=${VER//+/-}

rm -rf "$OUT"
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for platform in "${PLATFORMS[@]}"; do
  goos=${platform%/*} goarch=${platform#*/}
  stage="$work/${goos}_${goarch}"
  mkdir -p "$stage"
  for p in "${PLUGINS[@]}"; do
    echo "dist: building $p $VER for $goos/$goarch" >&2
    CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath \
      -ldflags "-s -w -X $MODULE/internal/version.Version=$VER" \
      -o "$stage/$p" "./plugins/$p"
  done
  if [[ $goos == $(go env GOHOSTOS) && $goarch == $(go env GOHOSTARCH) ]]; then
    for p in "${PLUGINS[@]}"; do
      got=$("$stage/$p" -version)
      [[ $got == "$p $VER" ]] || { echo "dist: $p -version printed '$got', want '$p $VER'" >&2; exit 1; }
    done
  fi
  for tool in maintenance-drain sli; do
    echo "dist: building $tool $VER for $goos/$goarch" >&2
    CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath \
      -ldflags "-s -w -X $MODULE/internal/version.Version=$VER" \
      -o "$OUT/${tool}_${FILE_VER}_${goos}_${goarch}" "./cmd/$tool"
  done
  archive="nomad-gpu-autoscaler-plugins_${FILE_VER}_${goos}_${goarch}.tar.gz"
  tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime='2020-01-01 00:00:00Z' -cf - "${PLUGINS[@]}" | gzip -n -9 > "$OUT/$archive"
done

(cd "$OUT" && sha256sum -- *.tar.gz maintenance-drain_* sli_* > SHA256SUMS)
echo "dist: wrote $OUT/ for version $VER:" >&2
cat "$OUT/SHA256SUMS" >&2
