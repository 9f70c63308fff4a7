#!/usr/bin/env bash
# guest: --mem 1024 --disk main=1G --disk spare=512M --timeout 900
# The remap target's I/O against dm-linear on the same backing disk (issue
# 11's P5): 4 KiB random and 1 MiB sequential O_DIRECT reads and writes
# (bench/blkio.c), first with no remaps, then with REMAPS (100,000) blocks
# remapped. Both devices map the same main disk at once; each round runs
# every workload on both, the order of the two devices alternating between
# rounds, so drift of the host's speed falls on both alike. A figure is the
# median throughput of the remap device ÷ the median of dm-linear, with the
# spread of the per-round ratios.
#
# The remaps come from the target's bulk `remap <block> <count>` message
# (kmod/README.md), sent through bench/dm-message in one process: RUNS runs
# of REMAPS/RUNS blocks spread evenly over main, so random I/O lands on
# remapped and normal blocks alike and sequential I/O crosses run edges
# (one bulk message over a single range would leave one index record and
# one edge).
#
# Run: bash bench/guest.sh (builds bench/blkio and bench/dm-message first).
# Env: BENCH_TOOLS (dir with blkio and dm-message), BENCH_QUICK=1,
#   BENCH_REMAPS (100000), BENCH_RUNS (1000), BENCH_STEP_TIMEOUT (600 s: a step
#   taking longer is reported as stuck, with the blocked tasks' stacks).
# With 100,000 remaps it also measures the remap device against LAYOUT
# (P5-layout-*, for reading: see make_layout).
set -euo pipefail
# shellcheck source=bench/guest/lib.sh
. "$(dirname "$0")/lib.sh"

TOOLS="${BENCH_TOOLS:-$DM_REMAP_CHECKOUT/.cache/bench}"
BLKIO="$TOOLS/blkio"
DM_MESSAGE="$TOOLS/dm-message"
REMAPS="${BENCH_REMAPS:-100000}"
RUNS="${BENCH_RUNS:-1000}"
if ((BENCH_QUICK)); then
	ROUNDS=3 RANDOM_IOS=2000 SEQUENTIAL_MIB=128
else
	ROUNDS=5 RANDOM_IOS=4000 SEQUENTIAL_MIB=256
fi
WORKLOADS=(randread randwrite seqread seqwrite)
: "${DISK_main:?needs --disk main=1G}" "${DISK_spare:?needs --disk spare=512M}"
[[ -x "$BLKIO" && -x "$DM_MESSAGE" ]] || fail "no $BLKIO or $DM_MESSAGE: run bash bench/guest.sh (it builds them)"

LINEAR=bench-linear
REMAP=bench-remap
LAYOUT=bench-layout
cleanup() {
	dmsetup remove "$LAYOUT" 2>/dev/null || true
	dmsetup remove "$REMAP" 2>/dev/null || true
	dmsetup remove "$LINEAR" 2>/dev/null || true
}
trap cleanup EXIT

modprobe dm-remap || fail "cannot load dm-remap"

# A stuck bio must leave evidence. One run of this bench hung with the guest
# idle and no hung-task report within 4 minutes (the kernel reports a task
# blocked for its timeout, 120 s, at a check made as seldom as that); here
# a blocked task is reported after 20 s, and every step that does I/O runs
# under a watchdog that, when it fires, logs each blocked task's stack
# (sysrq w), the devices' status and the kernel's last messages, then fails.
echo 20 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null || true
STEP_TIMEOUT="${BENCH_STEP_TIMEOUT:-600}"
guarded() { # DESCRIPTION COMMAND...: the command, killed and diagnosed after STEP_TIMEOUT s
	local what="$1" status=0
	shift
	timeout "$STEP_TIMEOUT" "$@" || status=$?
	((status != 124)) || {
		{
			say "STUCK: $what did not finish in $STEP_TIMEOUT s; blocked tasks, status and kernel log follow"
			echo w >/proc/sysrq-trigger 2>/dev/null || true
			sleep 2
			dmsetup status 2>&1 || true
			dmesg | tail -n 200
		} >&2
		fail "$what did not finish in $STEP_TIMEOUT s"
	}
	return "$status"
}
sectors=$(($(blockdev --getsz "$DISK_main") / 8 * 8))
blocks=$((sectors / 8))
((REMAPS % RUNS == 0 && REMAPS / RUNS <= blocks / RUNS)) ||
	fail "$REMAPS remaps in $RUNS runs do not fit $blocks blocks"
dmsetup create "$LINEAR" --table "0 $sectors linear $DISK_main 0"
dmsetup create "$REMAP" --uuid "DMREMAP-$REMAP" --table "0 $sectors remap $DISK_main $DISK_spare 2 block_size 8"

remapped() { dmsetup status "$REMAP" | tr ' ' '\n' | sed -n 's/^remapped=//p'; }

# MB/s of one WORKLOAD on DEVICE.
mbps() { # WORKLOAD DEVICE
	local count out
	case "$1" in rand*) count="$RANDOM_IOS" ;; *) count="$SEQUENTIAL_MIB" ;; esac
	out="$(guarded "blkio $1 on $2" "$BLKIO" "$1" "/dev/mapper/$2" "$count" 42)" || fail "blkio $1 on $2 failed"
	awk -v o="$out" 'BEGIN { split(o, f, " "); printf "%.2f", f[1] / 1048576 / f[2] }'
}

