#!/usr/bin/env bash
# Builds @u4/opencv4nodejs against the system OpenCV (no OpenCV download: its auto-build is off) into node_modules,
# unsaved, for test/mat.test.ts's real-Mat case. Not a dependency of craft-text, which reads Mats by duck typing.
# Needs the system OpenCV development files (npm run setup-system) and Node's headers (/usr/include/node, shipped
# with NodeSource's and Debian's nodejs; else node-gyp downloads them). Takes a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${OPENCV4NODEJS_VERSION:-7.1.2}
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
export OPENCV4NODEJS_DISABLE_AUTOBUILD=1
export OPENCV_INCLUDE_DIR=${OPENCV_INCLUDE_DIR:-/usr/include/opencv4}
export OPENCV_LIB_DIR=${OPENCV_LIB_DIR:-/usr/lib/$MULTIARCH}
export OPENCV_BIN_DIR=${OPENCV_BIN_DIR:-/usr/bin}
if [ -f /usr/include/node/node_api.h ]; then export npm_config_nodedir=/usr; fi
# opencv4nodejs compiles a binding for every OpenCV library it finds in OPENCV_LIB_DIR, so it needs the headers of all
# of them: the full libopencv-dev (its README's own instruction), which also gives it imread (the test uses it).
if [ ! -f "$OPENCV_INCLUDE_DIR/opencv2/highgui.hpp" ] || [ ! -f "$OPENCV_INCLUDE_DIR/opencv2/calib3d.hpp" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "opencv4nodejs.sh: installing libopencv-dev (opencv4nodejs needs the headers of every OpenCV module)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libopencv-dev >/dev/null
  else
    echo "opencv4nodejs.sh: opencv4nodejs needs every OpenCV module's headers: install libopencv-dev" >&2; exit 1
  fi
fi
export JOBS=${JOBS:-2}
# Unsaved, scripts off (craft-text's own install hook needn't run); then only this package's build, which takes
# ~7 CPU-minutes: the binary is kept in the cache, keyed by version, system OpenCV and Node ABI (it is a NAN addon).
npm install --no-save --no-audit --no-fund --ignore-scripts "@u4/opencv4nodejs@$VERSION"
CACHE=${CRAFT_TEXT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/craft-text}/opencv4nodejs
KEY="$VERSION-opencv$(dpkg-query -W -f='${Version}' libopencv-dev 2>/dev/null || echo unknown)-abi$(node -p process.versions.modules)"
BUILT=node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node
if [ -f "$CACHE/$KEY/opencv4nodejs.node" ]; then
  mkdir -p "$(dirname "$BUILT")" && cp "$CACHE/$KEY/opencv4nodejs.node" "$BUILT"
else
  nice -n 10 npm rebuild @u4/opencv4nodejs --foreground-scripts
  mkdir -p "$CACHE/$KEY" && cp "$BUILT" "$CACHE/$KEY/opencv4nodejs.node"
fi
node -e "const cv = require('@u4/opencv4nodejs'); console.log('opencv4nodejs ok, OpenCV', cv.version)"
