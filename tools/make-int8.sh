#!/usr/bin/env bash
# Makes the INT8 variant of the default model and ships it only if it keeps the accuracy:
#
#   tools/make-int8.sh [fp32.onnx] [out.onnx]        (defaults: models/craft-text-default.onnx -> models/craft-text-default-int8.onnx)
#
# 1. renders calibration images with the training data generator (tools/train/synth.py, training distribution,
#    indices far beyond any training run; needs the data recipe of tools/train/fonts.sh);
# 2. `craft-text quantize` (plain Node: static QDQ, uint8 activations, int8 per-channel weights), then scores FP32 and
#    INT8 on both development sets in one interleaved run (H-mean, ICDAR 2015 IoU 0.5) and times them;
# 3. keeps the INT8 model only if H-mean drops by at most MAX_DROP (0.01) on every set, and writes its model card
#    (<out>.md) from the measured numbers. Exit code 1 (nothing shipped) otherwise.
#
# Environment: CALIB_IMAGES (64), CALIB_SIZE (768), CALIB_DIR (a temporary folder), MAX_DROP (0.01),
# DATA (../shared/data), QUANTIZE_FLAGS (extra flags for craft-text quantize, e.g. "--method minmax").
set -euo pipefail
cd "$(dirname "$0")/.."
FP32=${1:-models/craft-text-default.onnx}
OUT=${2:-models/craft-text-default-int8.onnx}
N=${CALIB_IMAGES:-64}
SIZE=${CALIB_SIZE:-768}
MAX_DROP=${MAX_DROP:-0.01}
DATA=${DATA:-../shared/data}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CALIB=${CALIB_DIR:-$WORK/calib}

[ -f "$FP32" ] || { echo "make-int8: no FP32 model at $FP32 (train and export it first: docs/training.md)" >&2; exit 1; }
npm run build:ts >/dev/null  # dist/ with the quantize command

if [ -z "$(ls -A "$CALIB" 2>/dev/null)" ]; then
  echo "rendering $N calibration images (${SIZE}px) into $CALIB"
  nice -n 10 python3 - "$CALIB" "$N" "$SIZE" <<'EOF'
import os, sys
sys.path.insert(0, 'tools/train')
from PIL import Image
from synth import Assets, Synth
out, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out, exist_ok=True)
synth = Synth(size, 0, Assets.load())
for i in range(n):
    s = synth.sample(9_000_000 + i, 'train')  # training distribution, far beyond any training index
    Image.fromarray(s['image']).save(os.path.join(out, f'{i:03d}-{s["layout"]}.png'))
EOF
fi

REPORT="$WORK/report.json"
set +e
# shellcheck disable=SC2086
node dist/cli/main.js quantize "$FP32" "$WORK/int8.onnx" --calibrate "$CALIB" --calib-limit "$N" \
  --eval "$DATA/icdar2013_born_digital" --eval "$DATA/funsd_train" --max-hmean-drop "$MAX_DROP" --json "$REPORT" ${QUANTIZE_FLAGS:-}
status=$?
set -e
KEEP_REPORT=${TMPDIR:-/tmp}/make-int8-report.json
cp "$REPORT" "$KEEP_REPORT" 2>/dev/null || true
if [ $status -ne 0 ]; then
  echo "make-int8: not shipped (report: $KEEP_REPORT)" >&2
  exit 1
fi
mkdir -p "$(dirname "$OUT")"
mv "$WORK/int8.onnx" "$OUT"

node - "$REPORT" "$FP32" "$OUT" "$N" "$SIZE" > "${OUT%.onnx}.md" <<'EOF'
const fs = require('fs');
const [file, fp32, out, n, size] = process.argv.slice(2);
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const p = (x) => (x * 100).toFixed(2);
const rows = r.comparisons.map((c) => {
  const [a, b] = c.rows;
  return `| ${c.dataset.split('/').pop()} (${c.images}) | ${p(a.precision)} / ${p(a.recall)} / **${p(a.hmean)}** | ` +
    `${p(b.precision)} / ${p(b.recall)} / **${p(b.hmean)}** | ${(b.hmean - a.hmean >= 0 ? '+' : '') + (b.hmean - a.hmean).toFixed(4)} | ` +
    `${a.inference.median.toFixed(0)} / ${b.inference.median.toFixed(0)} ms | ${c.speedup[1].medianRatio.toFixed(2)}x |`;
});
const q = r.report;
process.stdout.write(`# ${out.split('/').pop()}: INT8 variant of ${fp32.split('/').pop()}

\`Detector.create({ model: 'default-int8' })\`. Made by \`tools/make-int8.sh\` on ${new Date().toISOString().slice(0, 10)};
the numbers below are that run's (docs/serving.md explains the method).

- **Quantization**: ${q.mode} QDQ, uint8 asymmetric activations (${q.method}${q.percentile ? ' ' + q.percentile : ''}, calibrated on ${q.calibrationImages}
  synthetic ${size}px images from tools/train/synth.py, training distribution, seed 0, indices 9,000,000+), int8 symmetric
  per-channel weights, int32 biases. ${q.rewrite.quantizedConvs} convolutions in int8; in float: ${q.rewrite.floatConvs.map((f) => f.name.replace(/^\//, '')).join(', ')}
  (narrow layers run faster in float in ONNX Runtime; the score head keeps full precision). ${(q.bytesOut / 1e6).toFixed(2)} MB (FP32 ${(q.bytesIn / 1e6).toFixed(2)} MB).
- **Runs on** any ONNX Runtime CPU build (QDQ is standard ONNX); fastest on CPUs with VNNI (AVX512-VNNI / AVX-VNNI).
  Without VNNI the u8s8 products can saturate: re-quantize with \`--reduce-range\` there.
- **Thresholds**: the FP32 model's metadata defaults are kept.

| set (images) | FP32 P / R / H-mean | INT8 P / R / H-mean | H-mean delta | inference median FP32 / INT8 | speed-up |
|---|---|---|---|---|---|
${rows.join('\n')}

(ICDAR 2015 protocol, IoU 0.5, default thresholds; both models in one run, interleaved per image; speed-up = median
over images of FP32 / INT8 inference time, 2 cores, ONNX Runtime's default threads.)
`);
EOF
echo "shipped $OUT and ${OUT%.onnx}.md"
