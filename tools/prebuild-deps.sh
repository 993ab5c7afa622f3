#!/usr/bin/env bash
# Builds the static libraries a self-contained craft.node links, from Debian's source packages, into a cache:
# zlib, libpng, libjpeg-turbo, libwebp, libtiff, giflib and a trimmed OpenCV (core, imgproc, imgcodecs).
#
#   tools/prebuild-deps.sh fetch          download + unpack the sources (needs the Debian mirror; no root)
#   tools/prebuild-deps.sh build          build them (offline) into $CACHE/prebuild-deps/<key>/prefix
#   tools/prebuild-deps.sh prefix         print that prefix (after build)
#
# Linux (glibc, musl) and macOS (fetch on a Debian/Ubuntu host, then build anywhere with the cache copied over);
# Windows takes its static OpenCV from vcpkg instead (tools/prebuild.sh --deps-prefix, .github/workflows/prebuild.yml).
#
# Everything is compiled position-independent (Debian's own static archives are PIE and cannot go into a shared
# object) for a portable x86-64 baseline (x86-64-v2 = -march=nehalem; OpenCV dispatches AVX2/AVX-512 at run time).
# Debian's OpenCV tarball has no 3rdparty/ (Files-Excluded), so the codecs come from their own source packages and
# nothing is downloaded at configure time. The key covers this file, the source versions and the toolchain, so a
# rerun with nothing changed does nothing.
set -euo pipefail

CACHE=${CRAFT_TEXT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/craft-text}
SRC=$CACHE/src
JOBS=${JOBS:-2}
PACKAGES=(zlib libpng1.6 libjpeg-turbo libwebp tiff giflib opencv)
SUITE=${CRAFT_TEXT_DEBIAN_SUITE:-bookworm}
MIRROR=${CRAFT_TEXT_DEBIAN_MIRROR:-http://deb.debian.org}

# x86-64-v2 without naming it (GCC 10, the Debian 11 compiler, predates -march=x86-64-v2).
case "$(uname -m)" in
  x86_64) ARCH_FLAGS="-march=nehalem -mtune=generic"; CV_CPU=(-DCPU_BASELINE=SSE4_2 "-DCPU_DISPATCH=AVX;FP16;AVX2;AVX512_SKX") ;;
  aarch64) ARCH_FLAGS=""; CV_CPU=() ;; # NEON baseline, OpenCV's defaults
  *) ARCH_FLAGS=""; CV_CPU=() ;;
esac
CFLAGS_PIC="-O2 -fPIC -fvisibility=hidden -ffunction-sections -fdata-sections $ARCH_FLAGS"

log() { echo "prebuild-deps: $*" >&2; }

# A private apt state (deb-src lines of $SUITE) so the system's apt configuration is left alone. APT_SUITES picks
# "security" (main + security updates, preferred) or "main" (the fallback when a mirror lacks a security file).
apt_private() {
  local dir=$CACHE/apt-${APT_SUITES:-security}
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  printf 'deb-src %s/debian %s main\n' "$MIRROR" "$SUITE" > "$dir/sources.list"
  [ "${APT_SUITES:-security}" = security ] &&
    printf 'deb-src %s/debian-security %s-security main\n' "$MIRROR" "$SUITE" >> "$dir/sources.list"
  apt-get -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
    -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" -o APT::Get::List-Cleanup=0 \
    -o APT::Sandbox::User="$(id -un)" "$@"
}

fetch() {
  mkdir -p "$SRC"
  command -v dpkg-source >/dev/null || { log "dpkg-source missing: apt-get install dpkg-dev"; exit 1; }
  APT_SUITES=security apt_private -qq update
  APT_SUITES=main apt_private -qq update
  local pkg dsc suites
  : > "$SRC/versions.new"
  for pkg in "${PACKAGES[@]}"; do
    for suites in security main; do
      dsc=$(APT_SUITES=$suites apt_private -qq source --print-uris "$pkg" | awk '{print $2}' | grep '\.dsc$')
      if [ -d "$SRC/${dsc%.dsc}" ]; then break; fi
      log "fetching ${dsc%.dsc}"
      if (cd "$SRC" && APT_SUITES=$suites apt_private -qq --download-only source "$pkg" >/dev/null 2>"$SRC/fetch.err"); then
        (cd "$SRC" && dpkg-source -q -x "$dsc" "${dsc%.dsc}.tmp" >/dev/null 2>&1 && mv "${dsc%.dsc}.tmp" "${dsc%.dsc}")
        break
      fi
      log "$(grep -m1 'E:' "$SRC/fetch.err" || true)"
      [ $suites = main ] && { log "could not fetch $pkg"; exit 1; }
    done
    echo "$dsc" >> "$SRC/versions.new"
  done
  mv "$SRC/versions.new" "$SRC/versions.txt"
}

