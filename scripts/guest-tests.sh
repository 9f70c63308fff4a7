#!/usr/bin/env bash
# npm run test:guest: everything that needs a real kernel. Builds dm-remap.ko
# for both kernels (W=1, warnings fail), builds dist/ with the CLI bundle
# (guest tests run the CLI from dist/), then runs the rig's own
# failure-handling tests (tests/rig.test.ts) and each tests/guest/*.sh in its
# own fresh guest, a few at a time. Ends with the line "guest: N passed, N failed".
#
# Usage: npm run test:guest [-- [--kernel K] [--kind KIND] [--jobs N] [--list] [TEST...]]
#   --kernel K   run every guest test on K only (6.1, 6.12 or a fetched
#                release), also those whose header lists other kernels;
#                env DM_REMAP_GUEST_KERNEL does the same. Default: each test
#                on the kernels of its guest-kernels header, 6.1 without one
#   --kind KIND  run tests with a guest-kinds header over KIND only (those
#                whose header lacks KIND are skipped); others run as usual
#   --jobs N     run N items at once (default: number of CPUs, at most 4);
#                each item's output is printed as a block when it ends
#   --list       print the items (one per line, as they would be named) and
#                exit without building or booting anything
#   -h, --help   this text
#   TEST         run only these (default: tests/rig.test.ts tests/guest/*.sh)
#
# A guest script declares what it needs in header comments:
#   # guest: --disk main=64M --disk spare=16M      options for guest.sh (a
#                       value not starting with "-" is a note: no options)
#   # guest-boots: 2    boot N times on the same --state-dir (a reboot test);
#                       the script gets the boot number (1..N) as argument
#   # guest-kinds: dmstack nullb scsi
#                       run the script once per kind of main device, with
#                       DM_REMAP_MAIN_KIND=KIND in its environment
#                       (tests/guest/lib/mains.sh)
#   # guest-kernels: 6.1 6.12
#                       run the script once per kernel
#   # guest-cost: 600   about how many seconds one item takes (default 30):
#                       items start longest first, so a long one never runs
#                       alone at the end while the other job slots sit idle
# Both combine: each kind on each kernel is one item, in its own fresh
# guest(s), scheduled like any other; it is named "SCRIPT [KIND, KERNEL]"
# ("SCRIPT [KERNEL]" with guest-kernels only) in PASS/FAIL lines; its
# output block ends with its wall time ("--- NAME took N s").
# tests/guest/*.host.sh run on the host instead and boot guests themselves
# (npm run guest): they get the same headers, receive DM_REMAP_GUEST_KERNEL
# and DM_REMAP_MAIN_KIND in their environment and must pass them on
# (guest.sh reads the first itself; the second needs --env).
set -euo pipefail
cd "$(dirname "$0")/.."

DEFAULT_KERNEL=6.1
# An explicit kernel (option or environment) overrides every header.
kernel="${DM_REMAP_GUEST_KERNEL:-}"
only_kind=""
list_only=0
jobs="$(nproc)"
((jobs <= 4)) || jobs=4
tests=()
while (($#)); do
	case "$1" in
	--kernel) kernel="${2:?}" && shift ;;
	--kind) only_kind="${2:?}" && shift ;;
	--jobs) jobs="${2:?}" && shift ;;
	--list) list_only=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
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

# The items: one per script, or one per kind x kernel of a script whose
# header asks for them. Parallel arrays, indexed alike.
item_script=()
item_kind=()
item_kernel=()
item_name=()
add_items() { # SCRIPT
	local script="$1" kinds kernels kind k suffix
	local -a kind_list=("") kernel_list=("${kernel:-$DEFAULT_KERNEL}")
	[[ -f "$script" ]] || {
		echo "guest-tests: no such test: $script" >&2
		exit 2
	}
	kinds="" kernels=""
	if [[ "$script" == *.sh ]]; then
		kinds="$(header_value "$script" guest-kinds)"
		kernels="$(header_value "$script" guest-kernels)"
	fi
	if [[ -n "$kinds" ]]; then
		read -r -a kind_list <<<"$kinds"
		if [[ -n "$only_kind" ]]; then
			[[ " $kinds " == *" $only_kind "* ]] || {
				echo "guest-tests: skipping $script: its guest-kinds ($kinds) lack $only_kind" >&2
				return 0
			}
			kind_list=("$only_kind")
		fi
	fi
	[[ -n "$kernel" || -z "$kernels" ]] || read -r -a kernel_list <<<"$kernels"
	for kind in "${kind_list[@]}"; do
		for k in "${kernel_list[@]}"; do
			suffix=""
			[[ -z "$kinds$kernels" ]] || suffix=" [${kind:+$kind, }$k]"
			item_script+=("$script")
			item_kind+=("$kind")
			item_kernel+=("$k")
			item_name+=("$script$suffix")
		done
	done
}
for script in "${tests[@]}"; do
	add_items "$script"