# Real data on all of main first, so no read hits a hole of the host's
# sparse image (faster than data) and no write allocates one (slower).
say "filling main ($((sectors / 2048)) MiB)"
guarded "filling main" "$BLKIO" seqwrite "/dev/mapper/$LINEAR" $((sectors / 2048)) >/dev/null

# measure REMAP_COUNT [BASELINE]: the rounds, then one figure per workload:
# the remap device against BASELINE, dm-linear over main (the P5 figures,
# with their targets) or, for reading only, LAYOUT (dm-linear segments that
# map every block where the remap device keeps it: what the same layout
# over the same two disks costs without the target).
measure() {
	local count="$1" base_dev="${2:-$LINEAR}" r w dev first second l m
	declare -A lin=() rem=()
	# One untimed pass of each: the first I/O after boot or after the
	# remaps is the slowest.
	for w in "${WORKLOADS[@]}"; do mbps "$w" "$base_dev" >/dev/null && mbps "$w" "$REMAP" >/dev/null; done
	for ((r = 0; r < ROUNDS; r++)); do
		if ((r % 2)); then first="$REMAP" second="$base_dev"; else first="$base_dev" second="$REMAP"; fi
		for w in "${WORKLOADS[@]}"; do
			for dev in "$first" "$second"; do
				if [[ "$dev" == "$base_dev" ]]; then
					lin[$w]+="$(mbps "$w" "$dev") "
				else
					rem[$w]+="$(mbps "$w" "$dev") "
				fi
			done
		done
	done
	for w in "${WORKLOADS[@]}"; do
		local ratios=() i lm mm target shape id base_label
		read -r -a l <<<"${lin[$w]}"
		read -r -a m <<<"${rem[$w]}"
		for i in "${!l[@]}"; do ratios+=("$(ratio "${m[i]}" "${l[i]}")"); done
		lm="$(printf '%s\n' "${l[@]}" | median)" mm="$(printf '%s\n' "${m[@]}" | median)"
		say "$count remaps, $w: $base_dev ${l[*]} MB/s; remap ${m[*]} MB/s"
		case "$w" in rand*) shape="4 KiB random" ;; *) shape="1 MiB sequential" ;; esac
		if [[ "$base_dev" == "$LINEAR" ]]; then
			case "$w" in rand*) target=">= 0.97" ;; *) target=">= 0.90" ;; esac
			id="P5-$w-$count" base_label="dm-linear on the same disk"
		else
			target="" id="P5-layout-$w-$count" base_label="dm-linear segments in the same layout (main and spare)"
		fi
		emit_result "$id" "remap target ÷ $base_label: $w, $shape, $count remaps (guest)" \
			"$mm" MB/s "$base_label" "$lm" "$(ratio "$mm" "$lm")" "$target" \
			"$(printf '%s\n' "${ratios[@]}" | spread)" \
			"{\"remaps\":$count,\"rounds\":$ROUNDS,\"remapMBps\":\"$(printf '%s\n' "${m[@]}" | spread)\",\"baselineMBps\":\"$(printf '%s\n' "${l[@]}" | spread)\"}"
	done
}

measure 0
[[ "$(remapped)" == 0 ]] || fail "remapped=$(remapped) before any remap"

per_run=$((REMAPS / RUNS))
stride=$((blocks / RUNS))
say "remapping $REMAPS blocks: $RUNS bulk messages of $per_run blocks, one every $stride blocks"
send_remaps() {
	seq 0 $((RUNS - 1)) | awk -v s="$stride" -v n="$per_run" '{ print "remap " $1 * s " " n }' |
		guarded "the bulk remap messages" "$DM_MESSAGE" "$REMAP" >/dev/null
}
timed send_remaps
[[ "$(remapped)" == "$REMAPS" ]] || fail "remapped=$(remapped), expected $REMAPS"
say "remaps made in $(seconds "$TOOK") s"

measure "$REMAPS"

# The same layout without the target: main's blocks from main, each run of
# remapped blocks from the spare sectors its slots occupy. The bulk messages
# handed out slots in order, so run i sits on slots i * per_run onwards, and
# the slots fill the spare up to its end (kmod/README.md, on-disk format).
make_layout() {
	local spare_total data_start i b start=0 table=""
	spare_total="$(dmsetup status "$REMAP" | tr ' ' '\n' | sed -n 's/^spare_total=//p')"
	data_start=$(($(blockdev --getsz "$DISK_spare") - spare_total * 8))
	for ((i = 0; i < RUNS; i++)); do
		b=$((i * stride * 8))
		((b == start)) || table+="$start $((b - start)) linear $DISK_main $start"$'\n'
		table+="$b $((per_run * 8)) linear $DISK_spare $((data_start + i * per_run * 8))"$'\n'
		start=$((b + per_run * 8))
	done
	((start == sectors)) || table+="$start $((sectors - start)) linear $DISK_main $start"$'\n'
	printf '%s' "$table" | dmsetup create "$LAYOUT"
}
make_layout
# It must read what the remap device reads, or it is not the same layout.
cmp <(dd if="/dev/mapper/$REMAP" bs=1M count=64 iflag=direct status=none) \
	<(dd if="/dev/mapper/$LAYOUT" bs=1M count=64 iflag=direct status=none) ||
	fail "the layout device does not read what the remap device reads"
say "layout device: $(dmsetup table "$LAYOUT" | wc -l) segments, reads the same as the remap device"
measure "$REMAPS" "$LAYOUT"
say "done"
