#!/usr/bin/env bash
# guest: (no disks: loop devices in the guest's tmpfs)
# guest-cost: 40
# Lifecycle of the remap target, 50 rounds: load the module, create a device
# over loop devices, do I/O (including one real remap), suspend/resume, reload
# the same table, remove it, unload the module. Every round must leave no
# device, no module reference, no worker thread; unreclaimable slab must not
# grow round over round.
# Loop devices and a dm error stack only, no guest-kinds: this is about
# setup and teardown, not about how main completes I/O (lib/mains.sh, the
# data-integrity tests).
set -eu
. "$(dirname "$0")/lib/kmod.sh"

ROUNDS="${1:-50}"
main="$(make_loop 32)"
spare="$(make_loop 8)"
size="$(sectors_of "$main")"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=1 status=none

# The rescuer thread of each of our workqueues (WQ_MEM_RECLAIM) carries its
# name, "dm-remap-<spare>": as is on 6.1, as "kworker/R-dm-re" (15 chars) on 6.12.
remap_threads() { grep -lE '^(kworker/R-)?dm-re' /proc/[0-9]*/comm 2>/dev/null | wc -l; }
sunreclaim_kb() { awk '/^SUnreclaim:/ { print $2 }' /proc/meminfo; }

one_round() {
	local round="$1"
	load_remap_module
	dm_create lower "$(error_table "$main")"
	dm_create r "0 $size remap /dev/mapper/lower $spare 4 block_size 8 read_retries 1"
	[ "$(remap_threads)" -ge 1 ] || fail "round $round: no worker thread while the device exists"

	write_at /dev/mapper/r $((round * 64)) 2048 /tmp/pattern
	# One bad sector on main: the next write there must land on the spare.
	set_errors lower "$main" "$((round * 64 + 3)):1"
	write_at /dev/mapper/r $((round * 64)) 2048 /tmp/pattern
	read_at /dev/mapper/r $((round * 64)) 2048 /tmp/readback
	cmp -s /tmp/pattern /tmp/readback || fail "round $round: data differs after remap"

	dmsetup suspend r
	dmsetup resume r
	local table
	table="$(dmsetup table r)"
	dmsetup load r --table "$table"
	dmsetup resume r
	assert_eq "round $round: table after reload" "$table" "$(dmsetup table r)"
	assert_ge "round $round: remaps kept across reload" 1 "$(status_field r remapped)"

	dm_remove r
	dm_remove lower
	assert_eq "round $round: module refcount" 0 "$(awk '$1 == "dm_remap" { print $3 }' /proc/modules)"
	rmmod dm-remap || fail "round $round: rmmod failed"
	assert_eq "round $round: leftover worker threads" 0 "$(remap_threads)"
	# Each round starts from a blank spare so every round formats it again.
	dd if=/dev/zero of="$spare" bs=1M count=8 oflag=direct status=none
}

one_round 0
baseline="$(sunreclaim_kb)"
for ((i = 1; i < ROUNDS; i++)); do
	one_round "$i"
done
final="$(sunreclaim_kb)"
kmod_log "SUnreclaim: ${baseline} kB after round 1, ${final} kB after round $ROUNDS"
# Loop devices, page cache and per-cpu caches move a little; a leak of even
# one context (kilobytes) or workqueue per round would add up over 49 rounds.
[ "$final" -le $((baseline + 512)) ] || fail "unreclaimable slab grew by $((final - baseline)) kB over $ROUNDS rounds"
kmod_log "PASS: $ROUNDS rounds"
