#!/usr/bin/env bash
# guest: (no disks: main, spares and faults are made in the guest's memory)
# guest-kinds: dmstack nullb scsi
# guest-kernels: 6.1 6.12
# When moving a block cannot succeed the target must say so, not pretend:
#  - spare full: the write fails with EIO, health=spare_full, remap_failures
#    counts it, and blocks moved before keep their data;
#  - the spare's metadata area fails: the write fails, health=metadata_error;
#    once the spare works again the next write moves the block and health
#    returns to degraded;
#  - a table sector a failed remap left in one copy is not read on reload.
# Main is a disk of DM_REMAP_MAIN_KIND (lib/mains.sh). The failing spare is
# of the same kind where that kind can fail writes (dmstack: bio-based;
# nullb: blk-mq, so the slot and table writes complete as on a real disk),
# else nullb: the scsi run has a scsi main and a nullb spare. The tiny spare
# of the first part is a loop device (it is about capacity, not faults). A
# scsi main cannot fail a write: the blocks are made unreadable and read
# first (pending), and the writes then try to move them.
set -eu
. "$(dirname "$0")/lib/kmod.sh"
. "$(dirname "$0")/lib/mains.sh"

if kind_fails_writes "$MAIN_KIND"; then
	spare_kind="$MAIN_KIND"
else
	spare_kind=nullb
fi

# Makes writes to the blocks of RANGE... of main fail (dmstack, nullb), or
# makes those blocks pending in r (scsi); either way the next write to them
# must move them.
fault_main() { # RANGE...
	if kind_fails_writes "$MAIN_KIND"; then
		set_bad main "$@"
	else
		make_pending /dev/mapper/r 8 main "$@"
	fi
}

load_remap_module
dd if=/dev/urandom of=/tmp/a bs=1M count=8 status=none

# --- spare full ---------------------------------------------------------------
main="$(make_main main 8)"
# A 64 KiB spare: superblocks and one table sector per copy leave 12 slots.
small_spare="$(make_loop 1)"
truncate -s 64K "$(losetup -nO BACK-FILE "$small_spare")"
losetup -c "$small_spare"
size="$(sectors_of "$main")"
dm_create r "0 $size remap $main $small_spare"
slots="$(status_field r spare_total)"
dd if=/tmp/a of=/dev/mapper/r bs=1M oflag=direct status=none
kmod_log "small spare: $slots slots; main: $MAIN_KIND, failing spare: $spare_kind"

# One bad sector in each of slots + 2 blocks (every 16th block).
ranges=()
for ((i = 0; i < slots + 2; i++)); do ranges+=("$((i * 16 * 8 + 5)):1"); done
fault_main "${ranges[@]}"
if dd if=/tmp/a of=/dev/mapper/r bs=1M count=1 oflag=direct status=none 2>/dev/null; then
	fail "a write needing more slots than the spare has reported success"
fi
assert_eq "spare full: remapped" "$slots" "$(status_field r remapped)"
assert_eq "spare full: health" spare_full "$(status_field r health)"
assert_ge "spare full: remap_failures" 1 "$(status_field r remap_failures)"
# Every block that did move reads back what was written.
read_at /dev/mapper/r 0 $(((slots - 1) * 16 * 8 + 8)) /tmp/got
dd if=/tmp/a of=/tmp/want bs=512 count=$(((slots - 1) * 16 * 8 + 8)) status=none
cmp /tmp/want /tmp/got || fail "spare full: data of moved blocks differs"
kmod_log "spare full: write failed with EIO, $slots moved blocks intact"
dm_remove r
set_bad main

# --- metadata writes fail -----------------------------------------------------
spare_dm="$(make_disk "$spare_kind" spare 8)"
# Where the spare's sectors can be read and written around its faults.
spare="$(backing_of spare)"
dm_create r "0 $size remap $main $spare_dm"
dd if=/tmp/a of=/dev/mapper/r bs=1M oflag=direct status=none
# Superblock u64 fields: 48 table_a, 56 table_b.
table_a="$(od -An -t u8 -j 48 -N 8 "$spare" | tr -d ' ')"
table_b="$(od -An -t u8 -j 56 -N 8 "$spare" | tr -d ' ')"
set_bad spare "$table_b:8"
fault_main 805:1
if write_at /dev/mapper/r 800 8 /tmp/a 800 2>/dev/null; then
	fail "a write whose remap could not be persisted reported success"
fi
assert_eq "metadata failure: health" metadata_error "$(status_field r health)"
assert_eq "metadata failure: remapped" 0 "$(status_field r remapped)"
assert_ge "metadata failure: remap_failures" 1 "$(status_field r remap_failures)"
set_bad spare
write_at /dev/mapper/r 800 8 /tmp/a 800 || fail "write after the spare recovered failed"
assert_eq "recovered: health" degraded "$(status_field r health)"
assert_eq "recovered: remapped" 1 "$(status_field r remapped)"
cmp /tmp/a /dev/mapper/r || fail "recovered: device content differs"
# Both copies now agree on the table sector that holds the remap.
assert_eq "table copies agree" \
	"$(dd if="$spare" bs=512 skip="$table_a" count=1 iflag=direct status=none | od -An -tx1)" \
	"$(dd if="$spare" bs=512 skip="$table_b" count=1 iflag=direct status=none | od -An -tx1)"
kmod_log "metadata failure: reported as metadata_error, recovered on the next write"

# --- a failed append leaves a table sector behind in copy A -----------------
# Table sectors hold 60 remaps. With slots 0..58 used, remapping 3 blocks
# writes sectors 0 and 1; copy B's sector 1 fails, so the remaps are not made,
# yet copy A keeps that sector 1. The next remap fills sector 0 exactly: a
# reload must end the table there, not adopt the leftover sector 1.
dmsetup message r 0 remap 200 58
assert_eq "leftover sector: remapped before" 59 "$(status_field r remapped)"
set_bad spare "$((table_b + 1)):1"
expect_failure dmsetup message r 0 remap 300 3
set_bad spare
dmsetup message r 0 remap 400
assert_eq "leftover sector: remapped" 60 "$(status_field r remapped)"
dm_remove r
dm_create r "0 $size remap $main $spare_dm"
assert_eq "leftover sector: remapped after reload" 60 "$(status_field r remapped)"
assert_eq "leftover sector: list_remaps after reload" 60 "$(dmsetup message r 0 list_remaps | wc -l)"
cmp /tmp/a /dev/mapper/r || fail "leftover sector: device content differs"
kmod_log "leftover sector: a failed append's table sector is not read after a reload"
kmod_log "PASS"
