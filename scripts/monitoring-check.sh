#!/usr/bin/env bash
# Checks deploy/monitoring/: the alerting rules with `promtool check rules` and
# their unit tests with `promtool test rules` (Debian's prometheus package,
# installed by scripts/setup.sh). On a developer machine without promtool it
# says so and skips; in CI (CI set) a missing promtool is a failure.
# Prints "monitoring: N passed, N failed".
set -uo pipefail
cd "$(cd "${BASH_SOURCE[0]%/*}" && pwd)/../deploy/monitoring" || exit 1

if ! command -v promtool >/dev/null; then
	if [[ -n ${CI:-} ]]; then
		echo "monitoring: promtool not found (scripts/setup.sh installs Debian's prometheus package)" >&2
		echo "monitoring: 0 passed, 1 failed"
		exit 1
	fi
	echo "monitoring: SKIPPED: promtool not found; apt-get install prometheus (CI never skips this)"
	echo "monitoring: 0 passed, 0 failed"
	exit 0
fi

passed=0
failed=0
check() {
	echo "--- $*"
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
check promtool check rules dm-remap.rules.yml
check promtool test rules dm-remap.rules.test.yml
echo "monitoring: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
