#!/usr/bin/env bash
# guest: (no disks: loop devices in the guest's tmpfs)
# guest-cost: 50
# The kernel adapter contract against the real kernel: every case in
# tests/contract/cases.ts through DmsetupKernel, with the remap target when
# dm-remap loads and with the linear fallback (generic device-mapper
# semantics, remap-only cases skipped) when it does not or when asked to.
# Usage: npm run guest -- tests/guest/reconciler-contract.sh [--linear] [FILTER]
set -euo pipefail

cd "$(dirname "$0")/../.."
exec node --import tsx/esm tests/contract/run-real.ts "$@"
