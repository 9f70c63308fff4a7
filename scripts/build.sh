#!/usr/bin/env bash
# npm run build (and npm's prepare, so a fresh clone's `npm ci` leaves a
# working `npx dm-remap`):
#   1. the schema validator compiled ahead of time, from schemas/ (only
#      rewritten when the schema changed; see scripts/schema-validator-code.ts)
#   2. tsc: type checking, and dist/ for the modules tests and tools import
#   3. the CLI bundled into one file over tsc's dist/reconciler/cli/main.js:
#      the path bin, the guest rig and the tests start, now one file to load
#      instead of ~150 modules resolved and compiled at every start
set -euo pipefail
cd "$(dirname "$0")/.."
node_modules/.bin/tsx scripts/generate-schema-validator.ts
node_modules/.bin/tsc -p tsconfig.json
node_modules/.bin/tsx scripts/bundle.ts --outfile dist/reconciler/cli/main.js
# tsc's source map describes the file the bundle replaced.
rm -f dist/reconciler/cli/main.js.map
