#!/usr/bin/env bash
# Installs the system packages the native build needs (Debian/Ubuntu): a C++ toolchain, CMake, OpenCV's core,
# imgproc and imgcodecs development files, and giflib. Does nothing when they are already present.
# nlohmann-json3-dev is for the native tests only (test/native/); the addon build does not need it, so have_all does
# not require it.
set -euo pipefail
PACKAGES=(g++ cmake make libopencv-imgproc-dev libopencv-imgcodecs-dev libgif-dev nlohmann-json3-dev)

have_all() {
  command -v cmake >/dev/null && command -v g++ >/dev/null &&
    [ -f /usr/include/opencv4/opencv2/imgcodecs.hpp ] && [ -f /usr/include/opencv4/opencv2/imgproc.hpp ] &&
    [ -f /usr/include/gif_lib.h ]
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
