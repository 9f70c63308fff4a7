#!/usr/bin/env bash
# guest: (no disks: main, spare and faults are made in the guest's memory)
# guest-kinds: dmstack nullb scsi
# guest-kernels: 6.1 6.12
# Data integrity under real I/O errors, over each kind of main disk
# (lib/mains.sh; the spares are loop devices):
#   dmstack  linear + error segments switched live, and dm-flakey with
#            error_writes (phase 5): bio-based completions
#   nullb    null_blk bad blocks: blk-mq, a request touching one fails whole
#            (reads and writes) with an I/O error
#   scsi     scsi_debug medium errors: blk-mq through the SCSI layer, reads
#            only. A write cannot fail, so where the other kinds make a write
#            fail on main, this run makes the same blocks unreadable and
#            reads them first: they are pending and the write moves them
#            (make_pending), the same moves reached through read errors, so
#            it checks read_errors where the others check write_errors
# After every phase the whole device is read back and compared: 0 bytes may
# differ from what the test computed, and the status counters must match the
# injected faults exactly.
set -eu
. "$(dirname "$0")/lib/kmod.sh"
. "$(dirname "$0")/lib/mains.sh"

load_remap_module
modprobe dm-flakey || fail "cannot load dm-flakey"

main="$(make_main main 64)"
spare="$(make_disk loop spare 16)"
size="$(sectors_of "$main")"
bs=8

dm_create r "0 $size remap $main $spare"
kmod_log "main: $MAIN_KIND disk $main"

dd if=/dev/urandom of=/tmp/a bs=1M count=64 status=none
dd if=/dev/urandom of=/tmp/b bs=1M count=64 status=none
dd if=/dev/urandom of=/tmp/c bs=512 count=16 status=none

# expected: what the device must hold, kept up to date by the test itself.
cp /tmp/a /tmp/expected
dd if=/tmp/a of=/dev/mapper/r bs=1M oflag=direct status=none
cmp /tmp/expected /dev/mapper/r || fail "plain write/read differs"

check_device() { # PHASE
	cmp /tmp/expected /dev/mapper/r || fail "$1: device content differs from expected"
	kmod_log "$1: whole device identical ($((size / 2)) KiB)"
}

patch_expected() { # SECTOR COUNT SRC [SRC_SECTOR]
	dd if="$3" of=/tmp/expected bs=512 seek="$1" skip="${4:-0}" count="$2" conv=notrunc status=none
}

zero_expected() { # SECTOR COUNT
	dd if=/dev/zero of=/tmp/expected bs=512 seek="$1" count="$2" conv=notrunc status=none
}

# Distinct blocks touched by a list of FIRST:COUNT ranges.
blocks_of() {
	local range first count s
	for range in "$@"; do
		first="${range%%:*}"
		count="${range##*:}"
		for ((s = first; s < first + count; s++)); do echo $((s / bs)); done
	done | sort -un | wc -l
}

# Reads the block of r at SECTOR, which must fail.
read_must_fail() { # PHASE SECTOR
	if read_at /dev/mapper/r "$2" "$bs" /tmp/out 2>/dev/null; then
		fail "$1: a read of an unreadable block succeeded"
	fi
}

# --- phase 1: bad sectors under full overwrites ------------------------------
# Sector 0, one sector inside a block, a run across a block boundary, a whole
# block, and the last sector of the device.
bad=(0:1 1003:1 2046:4 4096:8 $((size - 1)):1)
expected_remaps="$(blocks_of "${bad[@]}")"
if kind_fails_writes "$MAIN_KIND"; then
	set_bad main "${bad[@]}"
else
	make_pending /dev/mapper/r "$bs" main "${bad[@]}"
	assert_eq "phase 1: pending before the overwrite" "$expected_remaps" "$(status_field r pending)"
