#!/usr/bin/env bash
# guest: (no disks: main and spares are made in the guest's memory)
# guest-kinds: dmstack nullb scsi
# guest-kernels: 6.1 6.12
# A spare with 4 KiB logical sectors (null_blk, blocksize 4096), under
#  1. a main with 512-byte sectors (block_size 8): the device keeps 512-byte
#     logical sectors, so writes of single 512-byte sectors inside a remapped
#     block must reach the spare as a read-modify-write of its 4 KiB sector;
#  2. a main with 4 KiB sectors (block_size 8: one logical sector per block).
# Blocks move by proactive remap and by a fault on main (a failing write on
# dmstack and nullb; on scsi, which cannot fail writes, a failed read makes
# the block pending and the write moves it). Then reads and writes smaller
# than a block at odd offsets inside remapped blocks, and across remapped and
# normal neighbours, each checked byte for byte; a reload; the whole device
# and list_remaps must be unchanged. Main is a disk of DM_REMAP_MAIN_KIND
# (lib/mains.sh).
set -eu
. "$(dirname "$0")/lib/kmod.sh"
. "$(dirname "$0")/lib/mains.sh"

load_remap_module
dd if=/dev/urandom of=/tmp/src bs=1M count=1 status=none

# Checks N sectors at OFF of r: the read returns what /tmp/expected says,
# then fresh data written there reads back and goes into /tmp/expected.
io_check() { # WHAT OFF N
	local off="$2" n="$3" src_off
	read_at /dev/mapper/r "$off" "$n" /tmp/got || fail "$1: read of $n sectors at $off failed"
	dd if=/tmp/expected of=/tmp/want bs=512 skip="$off" count="$n" status=none
	cmp -s /tmp/want /tmp/got || fail "$1: read of $n sectors at $off differs"
	src_off=$(((off * 7 + n) % (2048 - n + 1)))
	write_at /dev/mapper/r "$off" "$n" /tmp/src "$src_off" || fail "$1: write of $n sectors at $off failed"
	dd if=/tmp/src of=/tmp/expected bs=512 seek="$off" skip="$src_off" count="$n" conv=notrunc status=none
	read_at /dev/mapper/r "$off" "$n" /tmp/got || fail "$1: read back of $n sectors at $off failed"
	dd if=/tmp/src of=/tmp/want bs=512 skip="$src_off" count="$n" status=none
	cmp -s /tmp/want /tmp/got || fail "$1: write+read of $n sectors at $off differs"
}

# Makes the next write to FIRST:COUNT of main move its block: a failing
# write where the kind can fail one, else a failed read first (pending).
fault_main() { # DISK FIRST:COUNT
	if kind_fails_writes "$MAIN_KIND"; then
		set_bad "$1" "$2"
	else
		make_pending /dev/mapper/r 8 "$1" "$2"
	fi
}

# Remaps blocks 100, 200-202 and 1000 proactively, and block 300 by writing
# the sectors FAULT (FIRST:COUNT inside it) while they fail on DISK; then
# checks the counters and the whole device.
make_remaps() { # WHAT DISK FAULT
	dmsetup message r 0 remap 100
	dmsetup message r 0 remap 200 3
	dmsetup message r 0 remap 1000
	fault_main "$2" "$3"
	local first="${3%%:*}" count="${3##*:}"
	write_at /dev/mapper/r "$first" "$count" /tmp/src 0 || fail "$1: write over the fault failed"
	dd if=/tmp/src of=/tmp/expected bs=512 seek="$first" count="$count" conv=notrunc status=none
	set_bad "$2"
	assert_eq "$1: remapped" 6 "$(status_field r remapped)"
	assert_eq "$1: lost_sectors" 0 "$(status_field r lost_sectors)"
	assert_eq "$1: list_remaps" "100 200 201 202 300 1000" \
		"$(dmsetup message r 0 list_remaps | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"
	cmp /tmp/expected /dev/mapper/r || fail "$1: device differs after the remaps"
}

# Removes and recreates r with TABLE: same remaps, same data.
reload_and_compare() { # WHAT TABLE
	local remaps
	remaps="$(dmsetup message r 0 list_remaps)"
	dm_remove r
	dm_create r "$2"
	assert_eq "$1: list_remaps after reload" "$remaps" "$(dmsetup message r 0 list_remaps)"
	cmp /tmp/expected /dev/mapper/r || fail "$1: device differs after reload"
}

# --- 1: 512-byte main, 4 KiB spare --------------------------------------------
main="$(make_main main 16)"
spare="$(make_disk nullb spare4k 16 4096)"
size="$(sectors_of "$main")"
table="0 $size remap $main $spare 2 block_size 8"
dm_create r "$table" || fail "512 main: the target refused a spare with 4 KiB logical sectors"
assert_eq "512 main: logical block size of the device" 512 "$(blockdev --getss /dev/mapper/r)"
dd if=/dev/urandom of=/tmp/expected bs=1M count=16 status=none
dd if=/tmp/expected of=/dev/mapper/r bs=1M oflag=direct status=none
# Block 300 = sectors 2400..2407; sector 2403 fails, a one-sector write there.
make_remaps "512 main" main 2403:1
ios=0
for b in 100 201 300 1000; do
	# Single sectors at odd offsets, short runs inside the block, a run
	# across its end into the next block, one starting in the block before.
	for spec in 1:1 3:1 6:1 7:1 0:1 1:3 5:2 2:5 5:6 -1:2 -3:8 0:8 0:16; do
		io_check "512 main, block $b" $((b * 8 + ${spec%%:*})) "${spec##*:}"
		ios=$((ios + 3))
	done
done
cmp /tmp/expected /dev/mapper/r || fail "512 main: device differs after sub-block I/O"
kmod_log "512 main: $ios direct I/Os inside and around remapped blocks on a 4 KiB spare: identical"
reload_and_compare "512 main" "$table"
kmod_log "512 main: remaps and data unchanged after a reload"
dm_remove r
remove_disk main
remove_disk spare4k

# --- 2: 4 KiB main, 4 KiB spare -----------------------------------------------
main="$(make_main main4k 16 4096)"
spare="$(make_disk nullb spare4k 16 4096)"
size="$(sectors_of "$main")"
table="0 $size remap $main $spare 2 block_size 8"
dm_create r "$table" || fail "4 KiB main: the target refused a spare with 4 KiB logical sectors"
assert_eq "4 KiB main: logical block size of the device" 4096 "$(blockdev --getss /dev/mapper/r)"
dd if=/dev/urandom of=/tmp/expected bs=1M count=16 status=none
dd if=/tmp/expected of=/dev/mapper/r bs=1M oflag=direct status=none
# Block 300 is one 4 KiB sector of main: all of it fails.
make_remaps "4 KiB main" main4k 2400:8
ios=0
for b in 100 201 300 1000; do
	for spec in 0:8 -8:16 0:16 -8:24 0:32; do
		io_check "4 KiB main, block $b" $((b * 8 + ${spec%%:*})) "${spec##*:}"
		ios=$((ios + 3))
	done
done
cmp /tmp/expected /dev/mapper/r || fail "4 KiB main: device differs after the I/O"
kmod_log "4 KiB main: $ios direct I/Os over remapped blocks on a 4 KiB spare: identical"
reload_and_compare "4 KiB main" "$table"
kmod_log "4 KiB main: remaps and data unchanged after a reload"
kmod_log "PASS"
