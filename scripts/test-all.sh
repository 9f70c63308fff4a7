#!/usr/bin/env bash
# The whole test suite, as README's test command and CI run it:
#   1. build, lint and format check, unit tests (npm test, against the simulated kernel)
#   2. kernel target checks: W=1 builds for every guest kernel, sparse, checkpatch --strict
#   3. the Debian package: built, and lintian-clean (npm run package -- --check)
#   4. deploy/monitoring/: promtool check rules and promtool test rules (scripts/monitoring-check.sh)
#   5. guest tests: the real kernel under qemu, the project's module, real dmsetup
#      (with the package installed and booted in a real Debian userspace)
# Every stage runs even when an earlier one failed, so one run shows every
# failure; the last line totals the tests as "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
passed=0
failed=0
failed_stages=()

# run_stage NAME COMMAND...: run it with output shown live and kept for counting.
run_stage() {
	local name=$1
	shift
	echo "=== $name: $*"
	local start=$SECONDS
	"$@" 2>&1 | tee "$log_dir/$name.log"
	local rc=${PIPESTATUS[0]}
	echo "=== $name: exit $rc after $((SECONDS - start)) s"
	[ "$rc" -eq 0 ] || failed_stages+=("$name")
	return 0
}

# count_tests NAME PASS_REGEX FAIL_REGEX: add a stage's own test counts to the totals;
# a failed stage that printed no count of failures still counts as one failure.
count_tests() {
	local log=$log_dir/$1.log p f
	p=$(grep -Eo "$2" "$log" | grep -Eo '[0-9]+' | tail -n 1)
	f=$(grep -Eo "$3" "$log" | grep -Eo '[0-9]+' | tail -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if printf '%s\n' "${failed_stages[@]}" | grep -qx "$1" && [ "${f:-0}" -eq 0 ]; then
		failed=$((failed + 1))
	fi
}

run_stage unit npm test
count_tests unit '[0-9]+ tests? passed' '[0-9]+ tests? failed'

run_stage kmod-checks npm run --silent lint:kmod
count_tests kmod-checks 'kmod-check: [0-9]+ passed' 'kmod-check: [0-9]+ passed, [0-9]+ failed'

run_stage package npm run --silent package -- --check
count_tests package 'package: [0-9]+ passed' 'package: [0-9]+ passed, [0-9]+ failed'

run_stage monitoring bash scripts/monitoring-check.sh
count_tests monitoring 'monitoring: [0-9]+ passed' 'monitoring: [0-9]+ passed, [0-9]+ failed'

run_stage guest npm run --silent test:guest
count_tests guest 'guest: [0-9]+ passed' 'guest: [0-9]+ passed, [0-9]+ failed'

if [ ${#failed_stages[@]} -gt 0 ]; then
	echo "failed stages: ${failed_stages[*]}"
fi
echo "$passed passed, $failed failed"
[ ${#failed_stages[@]} -eq 0 ]
