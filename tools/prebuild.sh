#!/usr/bin/env bash
# npm run build:prebuild [-- --bullseye]: builds the self-contained addon prebuilds/<runtime>/craft.node.
#
#   1. tools/prebuild-deps.sh: static, trimmed OpenCV + codecs + giflib from Debian source packages, cached under
#      ${CRAFT_TEXT_CACHE:-~/.cache/craft-text}/prebuild-deps/<key> (about 11 min cold on 2 cores, seconds warm);
#   2. cmake-js links the addon against them (static libstdc++/libgcc, binding/exports.map) into build/prebuild;
#   3. copies it to prebuilds/<runtime>/craft.node with craft.json (what it was built from), and checks and prints
#      what it needs: ldd, NEEDED, exported symbols, size, minimum GLIBC.
#
# --bullseye builds steps 1-2 in a Debian 11 chroot (glibc 2.31, GCC 10; created once with debootstrap, needs root)
# so the binary runs on glibc 2.31 and newer; the release path. Without it the host's glibc is the floor.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${CRAFT_TEXT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/craft-text}
export CRAFT_TEXT_CACHE=$CACHE JOBS=${JOBS:-2}
MODE=host
DEPS_PREFIX=
while [ $# -gt 0 ]; do
  case "$1" in
    --bullseye) MODE=bullseye ;;
    --in-chroot) MODE=in-chroot ;;
    --offline) export CRAFT_TEXT_OFFLINE=1 ;;
    --deps-prefix) DEPS_PREFIX=$(cd "$2" && pwd); shift ;; # static OpenCV + giflib built elsewhere (vcpkg on Windows)
    *) echo "usage: $0 [--bullseye] [--offline] [--deps-prefix DIR]" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "prebuild: $*" >&2; }
T0=$SECONDS

runtime() { # sharp's runtime names: linux-x64, linuxmusl-x64, darwin-arm64, win32-x64 ...
  node -p "const r = process.report.getReport().header; process.platform + (process.platform === 'linux' &&
    !r.glibcVersionRuntime ? 'musl' : '') + '-' + process.arch"
}

fetch_sources() { # online when possible; a cached source tree lets the rest run offline
  if [ -z "${CRAFT_TEXT_OFFLINE:-}" ] && "$ROOT/tools/prebuild-deps.sh" fetch; then return; fi
  [ -f "$CACHE/src/versions.txt" ] || { log "cannot fetch the sources and none are cached"; exit 1; }
  log "using the cached sources ($CACHE/src)"
}

build_addon() { # deps + addon into build/prebuild (in the chroot for --bullseye)
  local prefix=$DEPS_PREFIX
  if [ -z "$prefix" ]; then
    nice -n "${NICE:-10}" "$ROOT/tools/prebuild-deps.sh" build
    prefix=$("$ROOT/tools/prebuild-deps.sh" prefix)
  fi
  rm -rf "$ROOT/build/prebuild"; mkdir -p "$ROOT/build"
  (cd "$ROOT" && nice -n "${NICE:-10}" node node_modules/cmake-js/bin/cmake-js compile --out build/prebuild \
    --CDCMAKE_BUILD_TYPE=Release --CDCRAFT_DEPS_PREFIX="$prefix" --parallel "$JOBS" > build/prebuild.log 2>&1) ||
    { tail -30 "$ROOT/build/prebuild.log" >&2; exit 1; }
  cp "$prefix/../versions.txt" "$ROOT/build/prebuild/deps-versions.txt" 2>/dev/null ||
    echo "$prefix" > "$ROOT/build/prebuild/deps-versions.txt"
  { cc --version 2>/dev/null | head -1; ldd --version 2>&1 | head -1; } > "$ROOT/build/prebuild/toolchain.txt" || true
}

