#!/usr/bin/env bash
# guest: --mem 2048 --disk main=4100M --disk spare=4200M
# Scale figures of the remap target with 1,000,000 remaps (printed, not
# asserted: TCG timings move with the host). Each ratio's baseline is
# measured in the same run on the same disks.
#   npm run guest -- --mem 2048 --disk main=4100M --disk spare=4200M bench/kmod-scale.sh [COUNT]
set -eu
. "$(dirname "$0")/../tests/guest/lib/kmod.sh"

count="${1:-1000000}"
: "${DISK_main:?needs --disk main=4100M}" "${DISK_spare:?needs --disk spare=4200M}"
bs=8
size=$(( $(sectors_of "$DISK_main") / bs * bs ))
[ $((count * bs + 1024 * bs)) -le "$size" ] || fail "main too small for $count remaps plus 1024 spare blocks"
load_remap_module

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
# Bytes held by xarray nodes (the remap index lives in radix_tree_node).
xa_bytes() { awk '$1 == "radix_tree_node" { print $2 * $4 }' /proc/slabinfo; }
figure() { printf '[kmod-scale] %-48s %s\n' "$1" "$2"; }

# MB/s of 4 KiB O_DIRECT reads of BLOCKS blocks of DEV from block FIRST,
# the median of three passes (TCG timings are noisy).
read_mbps() { # DEV BLOCKS [FIRST]
	local t0 t1 pass
	for pass in 1 2 3; do
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

dd if=/dev/zero of="$DISK_spare" bs=1M count=1 oflag=direct status=none
dm_create lower "$(error_table "$DISK_main")"
table="0 $size remap /dev/mapper/lower $DISK_spare 2 block_size $bs"
dm_create r "$table"

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

xa0="$(xa_bytes)"
t0="$(now)"
dmsetup message r 0 remap 0 "$count"
t1="$(now)"
xa1="$(xa_bytes)"
assert_eq "remapped" "$count" "$(status_field r remapped)"
figure "bulk remap of $count blocks (s)" "$(elapsed "$t0" "$t1")"
figure "index memory after bulk remap (bytes/remap)" "$(ratio $((xa1 - xa0)) "$count")"

remapped_mbps="$(read_mbps /dev/mapper/r "$reads")"
figure "4 KiB direct reads, remapped blocks (MB/s)" "$remapped_mbps"
figure "read throughput ratio, remapped / no remaps" "$(ratio "$remapped_mbps" "$base_mbps")"
# Blocks past the remapped range: the normal path with a full index.
tail_mbps="$(read_mbps /dev/mapper/r "$reads" "$count")"
figure "4 KiB direct reads, normal blocks, full index (MB/s)" "$tail_mbps"
figure "read throughput ratio, normal blocks / no remaps" "$(ratio "$tail_mbps" "$base_tail_mbps")"

# Table load: remove, then create (the constructor reads the whole table).
dm_remove r
xa2="$(xa_bytes)"
t0="$(now)"
dm_create r "$table"
t1="$(now)"
xa3="$(xa_bytes)"
figure "create with $count remaps: table load (s)" "$(elapsed "$t0" "$t1")"
figure "index memory of the loaded table (bytes/remap)" "$(ratio $((xa3 - xa2)) "$count")"
assert_eq "remapped after reload" "$count" "$(status_field r remapped)"

# First write to a bad block (fail on main, read nothing, write the slot,
# two metadata writes) against one FUA write of the same size to the spare.
spare_free=$(($(sectors_of "$DISK_spare") - 64))
first_bad=$((count + 16))
bad_ranges=()
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
