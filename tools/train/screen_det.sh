#!/usr/bin/env bash
# A cheap screen of a detector candidate before the full acceptance check (tools/train/accept_det.sh, ~40 min):
# the rows that fine-tuned candidates lost (scale 0.5x and 2x, characters), in ~10 min on one core.
#
#   tools/train/screen_det.sh <candidate.onnx> <reports dir> [bundled model's reports dir]
#
# 1. `craft-text tune` on the first TUNE_LIMIT (default 100) train pages of each set (accept_det.sh: all of them);
# 2. `tune --scale` on the first 8 train pages of each set into the same tuned.onnx, as accept_det.sh;
# 3. bench/characters.js; 4. bench/scale.js --dev --limit 15 at FACTORS (default 0.5,2), fixed and auto;
# 5. the rows against the bundled model's (its scale-base.json / chars-base.json from an accept_det.sh reports dir,
#    e.g. made with BASE_ONLY=1; the screen's factors must be among theirs).
# The dev-page rows (bench/finetune.js) take several candidates in one run: `--candidate a --candidate b --modes fixed`.
# `train-pages` is reused when the reports dir has it (a symlink to another reports dir's works).
set -euo pipefail
cd "$(dirname "$0")/../.."
CAND=${1:?usage: tools/train/screen_det.sh <candidate.onnx> <reports dir> [base reports dir]}
R=${2:?reports dir}
B=${3:-}
THREADS=${THREADS:-1}
mkdir -p "$R"
[ -d "$R/train-pages" ] || python3 tools/train/train_pages.py "$R/train-pages"
node dist/cli/main.js tune "$R"/train-pages/* --limit "${TUNE_LIMIT:-100}" --threads "$THREADS" --model "$CAND" \
  --write "$R/tuned.onnx" --json "$R/tune.json" > "$R/tune.txt"
node dist/cli/main.js tune "$R"/train-pages/* --scale --limit "${SCALE_LIMIT:-8}" --threads "$THREADS" \
  --model "$R/tuned.onnx" --write "$R/tuned.onnx" --json "$R/scale-calib.json" > "$R/scale-calib.txt"
node bench/characters.js --model "$R/tuned.onnx" --json > "$R/chars-cand.json"
node bench/scale.js --dev --limit 15 --factors "${FACTORS:-0.5,2}" --model "$R/tuned.onnx" --threads "$THREADS" \
  --json > "$R/scale-cand.json"
grep '^best' "$R/tune.txt"
[ -n "$B" ] || exit 0
node - "$R" "$B" <<'JS'
const fs = require('node:fs');
const [dir, base] = process.argv.slice(2);
const read = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const show = (name, b, c) => console.log(`${name.padEnd(40)} ${b.toFixed(3)} -> ${c.toFixed(3)} (${c >= b ? '+' : ''}${(c - b).toFixed(3)})`);
const sb = read(`${base}/scale-base.json`).rows;
for (const c of read(`${dir}/scale-cand.json`).rows) {
  const b = sb.find((r) => r.set === c.set && r.factor === c.factor);
  if (!b) throw new Error(`${base}/scale-base.json has no ${c.set} x${c.factor} row`);
  show(`scale ${c.set} x${c.factor} fixed`, b.hmeanFixed, c.hmeanFixed);
  show(`scale ${c.set} x${c.factor} auto`, b.hmeanAuto, c.hmeanAuto);
}
const [cb, cc] = [read(`${base}/chars-base.json`).characters, read(`${dir}/chars-cand.json`).characters];
show('characters precision', cb.precision, cc.precision);
show('characters recall', cb.recall, cc.recall);
JS
