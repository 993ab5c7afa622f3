#!/usr/bin/env bash
# Turns a recogniser checkpoint into the bundled models and measures them (numbers for the model card):
#
#   tools/train/ship_rec.sh <checkpoint.pt> [out-dir]      (out-dir: where the JSON reports go; default tools/train/runs/ship)
#
# 1. ONNX export (recogniser contract) -> models/craft-text-recognizer.onnx, checked against torch;
# 2. INT8 by `craft-text quantize` (plain Node): static QDQ convolutions calibrated on 256 synthetic word crops of
#    the generator's val split (recdata.py --write-synth) + dynamic int8 LSTM/MatMul
#    -> models/craft-text-recognizer-int8.onnx, with FP32 vs INT8 on the ICDAR 2013 dev crops;
# 3. tools/train/eval_rec.py: both models on the dev crops (accuracy, speed interleaved) [+ Tesseract with TESS=1];
# 4. craft-text eval --task recognition / ocr on the dev page subsets (the runtime's own crops, end to end), with the
#    model's crop margin (craft.recognizer.margin, train_rec.py CROP_MARGIN) and with --margin 0; end to end the
#    default (INT8, read()'s split-word join off since session 11, crops fitted to the ink) against FP32, against each
#    with the join (--join-gap 0.3) and against crops at the box + margin (--ink-crop off):
#    the default stays INT8 only while it reads as well as FP32 (models/craft-text-recognizer.md#which-is-the-default);
# 5. bench/recognize.js: recognition of a ~180-word FUNSD page against its detection, in one run.
# Environment: TESS=1 (Tesseract side by side), SKIP_E2E=1, SKIP_BENCH=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
CKPT=${1:?checkpoint}
OUT=${2:-tools/train/runs/ship}
mkdir -p "$OUT"
FP32=models/craft-text-recognizer.onnx
INT8=models/craft-text-recognizer-int8.onnx
DEV=tools/train/runs/recdev
CALIB=tools/train/runs/rec-calib
# always rewritten (a few seconds), so the views follow recdata.py (FUNSD's boxes were once written unwidened)
python3 tools/train/recdata.py --write-dev "$DEV"
[ -f "$CALIB/labels.tsv" ] || python3 tools/train/recdata.py --write-synth "$CALIB" --count 256

python3 tools/train/train_rec.py --export "$FP32" --resume "$CKPT" | tee "$OUT/export.txt"
npx tsc -p tsconfig.json
node dist/cli/main.js quantize "$FP32" "$INT8" --calibrate "$CALIB" --eval "$DEV/ic13" --json "$OUT/quantize.json" | tee "$OUT/quantize.txt"
python3 tools/train/eval_rec.py "$FP32" "$INT8" --repeat 3 ${TESS:+--tesseract} --json "$OUT/eval_rec.json" | tee "$OUT/eval_rec.txt"
if [ -z "${SKIP_E2E:-}" ]; then
  for s in ic13 funsd; do
    for m in "$FP32" "$INT8"; do
      tag=$(basename "$m" .onnx)
      node dist/cli/main.js eval --task recognition "$DEV/$s-pages" --recognizer "$m" --json "$OUT/rec-$s-$tag.json" | tee "$OUT/rec-$s-$tag.txt"
    done
    node dist/cli/main.js eval --task recognition "$DEV/$s-pages" --recognizer "$FP32" --margin 0 --json "$OUT/rec-$s-margin0.json" | tee "$OUT/rec-$s-margin0.txt"
    node dist/cli/main.js eval --task recognition "$DEV/$s-pages" --recognizer "$INT8" --ink-crop off --json "$OUT/rec-$s-boxcrop.json" | tee "$OUT/rec-$s-boxcrop.txt"
    node dist/cli/main.js eval --task ocr "$DEV/$s-pages" --recognizer "$INT8" --ink-crop off --json "$OUT/ocr-$s-boxcrop.json" | tee "$OUT/ocr-$s-boxcrop.txt"
    node dist/cli/main.js eval --task ocr "$DEV/$s-pages" --recognizer "$INT8" --json "$OUT/ocr-$s.json" | tee "$OUT/ocr-$s.txt"
    node dist/cli/main.js eval --task ocr "$DEV/$s-pages" --recognizer "$INT8" --join-gap 0.3 --json "$OUT/ocr-$s-join.json" | tee "$OUT/ocr-$s-join.txt"
    node dist/cli/main.js eval --task ocr "$DEV/$s-pages" --recognizer "$FP32" --json "$OUT/ocr-$s-fp32.json" | tee "$OUT/ocr-$s-fp32.txt"
    node dist/cli/main.js eval --task ocr "$DEV/$s-pages" --recognizer "$FP32" --join-gap 0.3 --json "$OUT/ocr-$s-fp32-join.json" | tee "$OUT/ocr-$s-fp32-join.txt"
    node dist/cli/main.js eval --task ocr "$DEV/$s-pages" --recognizer "$INT8" --margin 0 --json "$OUT/ocr-$s-margin0.json" | tee "$OUT/ocr-$s-margin0.txt"
  done
  node dist/cli/main.js eval --task recognition "$DEV/ic15" --recognizer "$FP32" --json "$OUT/rec-ic15.json" | tee "$OUT/rec-ic15.txt"
  node dist/cli/main.js eval --task recognition "$DEV/ic15" --recognizer "$INT8" --json "$OUT/rec-ic15-int8.json" | tee "$OUT/rec-ic15-int8.txt"
fi
if [ -z "${SKIP_BENCH:-}" ]; then
  node bench/recognize.js --model "$FP32" --ocr-recognizer "$FP32" --json > "$OUT/bench-fp32.json" || true
  node bench/recognize.js --model "$INT8" --ocr-recognizer "$INT8" --json > "$OUT/bench-int8.json" || true
  cat "$OUT"/bench-*.json
fi