bullseye() {
  local rootfs=$CACHE/bullseye-rootfs
  [ "$(id -u)" = 0 ] || { log "--bullseye needs root (debootstrap, chroot, mount)"; exit 1; }
  if [ ! -f "$rootfs/.craft-text-ready" ]; then
    command -v debootstrap >/dev/null || { log "debootstrap missing: apt-get install debootstrap"; exit 1; }
    log "creating the Debian 11 build root (once): $rootfs"
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=build-essential,cmake,ninja-build,nasm bullseye "$rootfs" \
      "${CRAFT_TEXT_DEBIAN_MIRROR:-http://deb.debian.org}/debian" > "$CACHE/debootstrap.log"
    touch "$rootfs/.craft-text-ready"
  fi
  # Node's official binaries need glibc 2.28, so the host's node runs inside; the repo and cache are bind-mounted.
  cp "$(command -v node)" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/src" "$rootfs/cache" "$rootfs/proc"
  mount --bind "$ROOT" "$rootfs/src"
  mount --bind "$CACHE" "$rootfs/cache"
  mount -t proc proc "$rootfs/proc"
  cp /etc/resolv.conf "$rootfs/etc/resolv.conf" 2>/dev/null || true # fetch_sources runs inside
  trap 'umount "$rootfs/proc" "$rootfs/cache" "$rootfs/src" 2>/dev/null || true' EXIT
  chroot "$rootfs" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root CRAFT_TEXT_CACHE=/cache \
    JOBS="$JOBS" NICE="${NICE:-10}" CRAFT_TEXT_OFFLINE="${CRAFT_TEXT_OFFLINE:-}" bash /src/tools/prebuild.sh --in-chroot
  umount "$rootfs/proc" "$rootfs/cache" "$rootfs/src"
  trap - EXIT
}

case $MODE in
  in-chroot) fetch_sources; build_addon; exit 0 ;;
  bullseye) bullseye ;;
  host) [ -n "$DEPS_PREFIX" ] || fetch_sources; build_addon ;;
esac

RT=$(runtime)
OUT=$ROOT/prebuilds/$RT
mkdir -p "$OUT"
cp "$ROOT/build/prebuild/Release/craft.node" "$OUT/craft.node"
FILE=$OUT/craft.node

# What the binary needs, checked on Linux: only the C library (+ libm, libdl, libpthread, ld.so), two exported symbols.
size=$(wc -c < "$FILE" | tr -d ' ')
needed= exports= glibc=
case "$(uname -s)" in
  Linux)
    needed=$(objdump -p "$FILE" | awk '/NEEDED/ {print $2}' | tr '\n' ' ')
    exports=$(nm -D --defined-only "$FILE" | awk '{print $3}' | sort | tr '\n' ' ')
    glibc=$(objdump -T "$FILE" | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -1 || true)
    for lib in $needed; do
      case $lib in libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|ld-linux*|libc.musl*) ;;
        *) log "unexpected dependency $lib"; exit 1 ;; esac
    done
    [ "$exports" = "napi_register_module_v1 node_api_module_get_api_version_v1 " ] ||
      { log "unexpected exports: $exports"; exit 1; } ;;
  Darwin)
    needed=$(otool -L "$FILE" | tail -n +2 | awk '{print $1}' | tr '\n' ' ')
    exports=$(nm -gU "$FILE" | awk '{print $3}' | sort | tr '\n' ' ') ;;
esac
node -e "const b = require(process.argv[1]); if (!b.opencvVersion) process.exit(1)" "$FILE" ||
  { log "$FILE does not load"; exit 1; }

# craft.json: what this binary was built from, so a committed or published prebuild can be checked against the
# sources (test/install.test.ts compares sourceHash with the working tree).
SRC_HASH=$(node "$ROOT/tools/source-hash.js")
node -e '
  const [file, rt, hash, glibc, size, needed, exportsList, deps, toolchain] = process.argv.slice(1);
  require("fs").writeFileSync(file, JSON.stringify({
    runtime: rt, sourceHash: hash, glibc: glibc.replace("GLIBC_", "") || undefined, bytes: Number(size),
    needed: needed.trim().split(" "), exports: exportsList.trim().split(" "),
    deps: deps.trim().split("\n"), toolchain: toolchain.trim().split("\n"),
  }, null, 2) + "\n");' "$OUT/craft.json" "$RT" "$SRC_HASH" "$glibc" "$size" "$needed" "$exports" \
  "$(cat "$ROOT/build/prebuild/deps-versions.txt")" "$(cat "$ROOT/build/prebuild/toolchain.txt")"

echo "prebuilds/$RT/craft.node"
echo "  size:     $size bytes ($(gzip -9c "$FILE" | wc -c | tr -d ' ') gzipped)"
echo "  built by: $(tr '\n' ';' < "$ROOT/build/prebuild/toolchain.txt")"
echo "  needs:    $needed"
echo "  exports:  $exports"
if [ -n "$glibc" ]; then
  echo "  glibc:    >= ${glibc#GLIBC_} (highest GLIBC_ symbol version; GLIBCXX_ symbols: $(objdump -T "$FILE" | grep -c GLIBCXX_ || true))"
  echo "  ldd:"; ldd "$FILE" | sed 's/^/    /'
fi
echo "  time:     $((SECONDS - T0)) s"
