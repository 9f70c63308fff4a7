#!/usr/bin/env bash
# npm run test:guest: everything that needs a real kernel. Builds dm-remap.ko
# for both kernels (W=1, warnings fail), compiles the TypeScript (guest tests
# run the CLI from dist/), then runs the rig's own failure-handling tests
# (tests/rig.test.ts) and each tests/guest/*.sh in its own fresh guest, a few
# at a time. Ends with the line "guest: N passed, N failed".
#
# Usage: npm run test:guest [-- [--kernel K] [--jobs N] [TEST...]]
#   --kernel K   boot K for every guest test (default 6.1; see guest.sh)
#   --jobs N     run N guests at once (default: number of CPUs, at most 4);
#                each test's output is printed as a block when it ends
#   TEST         run only these (default: tests/rig.test.ts tests/guest/*.sh)
#
# A guest script declares what it needs in header comments:
#   # guest: --disk main=64M --disk spare=16M      options for guest.sh (a
#                       value not starting with "-" is a note: no options)
#   # guest-boots: 2    boot N times on the same --state-dir (a reboot test);
#                       the script gets the boot number (1..N) as argument
# tests/guest/*.host.sh run on the host instead and boot guests themselves
# (npm run guest); --kernel reaches them as DM_REMAP_GUEST_KERNEL.
set -euo pipefail
cd "$(dirname "$0")/.."

kernel_args=()
kernel="${DM_REMAP_GUEST_KERNEL:-6.1}"
jobs="$(nproc)"
((jobs <= 4)) || jobs=4
tests=()
while (($#)); do
	case "$1" in
	--kernel) kernel="${2:?}" && shift ;;
	--jobs) jobs="${2:?}" && shift ;;
	-*) echo "guest-tests: unknown option $1" >&2 && exit 2 ;;
	*) tests+=("$1") ;;
	esac
	shift
done
if ((${#tests[@]} == 0)); then
	shopt -s nullglob
	tests=(tests/rig.test.ts tests/guest/*.sh)
	shopt -u nullglob
fi

kernel_args=(--kernel "$kernel")
# The runner's own failure-handling tests boot six guests one after another;
# they take one job slot alongside the guest scripts rather than running first.
RIG_TESTS=tests/rig.test.ts

results_dir="$(mktemp -d "${TMPDIR:-/tmp}/dm-remap-guest-tests.XXXXXX")"
trap 'rm -rf "$results_dir"' EXIT
passed=0
failed=0
failures=()

record() {
	local name="$1" status="$2"
	if [[ "$status" == 0 ]]; then
		passed=$((passed + 1))
		echo "guest-tests: PASS $name"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "guest-tests: FAIL $name (exit $status)"
	fi
}

# A header value of SCRIPT, e.g. header_value FILE guest -> "--disk a=1M".
header_value() {
	sed -n "s/^# $2: //p" "$1" | head -n1
}

# Boots SCRIPT in a guest (as many times as its header asks, on one state
# dir); returns the first failing boot's status.
run_guest_script() {
	local script="$1" state="$2" header boots boot status=0
	local -a options=()
	header="$(header_value "$script" guest)"
	[[ "$header" != -* ]] || read -r -a options <<<"$header"
	boots="$(header_value "$script" guest-boots)"
	boots="${boots:-1}"
	for ((boot = 1; boot <= boots; boot++)); do
		local -a boot_arg=()
		((boots == 1)) || boot_arg=("$boot")
		echo "guest-tests: --- $script (boot $boot of $boots)"
		bash scripts/vm/guest.sh "${kernel_args[@]}" --state-dir "$state" "${options[@]}" "$script" "${boot_arg[@]}" ||
			return $?
	done
}

run_item() {
	local item="$1" state="$2"
	case "$item" in
	"$RIG_TESTS") DM_REMAP_GUEST_TESTS=1 npx ava "$item" ;;
	*.host.sh) DM_REMAP_GUEST_KERNEL="$kernel" bash "$item" ;;
	*) run_guest_script "$item" "$state" ;;
	esac
}

# Runs one test item in the background: its output goes to results_dir/ID.log
# and its exit status to results_dir/ID.status (the counters belong to the
# foreground shell).
run_job() {
	local item="$1" id="$2" state status=0 started=$SECONDS
	state="$(mktemp -d "$results_dir/state.XXXXXX")"
	{
		echo "guest-tests: --- $item"
		run_item "$item" "$state" || status=$?
		echo "guest-tests: --- $item took $((SECONDS - started)) s"
	} >"$results_dir/$id.log" 2>&1
	rm -rf "$state"
	echo "$status" >"$results_dir/$id.status"
}

started=$SECONDS

for build_kernel in 6.1 6.12; do
	status=0
	bash scripts/kmod-build.sh --quiet "$build_kernel" >/dev/null || status=$?
	record "kmod build ($build_kernel, W=1)" "$status"
done

status=0
npx tsc -p tsconfig.json || status=$?
record "TypeScript build (dist/ for the guest's dm-remap CLI)" "$status"

# Test items, up to $jobs at a time; each prints its block when it ends.
declare -A running=()
print_finished() {
	local id
	for id in "${!running[@]}"; do
		[[ -f "$results_dir/$id.status" ]] || continue
		cat "$results_dir/$id.log"
		record "${running[$id]}" "$(cat "$results_dir/$id.status")"
		unset "running[$id]"
	done
}
i=0
for script in "${tests[@]}"; do
	while ((${#running[@]} >= jobs)); do
		wait -n || true
		print_finished
	done
	i=$((i + 1))
	running[$i]="$script"
	run_job "$script" "$i" &
done
wait || true
print_finished

echo "guest-tests: took $((SECONDS - started)) s${failures[*]:+; failed: ${failures[*]}}"
echo "guest: $passed passed, $failed failed"
((failed == 0))
