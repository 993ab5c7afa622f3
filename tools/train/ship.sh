#!/usr/bin/env bash
# Ships a trained checkpoint as the bundled default model, with every number its model card needs:
#
#   tools/train/ship.sh tools/train/runs/w025c/last_slim.pt [out.onnx]     (out: models/craft-text-default.onnx)
#
# 1. exports the checkpoint to ONNX (tools/train/train.py --export; verified against torch);
# 2. `craft-text tune` on both development sets (mean H-mean, ICDAR 2015 IoU 0.5): the best textThreshold /
#    linkThreshold / lowText go into the model's ONNX metadata as its defaults;
# 3. `craft-text eval` of the shipped model on both sets and on an inverted copy of the born-digital set, at CRAFT's
#    test.py thresholds (0.7 / 0.4 / 0.4) and at the tuned defaults;
# 4. inference at 768x768 against the full-size CRAFT network (random weights, same topology), interleaved.
# Reports go to $REPORTS (default /tmp/craft-ship). Needs: npm ci (dist/, addon), the training tools' Python packages.
set -euo pipefail
cd "$(dirname "$0")/../.."
CKPT=${1:?usage: tools/train/ship.sh <checkpoint.pt> [out.onnx]}
OUT=${2:-models/craft-text-default.onnx}
DATA=${DATA:-../shared/data}
REPORTS=${REPORTS:-/tmp/craft-ship}
BD=$DATA/icdar2013_born_digital
FUNSD=$DATA/funsd_train
mkdir -p "$REPORTS"
npm run build:ts >/dev/null

python3 tools/train/train.py --export "$REPORTS/exported.onnx" --resume "$CKPT"
node dist/cli/main.js tune "$BD" "$FUNSD" --model "$REPORTS/exported.onnx" --json "$REPORTS/tune.json" \
  --write "$REPORTS/tuned.onnx" | tee "$REPORTS/tune.txt"
cp "$REPORTS/tuned.onnx" "$OUT"

[ -d "$REPORTS/bd_inverted" ] || python3 tools/invert-dataset.py "$BD" "$REPORTS/bd_inverted"
for set in "$BD" "$FUNSD" "$REPORTS/bd_inverted"; do
  name=$(basename "$set")
  node dist/cli/main.js eval "$set" --model "$OUT" --json "$REPORTS/eval-$name-tuned.json" | tee "$REPORTS/eval-$name-tuned.txt"
  node dist/cli/main.js eval "$set" --model "$OUT" --text-threshold 0.7 --link-threshold 0.4 --low-text 0.4 \
    --json "$REPORTS/eval-$name-craft.json" | tee "$REPORTS/eval-$name-craft.txt"
done

[ -f "$REPORTS/craft-full.onnx" ] || python3 - "$REPORTS/craft-full.onnx" <<'PY'
import sys
sys.path.insert(0, 'tools/train')
import torch
from train import build_model, export_onnx
torch.manual_seed(0)
export_onnx(build_model(1.0), sys.argv[1])  # full-size CRAFT (width 1.0), random weights: same FLOPs as the official
PY
node bench/model_speed.js "$OUT" "$REPORTS/craft-full.onnx" --runs 10 | tee "$REPORTS/speed.txt"
echo "shipped $OUT; reports in $REPORTS"
