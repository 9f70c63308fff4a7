#!/usr/bin/env bash
# guest: --mem 2048 --disk main=4100M --disk spare=4200M
# Scale figures of the remap target (printed, not asserted: TCG timings move
# with the host). Two layouts of remaps:
#  - dense: COUNT (1,000,000) remaps of blocks 0..COUNT-1, made by one bulk
#    `remap` message, with read throughput and bad-block write latency (each
#    ratio's baseline measured in the same run on the same disks);
#  - scattered: SCATTERED (100,000) remaps one per 1,000 blocks, as real bad
#    sectors come, made by one `remap <block>` message each (bench/dm-message,
#    one process for all of them) over a dm `zero` main of SCATTERED * 1,000
#    blocks.
# For each layout, the memory the index takes after the remaps were made and
# after the table was loaded by the constructor, in bytes per remap, read two
# ways: the radix_tree_node slab (where an xarray index lives) and the growth
# of Slab + VmallocUsed in /proc/meminfo (where any index lives), less what a
# device with no remaps costs.
#   npm run bench:kmod        (builds bench/dm-message first)
#   npm run guest -- --mem 2048 --disk main=4100M --disk spare=4200M \
#       bench/kmod-scale.sh [COUNT [SCATTERED]]
# Env: BENCH_LAYOUTS="dense scattered" (default both), BENCH_READS (20000).
set -eu
. "$(dirname "$0")/../tests/guest/lib/kmod.sh"

count="${1:-1000000}"
scattered="${2:-100000}"
layouts="${BENCH_LAYOUTS:-dense scattered}"
: "${DISK_main:?needs --disk main=4100M}" "${DISK_spare:?needs --disk spare=4200M}"
bs=8
stride=1000
dm_message="$DM_REMAP_CHECKOUT/.cache/bench/dm-message"
case " $layouts " in *" scattered "*)
	[ -x "$dm_message" ] ||
		fail "no $dm_message: run npm run bench:kmod, or on the host: mkdir -p .cache/bench && cc -O2 -o .cache/bench/dm-message bench/dm-message.c"
	;;
