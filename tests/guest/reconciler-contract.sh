#!/usr/bin/env bash
# The kernel adapter contract against the real kernel: every case in
# tests/contract/cases.ts through DmsetupKernel, first with the remap target
# (when dm-remap loads) and then with the linear fallback, so the generic
# device-mapper semantics are checked even without the module.
# Usage: npm run guest -- tests/guest/reconciler-contract.sh
set -euo pipefail

cd "$(dirname "$0")/../.."
modprobe loop 2>/dev/null || true
modprobe dm-mod 2>/dev/null || true

status=0
echo "== contract: remap target (linear fallback if the module does not load)"
node --import tsx/esm tests/contract/run-real.ts || status=1
echo "== contract: linear fallback"
node --import tsx/esm tests/contract/run-real.ts --linear || status=1
exit "$status"
