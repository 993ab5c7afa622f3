#!/usr/bin/env bash
# Post-processing bench: the official CRAFT-pytorch getDetBoxes (bench/reference_postprocess.py, numpy + cv2) and
# craft::GetDetBoxes (bench/postprocess_native.cc) on the same heatmaps, median milliseconds side by side.
#
#   bench/postprocess.sh [FIXTURES_DIR] [CASE]
#   env: RUNS_NATIVE (default 300), RUNS_REFERENCE (default 20), BUILD_DIR (default build/native),
#        PYTHON (default python3; the interpreter whose numpy/opencv-python runs the reference)
#
# Numbers in bench/postprocess.md come from this script. Needs cmake, a C++17 compiler, OpenCV (core, imgproc)
# development files, nlohmann-json (the native test target is built alongside), and python3 with numpy + opencv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FIXTURES="${1:-$ROOT/../shared/fixtures/postprocess}"
CASE="${2:-doc_dense}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build/native}"
PYTHON="${PYTHON:-python3}"

cmake -S "$ROOT/test/native" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j2 --target postprocess_bench >/dev/null

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
native="$("$BUILD_DIR/postprocess_bench" "$FIXTURES" "$CASE" "${RUNS_NATIVE:-300}")"
echo "$native"
reference="$("$PYTHON" "$ROOT/bench/reference_postprocess.py" "$FIXTURES" --case "$CASE" --runs "${RUNS_REFERENCE:-20}")"
echo "$reference"

median() { sed -n "s/^$1 $CASE poly=$2 median_ms=\([0-9.]*\).*/\1/p"; }
for poly in 0 1; do
  n="$(median native "$poly" <<<"$native")"
  r="$(median reference "$poly" <<<"$reference")"
  awk -v p="$poly" -v n="$n" -v r="$r" -v c="$CASE" \
    'BEGIN { printf "%s polygons=%s: reference %.1f ms, native %.3f ms, %.0fx faster\n", c, (p ? "on" : "off"), r, n, r / n }'
done
