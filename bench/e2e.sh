#!/bin/sh
# Python reference pipeline vs craft-text, end to end (see bench/e2e.js for the options). Builds the TypeScript first.
set -e
cd "$(dirname "$0")/.."
npx tsc -p . >/dev/null
exec node bench/e2e.js "$@"