done

# The order items start in: by guest-cost, longest first; equal costs keep
# the order they were given in (sort -s).
DEFAULT_COST=30
RIG_TESTS_COST=80
item_order=()
while read -r _ i; do
	item_order+=("$i")
done < <(
	for i in "${!item_name[@]}"; do
		script="${item_script[$i]}" cost=""
		if [[ "$script" == "$RIG_TESTS" ]]; then
			cost=$RIG_TESTS_COST
		elif [[ "$script" == *.sh ]]; then
			cost="$(header_value "$script" guest-cost)"
		fi
		[[ "$cost" =~ ^[0-9]+$ ]] || cost=$DEFAULT_COST
		printf '%s %s\n' "$cost" "$i"
	done | sort -s -k1,1nr
)
if ((list_only)); then
	for i in "${item_order[@]}"; do
		printf '%s\n' "${item_name[$i]}"
	done
	exit 0
fi

# Boots SCRIPT in a guest (as many times as its header asks, on one state
# dir) on KERNEL, with DM_REMAP_MAIN_KIND=KIND when KIND is set; returns the
# first failing boot's status.
run_guest_script() {
	local script="$1" kind="$2" k="$3" state="$4" header boots boot
	local -a options=(--kernel "$k")
	[[ -z "$kind" ]] || options+=(--env "DM_REMAP_MAIN_KIND=$kind")
	header="$(header_value "$script" guest)"
	if [[ "$header" == -* ]]; then
		local -a header_options
		read -r -a header_options <<<"$header"
		options+=("${header_options[@]}")
	fi
	boots="$(header_value "$script" guest-boots)"
	boots="${boots:-1}"
	for ((boot = 1; boot <= boots; boot++)); do
		local -a boot_arg=()
		((boots == 1)) || boot_arg=("$boot")
		echo "guest-tests: --- $script (boot $boot of $boots)"
		bash scripts/vm/guest.sh --state-dir "$state" "${options[@]}" "$script" "${boot_arg[@]}" ||
			return $?
	done
}

# Runs item I with STATE as its state dir.
run_item() {
	local i="$1" state="$2" script="${item_script[$1]}" kind="${item_kind[$1]}" k="${item_kernel[$1]}"
	case "$script" in
	"$RIG_TESTS") DM_REMAP_GUEST_TESTS=1 npx ava "$script" ;;
	*.host.sh)
		if [[ -n "$kind" ]]; then
			DM_REMAP_GUEST_KERNEL="$k" DM_REMAP_MAIN_KIND="$kind" bash "$script"
		else
			DM_REMAP_GUEST_KERNEL="$k" bash "$script"
		fi
		;;
	*) run_guest_script "$script" "$kind" "$k" "$state" ;;
	esac
}

# Runs item I in the background: its output goes to results_dir/I.log and
# its exit status to results_dir/I.status (the counters belong to the
# foreground shell).
run_job() {
	local i="$1" name="${item_name[$1]}" state status=0 started=$SECONDS
	state="$(mktemp -d "$results_dir/state.XXXXXX")"
	{
		echo "guest-tests: --- $name"
		run_item "$i" "$state" || status=$?
		echo "guest-tests: --- $name took $((SECONDS - started)) s"
	} >"$results_dir/$i.log" 2>&1
	rm -rf "$state"
	echo "$status" >"$results_dir/$i.status"
}

started=$SECONDS

for build_kernel in 6.1 6.12; do
	status=0
	bash scripts/kmod-build.sh --quiet "$build_kernel" >/dev/null || status=$?
	record "kmod build ($build_kernel, W=1)" "$status"
done

# npm run build, not tsc alone: tsc writes dist/reconciler/cli/main.js as
# one module of ~150, which the bundle step replaces with the single file
# the package and bin run. A guest running tsc's main.js tests a CLI nobody
# ships, and starts it two to three times slower under TCG.
status=0
bash scripts/build.sh || status=$?
record "TypeScript build and CLI bundle (dist/ for the guest's dm-remap CLI)" "$status"
# The bundle has every module inlined: a relative import left in main.js means tsc's file is there.
status=0
if grep -qE "^import .* from '\./" dist/reconciler/cli/main.js; then
	echo "guest-tests: dist/reconciler/cli/main.js imports relative modules: it is tsc's output, not the bundle" >&2
	status=1
fi
record "the guests' dm-remap CLI is the bundle" "$status"

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
for i in "${item_order[@]}"; do
	while ((${#running[@]} >= jobs)); do
		wait -n || true
		print_finished
	done
	running[$i]="${item_name[$i]}"
	run_job "$i" &
done
wait || true
print_finished

echo "guest-tests: took $((SECONDS - started)) s${failures[*]:+; failed: ${failures[*]}}"
echo "guest: $passed passed, $failed failed"
((failed == 0))
