#!/usr/bin/env bash
# Builds the native tests (test/native) with AddressSanitizer + UndefinedBehaviorSanitizer and runs them:
#   - postprocess_test: GetDetBoxes parity fixtures (../shared/fixtures/postprocess, skipped if absent), random maps
#   - recognize_test: recognition stages with known answers, random crops and decoder inputs
#   - decode_test: every fixture image and every truncation of it, crafted headers, raw buffers, tiling invariants,
#     GetDetBoxes on tiny maps, and a corpus of mutated images from bench/fuzz.js (FUZZ_COUNT, default 3000)
# Any sanitizer report aborts the run (exit status != 0). Only our code is instrumented; OpenCV, libpng, libjpeg,
# libtiff, libwebp and giflib are the system's (ASan still catches what they do to memory we own, and leaks).
#
#   tools/asan.sh                 (BUILD=build/native-asan FUZZ_COUNT=3000 FUZZ_SEED=7 by default)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build/native-asan}"
FUZZ_COUNT="${FUZZ_COUNT:-3000}"
FUZZ_SEED="${FUZZ_SEED:-7}"
JOBS="${JOBS:-2}"

cmake -S "$ROOT/test/native" -B "$BUILD" -DCRAFT_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target postprocess_test decode_test recognize_test scale_test

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

status=0
FIXTURES="$ROOT/../shared/fixtures/postprocess"
if [ -d "$FIXTURES" ]; then
  echo "== postprocess_test (ASan+UBSan)"
  "$BUILD/postprocess_test" "$FIXTURES" | tail -n 3 || status=1
else
  echo "== postprocess_test skipped: $FIXTURES not present"
fi

echo "== decode_test (ASan+UBSan), corpus: $FUZZ_COUNT mutated inputs, seed $FUZZ_SEED"
rm -rf "$BUILD/corpus"
node "$ROOT/bench/fuzz.js" --dump "$BUILD/corpus" --count "$FUZZ_COUNT" --seed "$FUZZ_SEED"
# Decoders print their complaints about corrupt data to stderr; only the verdict matters here.
"$BUILD/decode_test" "$ROOT/test/fixtures/images" "$BUILD/corpus" 2>"$BUILD/decode_test.stderr" | tail -n 8 || status=1
if grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$BUILD/decode_test.stderr"; then status=1; fi

echo "== recognize_test (ASan+UBSan): PIL resize, crops, decoders, random regions and outputs"
"$BUILD/recognize_test" "$ROOT/test/fixtures/recognition" | tail -n 3 || status=1

echo "== scale_test (ASan+UBSan): scale planning, character split on hand-made region maps"
"$BUILD/scale_test" | tail -n 3 || status=1

if [ "$status" -eq 0 ]; then echo "asan: clean"; else echo "asan: FAILED (see $BUILD/decode_test.stderr)"; fi
exit "$status"