dsc_dir() { echo "${1%.dsc}"; }
src_of() { echo "$SRC/$(dsc_dir "$(grep "^$1_" "$SRC/versions.txt")")"; }

key() {
  [ -f "$SRC/versions.txt" ] || { log "no sources: run '$0 fetch' first"; exit 1; }
  { cat "$0"; cat "$SRC/versions.txt"; cc --version | head -1; c++ --version | head -1; ldd --version 2>&1 | head -1
    uname -m; } | sha256 | cut -c1-12
}
sha256() { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi; } # macOS has only shasum

cmake_static() { # <source dir> <build dir> [cmake args...]
  local src=$1 bld=$2; shift 2
  # Absolute install dirs: libjpeg-turbo resolves a relative CMAKE_INSTALL_LIBDIR against the working directory.
  cmake -S "$src" -B "$bld" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -DCMAKE_INSTALL_LIBDIR="$PREFIX/lib" -DCMAKE_INSTALL_INCLUDEDIR="$PREFIX/include" -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF \
    -DCMAKE_C_FLAGS="$CFLAGS_PIC" -DCMAKE_CXX_FLAGS="$CFLAGS_PIC" -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DCMAKE_FIND_PACKAGE_NO_SYSTEM_PACKAGE_REGISTRY=ON "$@" > "$bld.configure.log"
  cmake --build "$bld" -j "$JOBS" > "$bld.build.log"
  cmake --install "$bld" > /dev/null
}

