#!/usr/bin/env bash
# npm run setup-system [-- --prebuild]: installs the system packages building from source needs (Debian/Ubuntu, root
# or sudo): a C++ toolchain, CMake, OpenCV's core, imgproc and imgcodecs development files, and giflib. Does nothing
# when they are already present. Never run by `npm install`: users of the prebuilt addon need none of this.
# --prebuild adds what tools/prebuild.sh needs to build the static dependencies from Debian source packages
# (ninja, nasm for libjpeg-turbo's SIMD, dpkg-dev to unpack sources, debootstrap for --bullseye).
# nlohmann-json3-dev is for the native tests only (test/native/); the addon build does not need it, so have_all does
# not require it.
set -euo pipefail
PACKAGES=(g++ cmake make libopencv-imgproc-dev libopencv-imgcodecs-dev libgif-dev nlohmann-json3-dev)
PREBUILD=0
for arg in "$@"; do
  case "$arg" in
    --prebuild) PREBUILD=1; PACKAGES+=(ninja-build nasm dpkg-dev bzip2 xz-utils debootstrap) ;;
    *) echo "usage: $0 [--prebuild]" >&2; exit 2 ;;
  esac
done

have_all() {
  command -v cmake >/dev/null && command -v g++ >/dev/null &&
    [ -f /usr/include/opencv4/opencv2/imgcodecs.hpp ] && [ -f /usr/include/opencv4/opencv2/imgproc.hpp ] &&
    [ -f /usr/include/gif_lib.h ] &&
    { [ $PREBUILD = 0 ] || { command -v ninja && command -v nasm && command -v dpkg-source && command -v debootstrap; } >/dev/null; }
}

if have_all; then exit 0; fi
if ! command -v apt-get >/dev/null; then
  echo "craft-text: please install a C++17 compiler, CMake >= 3.18, OpenCV >= 4.2 (core, imgproc, imgcodecs) and giflib" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "craft-text: run as root, or install: ${PACKAGES[*]}" >&2
    exit 1
  fi
fi
echo "craft-text: installing ${PACKAGES[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
have_all
