#!/usr/bin/env bash
# The guest half of `npm run bench`: the figures of issue 11 that need the
# real kernel (the reconciler over real dmsetup and the remap target's I/O),
# each bench/guest/*.sh run in its own fresh qemu guest through the rig
# (scripts/vm/guest.sh, with the options of the script's "# guest:" header).
#
# Usage: bash bench/guest.sh [--tree DIR] [--quick] [SCRIPT...]
#   --tree DIR  measure the checkout DIR (built: DIR/dist is what runs, and
#               DIR's rig boots DIR's kmod/) with this checkout's benchmarks:
#               they are copied into DIR/.cache/bench/ for the run and
#               removed afterwards. Default: this checkout.
#   --quick     fewer repetitions
#   SCRIPT      names under bench/guest/ (default: reconciler io)
#
# Builds bench/blkio.c and bench/dm-message.c on the host (the guest has no
# compiler and runs the host's binaries), boots one guest at a time, shows
# the guests' consoles on stderr, and prints on stdout one line per figure:
#   BENCH_RESULT {"id":"P2a","label":...,"value":N,"unit":...,
#     "baselineLabel":...,"baseline":N,"ratio":N,"target":"<= 0.25",
#     "met":true,"spread":"lo..hi","extra":{...}}
# "spread" is the range of the per-round ratios (or values) behind a median.
# A figure with an absolute target has baseline and ratio null and its
# target applies to value; a figure reported for reading only has target
# and met null. The guests write the figures to a file on the shared
# checkout, which is read back here (kernel messages can interleave with a
# console line, not with the file). Exit status: 0 when every guest
# finished, else that of the last one that failed.
set -euo pipefail

bench_root="$(cd "$(dirname "$0")/.." && pwd)"
tree="$bench_root"
quick=0
scripts=()

die() {
	echo "bench/guest.sh: $*" >&2
	exit 64
}

while (($#)); do
	case "$1" in
	--tree) tree="${2:?--tree needs a directory}" && shift ;;
	--tree=*) tree="${1#*=}" ;;
	--quick) quick=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
	-*) die "unknown option $1" ;;
	*) scripts+=("$1") ;;
	esac
	shift
done
((${#scripts[@]})) || scripts=(reconciler io)
tree="$(cd "$tree" && pwd)" || die "no directory $tree"
[[ -f "$tree/dist/reconciler/cli/main.js" && -f "$tree/scripts/vm/guest.sh" ]] ||
	die "$tree is not a built dm-remap checkout (npm run build there first)"
for script in "${scripts[@]}"; do
	[[ -f "$bench_root/bench/guest/$script.sh" ]] || die "no bench/guest/$script.sh"
done

# The guest sees DIR at its host path: the run dir must be inside it.
run_dir="$(mktemp -d "$tree/.cache/bench/guest-run.XXXXXX" 2>/dev/null)" ||
	{ mkdir -p "$tree/.cache/bench" && run_dir="$(mktemp -d "$tree/.cache/bench/guest-run.XXXXXX")"; }
trap 'rm -rf "$run_dir"' EXIT
cp "$bench_root"/bench/guest/*.sh "$run_dir/"
cc -O2 -Wall -o "$run_dir/blkio" "$bench_root/bench/blkio.c"
cc -O2 -Wall -o "$run_dir/dm-message" "$bench_root/bench/dm-message.c"

# Sizes and counts a caller set (see each script's "Env:") reach the guest.
passed_env=()
for name in BENCH_DEVICES BENCH_P2_DEVICES BENCH_ROUNDS BENCH_EDITS BENCH_STAGES BENCH_REMAPS BENCH_RUNS BENCH_STEP_TIMEOUT BENCH_PROFILE_DIR; do
	[[ -z "${!name:-}" ]] || passed_env+=(--env "$name=${!name}")
done

status=0
started=$SECONDS
for script in "${scripts[@]}"; do
	header="$(sed -n 's/^# guest: //p' "$run_dir/$script.sh" | head -n 1)"
	read -r -a options <<<"$header"
	results="$run_dir/$script.jsonl"
	: >"$results"
	script_started=$SECONDS
	echo "bench/guest.sh: $script in a guest of $tree (${header})" >&2
	guest_status=0
	bash "$tree/scripts/vm/guest.sh" "${options[@]}" --env "BENCH_QUICK=$quick" \
		--env "BENCH_RESULTS=$results" --env "BENCH_TOOLS=$run_dir" "${passed_env[@]}" "$run_dir/$script.sh" >&2 ||
		guest_status=$?
	echo "bench/guest.sh: $script: exit $guest_status after $((SECONDS - script_started)) s" >&2
	((guest_status == 0)) || status=$guest_status
	while IFS= read -r line; do
		[[ -z "$line" ]] || echo "BENCH_RESULT $line"
	done <"$results"
done
echo "bench/guest.sh: guest part took $((SECONDS - started)) s" >&2
exit "$status"