fi
dd if=/tmp/b of=/dev/mapper/r bs=1M oflag=direct status=none || fail "write over bad sectors reported an error"
cp /tmp/b /tmp/expected
check_device "phase 1 (full overwrite over ${bad[*]})"
assert_eq "phase 1: remapped" "$expected_remaps" "$(status_field r remapped)"
assert_eq "phase 1: spare_used" "$expected_remaps" "$(status_field r spare_used)"
assert_eq "phase 1: pending" 0 "$(status_field r pending)"
assert_eq "phase 1: lost_sectors" 0 "$(status_field r lost_sectors)"
assert_eq "phase 1: health" degraded "$(status_field r health)"
if kind_fails_writes "$MAIN_KIND"; then
	assert_ge "phase 1: write_errors" 1 "$(status_field r write_errors)"
else
	assert_ge "phase 1: read_errors" "${#bad[@]}" "$(status_field r read_errors)"
fi
assert_eq "phase 1: list_remaps lines" "$expected_remaps" "$(dmsetup message r 0 list_remaps | wc -l)"

# --- phase 2: a partial-block write to a block with a bad sector -------------
# Block 1250 = sectors 10000..10007, sectors 10003 and 10006 unreadable and
# unwritable. Writing sectors 10002..10004 fails on main: the block moves to
# the spare with 10002..10004 from the write, the other readable sectors from
# main, and 10006 zeroed (counted in lost_sectors). scsi: the block is made
# pending through 10003, then only 10006 stays unreadable while it moves.
if kind_fails_writes "$MAIN_KIND"; then
	bad+=(10003:1 10006:1)
	set_bad main "${bad[@]}"
else
	make_pending /dev/mapper/r "$bs" main 10003:1
	set_bad main 10006:1
fi
write_at /dev/mapper/r 10002 3 /tmp/c || fail "partial write over a bad block failed"
patch_expected 10002 3 /tmp/c
zero_expected 10006 1
expected_remaps=$((expected_remaps + 1))
check_device "phase 2 (partial write to a block with a bad sector)"
assert_eq "phase 2: remapped" "$expected_remaps" "$(status_field r remapped)"
assert_eq "phase 2: lost_sectors" 1 "$(status_field r lost_sectors)"

# --- phase 3: read errors make blocks pending; the next write moves them -----
# Block 2500 (sector 20002 bad) is read: the error is returned, honestly.
# scsi: one bad range at a time; 30005 stays unreadable for the writes.
dmsetup message r 0 clear_stats
if kind_fails_writes "$MAIN_KIND"; then
	bad+=(20002:1 30005:1)
	set_bad main "${bad[@]}"
	read_must_fail "phase 3" 20000
	read_must_fail "phase 3" 30000
else
	set_bad main 20002:1
	read_must_fail "phase 3" 20000
	set_bad main 30005:1
	read_must_fail "phase 3" 30000
fi
assert_eq "phase 3: pending" 2 "$(status_field r pending)"
assert_ge "phase 3: read_errors" 2 "$(status_field r read_errors)"
assert_eq "phase 3: list_pending" "2500 3750" "$(dmsetup message r 0 list_pending | tr '\n' ' ' | sed 's/ $//')"
# A whole-block write to block 2500 moves it, nothing needs reading.
write_at /dev/mapper/r 20000 8 /tmp/c
patch_expected 20000 8 /tmp/c
# A one-sector write to pending block 3750 moves it too: the rest of the block
# comes from main, sector 30005 (unreadable) is zeroed.
write_at /dev/mapper/r 30001 1 /tmp/c 8
patch_expected 30001 1 /tmp/c 8
zero_expected 30005 1
expected_remaps=$((expected_remaps + 2))
check_device "phase 3 (writes to pending blocks)"
assert_eq "phase 3: pending after writes" 0 "$(status_field r pending)"
assert_eq "phase 3: remapped" "$expected_remaps" "$(status_field r remapped)"
assert_eq "phase 3: lost_sectors (counted since clear_stats)" 1 "$(status_field r lost_sectors)"

