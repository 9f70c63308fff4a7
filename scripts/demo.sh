#!/usr/bin/env bash
# npm run demo: build the CLI, boot the guest kernel and run the demo in it
# (scripts/demo-guest.sh). Needs scripts/setup.sh to have run once.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
exec bash scripts/vm/guest.sh --timeout 600 scripts/demo-guest.sh