build() {
  local k; k=$(key)
  local out=$CACHE/prebuild-deps/$k
  PREFIX=$out/prefix
  if [ -f "$out/done" ]; then log "cached: $out"; return; fi
  rm -rf "$out"; mkdir -p "$out/build" "$PREFIX/lib" "$PREFIX/include"
  local B=$out/build t0=$SECONDS
  cp "$SRC/versions.txt" "$out/versions.txt"

  log "zlib"
  rm -rf "$B/zlib"; cp -a "$(src_of zlib)" "$B/zlib"
  (cd "$B/zlib" && CFLAGS="$CFLAGS_PIC" ./configure --static --prefix="$PREFIX" --libdir="$PREFIX/lib" >/dev/null &&
    make -j "$JOBS" libz.a >/dev/null && make install >/dev/null)
  # Both spellings: CMake's FindZLIB/FindJPEG build their imported targets from the *_RELEASE variables.
  local Z=(-DZLIB_LIBRARY="$PREFIX/lib/libz.a" -DZLIB_LIBRARY_RELEASE="$PREFIX/lib/libz.a"
    -DZLIB_INCLUDE_DIR="$PREFIX/include")
  local J=(-DJPEG_LIBRARY="$PREFIX/lib/libjpeg.a" -DJPEG_LIBRARY_RELEASE="$PREFIX/lib/libjpeg.a"
    -DJPEG_INCLUDE_DIR="$PREFIX/include")

  log "libpng"
  cmake_static "$(src_of libpng1.6)" "$B/png" "${Z[@]}" -DPNG_SHARED=OFF -DPNG_STATIC=ON -DPNG_TESTS=OFF \
    -DPNG_EXECUTABLES=OFF -DSKIP_INSTALL_PROGRAMS=ON -DSKIP_INSTALL_EXECUTABLES=ON

  log "libjpeg-turbo"
  command -v nasm >/dev/null || [ "$(uname -m)" != x86_64 ] || { log "nasm missing (libjpeg-turbo SIMD)"; exit 1; }
  cmake_static "$(src_of libjpeg-turbo)" "$B/jpeg" -DENABLE_SHARED=OFF -DENABLE_STATIC=ON -DWITH_TURBOJPEG=OFF \
    -DREQUIRE_SIMD=ON

  log "libwebp"
  cmake_static "$(src_of libwebp)" "$B/webp" -DWEBP_BUILD_ANIM_UTILS=OFF -DWEBP_BUILD_CWEBP=OFF \
    -DWEBP_BUILD_DWEBP=OFF -DWEBP_BUILD_GIF2WEBP=OFF -DWEBP_BUILD_IMG2WEBP=OFF -DWEBP_BUILD_VWEBP=OFF \
    -DWEBP_BUILD_WEBPINFO=OFF -DWEBP_BUILD_WEBPMUX=OFF -DWEBP_BUILD_EXTRAS=OFF -DWEBP_BUILD_LIBWEBPMUX=OFF

  log "libtiff"
  cmake_static "$(src_of tiff)" "$B/tiff" "${Z[@]}" "${J[@]}" -Dtiff-tools=OFF -Dtiff-tests=OFF -Dtiff-contrib=OFF -Dtiff-docs=OFF \
    -Dcxx=OFF -Dzlib=ON -Djpeg=ON -Dold-jpeg=OFF -Djpeg12=OFF -Djbig=OFF -Dlerc=OFF -Dlzma=OFF -Dzstd=OFF \
    -Dwebp=OFF -Dlibdeflate=OFF -Dpixarlog=ON

  log "giflib"
  rm -rf "$B/gif"; cp -a "$(src_of giflib)" "$B/gif"
  make -C "$B/gif" -j "$JOBS" CFLAGS="$CFLAGS_PIC -std=gnu99" libgif.a >/dev/null
  cp "$B/gif/libgif.a" "$PREFIX/lib/"; cp "$B/gif/gif_lib.h" "$PREFIX/include/"

  log "opencv (core, imgproc, imgcodecs): the long one"
  cmake_static "$(src_of opencv)" "$B/opencv" "${Z[@]}" "${CV_CPU[@]}" \
    -DBUILD_LIST=core,imgproc,imgcodecs -DENABLE_PIC=ON -DOPENCV_DOWNLOAD_TRIES_LIST= \
    -DBUILD_TESTS=OFF -DBUILD_PERF_TESTS=OFF -DBUILD_EXAMPLES=OFF -DBUILD_opencv_apps=OFF -DBUILD_DOCS=OFF \
    -DBUILD_JAVA=OFF -DBUILD_opencv_python2=OFF -DBUILD_opencv_python3=OFF -DBUILD_opencv_js=OFF \
    -DBUILD_ZLIB=OFF -DBUILD_PNG=OFF -DBUILD_JPEG=OFF -DBUILD_TIFF=OFF -DBUILD_WEBP=OFF -DBUILD_OPENJPEG=OFF \
    -DWITH_PNG=ON -DPNG_LIBRARY="$PREFIX/lib/libpng16.a" -DPNG_LIBRARY_RELEASE="$PREFIX/lib/libpng16.a" \
    -DPNG_PNG_INCLUDE_DIR="$PREFIX/include" \
    -DWITH_JPEG=ON "${J[@]}" \
    -DWITH_TIFF=ON -DTIFF_LIBRARY="$PREFIX/lib/libtiff.a" \
    -DTIFF_LIBRARY_RELEASE="$PREFIX/lib/libtiff.a" -DTIFF_INCLUDE_DIR="$PREFIX/include" \
    -DWITH_WEBP=ON -DWEBP_LIBRARY="$PREFIX/lib/libwebp.a" -DWEBP_INCLUDE_DIR="$PREFIX/include" \
    -DWITH_OPENJPEG=OFF -DWITH_JASPER=OFF -DWITH_OPENEXR=OFF -DWITH_GDAL=OFF -DWITH_GDCM=OFF \
    -DWITH_IMGCODEC_HDR=OFF -DWITH_IMGCODEC_SUNRASTER=OFF -DWITH_IMGCODEC_PFM=OFF -DWITH_IMGCODEC_PXM=OFF \
    -DWITH_IPP=OFF -DWITH_ITT=OFF -DWITH_ADE=OFF -DWITH_OPENCL=OFF -DWITH_TBB=OFF -DWITH_OPENMP=OFF \
    -DWITH_EIGEN=OFF -DWITH_LAPACK=OFF -DWITH_PROTOBUF=OFF -DWITH_QUIRC=OFF -DWITH_FFMPEG=OFF \
    -DWITH_GSTREAMER=OFF -DWITH_V4L=OFF -DWITH_1394=OFF -DWITH_GTK=OFF -DWITH_QT=OFF -DWITH_VTK=OFF \
    -DWITH_OPENGL=OFF -DWITH_VA=OFF -DWITH_VA_INTEL=OFF -DWITH_CUDA=OFF -DWITH_OPENVX=OFF -DWITH_CAROTENE=OFF \
    -DWITH_KLEIDICV=OFF -DWITH_AVIF=OFF -DWITH_IMGCODEC_GIF=OFF -DCV_TRACE=OFF -DENABLE_PRECOMPILED_HEADERS=OFF \
    -DOPENCV_GENERATE_PKGCONFIG=OFF -DINSTALL_C_EXAMPLES=OFF -DOPENCV_ENABLE_NONFREE=OFF \
    -DCMAKE_C_FLAGS="-fvisibility=hidden" -DCMAKE_CXX_FLAGS="-fvisibility=hidden"
  grep -E "To be built|Baseline|Dispatched|Parallel framework|ZLib|JPEG|PNG|TIFF|WEBP" "$B/opencv.configure.log" \
    > "$out/opencv-summary.txt" || true
  # Sources and objects are not needed again; the prefix is what the addon links.
  rm -rf "$B"
  echo "$((SECONDS - t0))" > "$out/seconds"
  touch "$out/done"
  log "built in $((SECONDS - t0)) s: $out"
}

case "${1:-}" in
  fetch) fetch ;;
  build) build ;;
  all) fetch; build ;;
  prefix) echo "$CACHE/prebuild-deps/$(key)/prefix" ;;
  *) echo "usage: $0 fetch|build|all|prefix" >&2; exit 2 ;;
esac