# --- phase 4: errors go away: remapped blocks stay on the spare --------------
set_bad main
dd if=/tmp/a of=/dev/mapper/r bs=1M oflag=direct status=none
cp /tmp/a /tmp/expected
check_device "phase 4 (errors cleared, full overwrite)"
assert_eq "phase 4: remapped" "$expected_remaps" "$(status_field r remapped)"
dm_remove r
remove_disk main

# --- phase 5: every write of a large and a misaligned I/O fails on main ------
# dmstack: dm-flakey with error_writes, every write to main fails, reads
# work. nullb: exactly the written sectors are bad (unreadable too, but the
# moves read only the sectors around them). scsi: the written blocks are
# made pending first.
spare2="$(make_loop 8)"
if [ "$MAIN_KIND" = dmstack ]; then
	main2="$(make_loop 8)"
	size2="$(sectors_of "$main2")"
	dd if=/tmp/a of="$main2" bs=1M count=8 oflag=direct status=none
	dm_create flaky "0 $size2 flakey $main2 0 0 1 1 error_writes"
	lower2=/dev/mapper/flaky
else
	main2="$(make_main main2 8)"
	size2="$(sectors_of "$main2")"
	dd if=/tmp/a of="$main2" bs=1M count=8 oflag=direct status=none
	lower2="$main2"
fi
dm_create r2 "0 $size2 remap $lower2 $spare2 2 block_size 8"
if [ "$MAIN_KIND" != dmstack ]; then
	if kind_fails_writes "$MAIN_KIND"; then
		set_bad main2 4096:2048 9001:24
	else
		make_pending /dev/mapper/r2 8 main2 4096:2048 9001:24
	fi
fi
# 1 MiB at 2 MiB offset and 12 KiB at a misaligned sector: all must land.
dd if=/tmp/b of=/dev/mapper/r2 bs=1M seek=2 count=1 oflag=direct status=none || fail "phase 5: 1 MiB write failed"
write_at /dev/mapper/r2 9001 24 /tmp/b 100 || fail "phase 5: misaligned write failed"
dd if=/tmp/a of=/tmp/expected bs=1M count=8 status=none
dd if=/tmp/b of=/tmp/expected bs=1M seek=2 count=1 conv=notrunc status=none
patch_expected 9001 24 /tmp/b 100
cmp /tmp/expected /dev/mapper/r2 || fail "phase 5: device content differs from expected"
# 1 MiB = 256 blocks; sectors 9001..9024 touch blocks 1125..1128 (4 blocks).
assert_eq "phase 5: remapped" 260 "$(status_field r2 remapped)"
assert_eq "phase 5: lost_sectors" 0 "$(status_field r2 lost_sectors)"
kmod_log "phase 5 (failing writes): 8 MiB identical, 260 blocks remapped"
dm_remove r2
if [ "$MAIN_KIND" = dmstack ]; then
	dm_remove flaky
else
	remove_disk main2
fi

# --- phase 6: a main disk with 4 KiB logical sectors -------------------------
# Block 0 = sectors 0..31 (block_size 32), its second 4 KiB sector (8..15)
# unreadable. Moving it retries main one 4 KiB sector at a time: only 8..15
# are zeroed, the three readable ones keep their data.
# A read-only fault, the same on every kind.
main3="$(make_main main3 8 4096)"
spare3="$(make_loop 8)"
size3="$(sectors_of "$main3")"
dd if=/tmp/a of="$main3" bs=1M count=8 oflag=direct status=none
dm_create r3 "0 $size3 remap $main3 $spare3 2 block_size 32"
set_bad main3 8:8
dmsetup message r3 0 remap 0
dd if=/tmp/a of=/tmp/expected bs=1M count=8 status=none
zero_expected 8 8
cmp /tmp/expected /dev/mapper/r3 || fail "phase 6: device content differs from expected"
assert_eq "phase 6: remapped" 1 "$(status_field r3 remapped)"
assert_eq "phase 6: lost_sectors" 8 "$(status_field r3 lost_sectors)"
kmod_log "phase 6 (4 KiB logical sectors): only the unreadable sector zeroed"
kmod_log "PASS"
