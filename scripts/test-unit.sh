#!/usr/bin/env bash
# npm test: build, lint and format check, then the unit tests.
# eslint and prettier need no build, and they and tsc are each one busy
# thread: lint runs beside the build, so on two cores the pair takes the time
# of the longer, not of both. ava starts only once both are done, so its
# timing-sensitive tests never share the CPU with them. The generated schema
# validator is written first: lint reads it, and must never see it half-written.
# Exits non-zero when any step failed; lint's output is shown after the build's.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

lint_log="$(mktemp)"
trap 'rm -f "$lint_log"' EXIT

node_modules/.bin/tsx scripts/generate-schema-validator.ts || exit 1
npm run --silent lint >"$lint_log" 2>&1 &
lint_pid=$!
build_status=0
bash scripts/build.sh || build_status=$?
lint_status=0
wait "$lint_pid" || lint_status=$?
cat "$lint_log"
if ((build_status != 0)); then
	echo "npm test: the build failed (exit $build_status)" >&2
	exit 1
fi
if ((lint_status != 0)); then
	echo "npm test: eslint or prettier --check failed (exit $lint_status)" >&2
	exit 1
fi
exec node_modules/.bin/ava