esac
load_remap_module

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
# Bytes held by xarray nodes (where an xarray index lives).
xa_bytes() { awk '$1 == "radix_tree_node" { print $2 * $4 }' /proc/slabinfo; }
# Bytes held in slab (kmalloc, large kmalloc included) and vmalloc. Memory
# freed with kvfree_rcu() goes in batches up to 5 s later
# (KFREE_DRAIN_JIFFIES): wait that out first. Then give the free objects the
# slab caches keep back (many short-lived allocations leave partial slabs)
# and fold the per-CPU counters in, so what remains is what is held.
kernel_bytes() {
	local cache
	sleep 6
	for cache in /sys/kernel/slab/*/shrink; do
		echo 1 >"$cache" 2>/dev/null || true
	done
	echo 1 >/proc/sys/vm/stat_refresh 2>/dev/null || true
	awk '$1 == "Slab:" || $1 == "VmallocUsed:" { kb += $2 } END { print kb * 1024 }' /proc/meminfo
}
# Sets mem_bytes and xa_bytes_now, in that order (kernel_bytes settles the
# slab caches the xarray figure reads).
snapshot() {
	mem_bytes="$(kernel_bytes)"
	xa_bytes_now="$(xa_bytes)"
}
figure() { printf '[kmod-scale] %-56s %s\n' "$1" "$2"; }

# Remove NAME and create it again with TABLE (the constructor loads the whole
# table), printing the load time and the memory it took per remap: the xarray
# figure, and the Slab+Vmalloc figure less EMPTY (a device without remaps).
reload_figures() { # LABEL NAME TABLE REMAPS EMPTY
	local xa0 mem0 t0 t1
	dm_remove "$2"
	snapshot
	xa0="$xa_bytes_now" mem0="$mem_bytes"
	t0="$(now)"
	dm_create "$2" "$3"
	t1="$(now)"
	snapshot
	figure "$1: create with $4 remaps: table load (s)" "$(elapsed "$t0" "$t1")"
	figure "$1, loaded: xarray nodes (bytes/remap)" "$(ratio $((xa_bytes_now - xa0)) "$4")"
	figure "$1, loaded: Slab+Vmalloc less empty device (bytes/remap)" \
		"$(ratio $((mem_bytes - mem0 - $5)) "$4")"
	assert_eq "remapped after reload" "$4" "$(status_field "$2" remapped)"
}

# Creates NAME with TABLE on a blank spare; sets empty_bytes to what the
# device took (Slab+Vmalloc) with no remaps.
create_empty() { # NAME TABLE
	local mem0
	dd if=/dev/zero of="$DISK_spare" bs=1M count=1 oflag=direct status=none
	mem0="$(kernel_bytes)"
	dm_create "$1" "$2"
	empty_bytes=$(($(kernel_bytes) - mem0))
	figure "device without remaps: Slab+Vmalloc (bytes)" "$empty_bytes"
}

# MB/s of 4 KiB O_DIRECT reads of BLOCKS blocks of DEV from block FIRST,
# the median of three passes (TCG timings are noisy).
read_mbps() { # DEV BLOCKS [FIRST]
	local t0 t1
	for _ in 1 2 3; do
		t0="$(now)"
		dd if="$1" of=/dev/null bs=4096 count="$2" skip="${3:-0}" iflag=direct status=none
		t1="$(now)"
		awk -v n="$2" -v s="$(elapsed "$t0" "$t1")" 'BEGIN { printf "%.1f\n", n * 4096 / 1048576 / s }'
	done | median
}

# Seconds of one O_DIRECT write of 4 KiB at SECTOR of DEV, with extra oflags.
write_seconds() { # DEV SECTOR OFLAGS
	dd if=/dev/urandom of="$1" bs=4096 count=1 seek=$(($2 * 512)) \
		oflag="direct,seek_bytes$3" conv=notrunc 2>&1 | awk '/copied/ { print $(NF-3) }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

bench_dense() {
	local size table reads base_mbps base_tail_mbps xa0 mem0 t0 t1
	size=$(($(sectors_of "$DISK_main") / bs * bs))
	[ $((count * bs + 1024 * bs)) -le "$size" ] || fail "main too small for $count remaps plus 1024 spare blocks"
	dm_create lower "$(error_table "$DISK_main")"
	table="0 $size remap /dev/mapper/lower $DISK_spare 2 block_size $bs"
	create_empty r "$table"

	reads="${BENCH_READS:-20000}"
	# Real data under both measured ranges, so no read hits a hole of the host's
	# sparse image (faster than data) and biases a ratio.
	dd if=/dev/urandom of=/dev/mapper/r bs=4096 count="$reads" oflag=direct status=none
	dd if=/dev/urandom of=/dev/mapper/r bs=4096 count="$reads" seek="$count" oflag=direct status=none
	# One untimed pass first: the first reads after boot are the slowest.
	read_mbps /dev/mapper/r "$reads" >/dev/null
	base_mbps="$(read_mbps /dev/mapper/r "$reads")"
	figure "4 KiB direct reads, no remaps (MB/s)" "$base_mbps"
	base_tail_mbps="$(read_mbps /dev/mapper/r "$reads" "$count")"

	snapshot
	xa0="$xa_bytes_now" mem0="$mem_bytes"
	t0="$(now)"
	dmsetup message r 0 remap 0 "$count"
	t1="$(now)"
	snapshot
	assert_eq "remapped" "$count" "$(status_field r remapped)"
	figure "dense: bulk remap of $count blocks (s)" "$(elapsed "$t0" "$t1")"
	figure "dense, after bulk remap: xarray nodes (bytes/remap)" "$(ratio $((xa_bytes_now - xa0)) "$count")"
	figure "dense, after bulk remap: Slab+Vmalloc (bytes/remap)" "$(ratio $((mem_bytes - mem0)) "$count")"

	remapped_mbps="$(read_mbps /dev/mapper/r "$reads")"
	figure "4 KiB direct reads, remapped blocks (MB/s)" "$remapped_mbps"
	figure "read throughput ratio, remapped / no remaps" "$(ratio "$remapped_mbps" "$base_mbps")"
	# Blocks past the remapped range: the normal path with a full index.
	tail_mbps="$(read_mbps /dev/mapper/r "$reads" "$count")"
	figure "4 KiB direct reads, normal blocks, full index (MB/s)" "$tail_mbps"
	figure "read throughput ratio, normal blocks / no remaps" "$(ratio "$tail_mbps" "$base_tail_mbps")"

	reload_figures dense r "$table" "$count" "$empty_bytes"

	# First write to a bad block (fail on main, read nothing, write the slot,
	# two metadata writes) against one FUA write of the same size to the spare.
	local spare_free first_bad i bad_ranges=()
	spare_free=$(($(sectors_of "$DISK_spare") - 64))
	first_bad=$((count + 16))
	for i in $(seq 0 10); do bad_ranges+=("$(((first_bad + i * 4) * bs)):$bs"); done
	set_errors lower "$DISK_main" "${bad_ranges[@]}"
	for i in $(seq 0 10); do
		write_seconds /dev/mapper/r $(((first_bad + i * 4) * bs)) ""
	done | tail -n 10 | median >/tmp/bad-write
	for i in $(seq 0 10); do
		write_seconds "$DISK_spare" $((spare_free - i * 8)) ",dsync"
	done | tail -n 10 | median >/tmp/fua-write
	assert_eq "remapped after bad writes" $((count + 11)) "$(status_field r remapped)"
	figure "first write to a bad block, median (s)" "$(cat /tmp/bad-write)"
	figure "one FUA 4 KiB write to the spare, median (s)" "$(cat /tmp/fua-write)"
	figure "bad-block write latency ratio" "$(ratio "$(cat /tmp/bad-write)" "$(cat /tmp/fua-write)")"
	dm_remove r
	dm_remove lower
}

# One remap per stride blocks over a main that stores nothing: reads of a
# dm `zero` device return zeros, which is all a proactive remap copies.
bench_scattered() {
	local size table xa0 mem0 t0 t1 sent
	modprobe dm-zero
	size=$((scattered * stride * bs))
	dm_create zmain "0 $size zero"
	table="0 $size remap /dev/mapper/zmain $DISK_spare 2 block_size $bs"
	create_empty s "$table"

	snapshot
	xa0="$xa_bytes_now" mem0="$mem_bytes"
	t0="$(now)"
	sent="$(seq 0 $((scattered - 1)) | awk -v s="$stride" '{ print "remap " $1 * s }' |
		"$dm_message" s)"
	t1="$(now)"
	snapshot
	assert_eq "messages sent" "$scattered" "$sent"
	assert_eq "remapped" "$scattered" "$(status_field s remapped)"
	figure "scattered: $scattered remap messages (s)" "$(elapsed "$t0" "$t1")"
	figure "scattered, after the messages: xarray nodes (bytes/remap)" "$(ratio $((xa_bytes_now - xa0)) "$scattered")"
	figure "scattered, after the messages: Slab+Vmalloc (bytes/remap)" "$(ratio $((mem_bytes - mem0)) "$scattered")"

	reload_figures scattered s "$table" "$scattered" "$empty_bytes"
	assert_eq "last remap listed" "$(((scattered - 1) * stride)) $((scattered - 1))" \
		"$(dmsetup message s 0 list_remaps $(((scattered - 1) * stride)) 1)"
	dm_remove s
	dm_remove zmain
}

for layout in $layouts; do
	case "$layout" in
	dense) bench_dense ;;
	scattered) bench_scattered ;;
	*) fail "unknown layout '$layout' in BENCH_LAYOUTS" ;;
	esac
done
