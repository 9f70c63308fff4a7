#!/usr/bin/env bash
# guest: (no disks: loop devices in the guest's tmpfs)
# Damaged or foreign metadata on the spare: one damaged copy is repaired from
# the other (the bytes are checked), two damaged copies make the table load
# fail with a clear kernel log message and leave the spare untouched, a spare
# formatted for another main device is refused, and a blank spare is never
# formatted by a table load that fails.
# Loop devices only, no guest-kinds: this is about the spare's metadata, not
# about how main completes I/O (lib/mains.sh, the data-integrity tests).
set -eu
. "$(dirname "$0")/lib/kmod.sh"

load_remap_module
main="$(make_loop 32)"
spare="$(make_loop 16)"
size="$(sectors_of "$main")"
table="0 $size remap $main $spare"

# Superblock fields (dm-remap-metadata.c): u64 at byte 40 table_sectors,
# 48 table_a, 56 table_b.
sb_u64() { od -An -t u8 -j "$1" -N 8 "$spare" | tr -d ' '; }
sector_of() { dd if="$1" bs=512 skip="$2" count=1 iflag=direct status=none | od -An -tx1 | tr -d ' \n'; }
scribble() { dd if=/dev/urandom of="$spare" bs=512 seek="$1" count=1 oflag=direct conv=notrunc status=none; }
spare_sum() { sha256sum <"$spare" | cut -d' ' -f1; }
mark_log() { echo "kmod-corruption: $1" >/dev/kmsg; }
log_since_mark() { dmesg | sed -n "/kmod-corruption: $1/,\$p"; }

dm_create r "$table"
dmsetup message r 0 remap 10 100
for b in 500 700 900 1100 1300 1500 1700 1900 2100 2300; do
	dmsetup message r 0 remap "$b"
done
dmsetup message r 0 remap 3000 60
expected="$(dmsetup message r 0 list_remaps)"
assert_eq "remaps before damage" 170 "$(status_field r remapped)"
dm_remove r

table_a="$(sb_u64 48)"
table_b="$(sb_u64 56)"
kmod_log "table copy A at sector $table_a, copy B at $table_b ($(sb_u64 40) sectors each)"
dd if="$spare" of=/tmp/spare-good bs=1M count=1 iflag=direct status=none

restore_spare() { dd if=/tmp/spare-good of="$spare" bs=1M count=1 oflag=direct conv=notrunc status=none; }

# One damaged copy: the load must succeed with every remap and rewrite the
# damaged sector so both copies are identical again.
repair_case() { # WHAT DAMAGED_SECTOR PARTNER_SECTOR
	restore_spare
	scribble "$2"
	[ "$(sector_of "$spare" "$2")" != "$(sector_of "$spare" "$3")" ] || fail "$1: scribble did nothing"
	mark_log "$1"
	dm_create r "$table"
	assert_eq "$1: remaps" "$expected" "$(dmsetup message r 0 list_remaps)"
	assert_eq "$1: repaired bytes" "$(sector_of "$spare" "$3")" "$(sector_of "$spare" "$2")"
	log_since_mark "$1" | grep -q 'damaged' || fail "$1: no kernel log line about the damage"
	dm_remove r
	kmod_log "$1: loaded and repaired"
}
repair_case "table copy A, sector 1" $((table_a + 1)) $((table_b + 1))
repair_case "table copy B, sector 0" "$table_b" "$table_a"
repair_case "table copy B, last used sector" $((table_b + 2)) $((table_a + 2))
repair_case "superblock copy A" 0 8
repair_case "superblock copy B" 8 0

# A table load of the spare that must fail, say why in the kernel log and
# leave the spare untouched.
expect_refused() { # WHAT TABLE EXPECTED_LOG
	local before
	before="$(spare_sum)"
	mark_log "$1"
	expect_failure dmsetup create refused --uuid DMREMAP-test-refused --table "$2"
	dmsetup remove refused 2>/dev/null || true
	log_since_mark "$1" | grep -q "$3" || fail "$1: kernel log lacks '$3'"
	assert_eq "$1: spare untouched" "$before" "$(spare_sum)"
	kmod_log "$1: refused with '$3'"
}

# Both copies damaged: refuse, say why, write nothing.
refuse_case() { # WHAT EXPECTED_LOG SECTOR...
	local what="$1" message="$2"
	shift 2
	restore_spare
	for s in "$@"; do scribble "$s"; done
	expect_refused "$what" "$table" "$message"
}
refuse_case "both table copies of sector 1" "corrupt in both copies" $((table_a + 1)) $((table_b + 1))
refuse_case "both superblocks" "both superblocks corrupt" 0 8
restore_spare

# A spare formatted for another main device (size, block size, main_id).
other_main="$(make_loop 16)"
expect_refused "main of another size" "0 $(sectors_of "$other_main") remap $other_main $spare" \
	"Spare belongs to a main device of another size"
expect_refused "another block_size" "0 $size remap $main $spare 2 block_size 16" \
	"Spare was formatted with another block_size"
expect_refused "another main_id" "0 $size remap $main $spare 2 main_id disk-b" \
	"Spare belongs to another main_id"

# Two mapped devices on one spare would overwrite each other's slots.
dm_create r "$table"
expect_refused "spare in use" "0 $(sectors_of "$other_main") remap $other_main $spare" \
	"Spare device is in use by another device"
dm_remove r

# A blank spare is formatted only once the whole table is accepted.
blank="$(make_loop 8)"
before="$(spare_sum)"
expect_failure dmsetup create bad --uuid DMREMAP-test-bad --table "0 $size remap $main $blank
$size 8 no-such-target"
dmsetup remove bad 2>/dev/null || true
[ -z "$(tr -d '\0' <"$blank" | head -c 1)" ] || fail "a failed table load wrote to the blank spare"
kmod_log "failed table load left the blank spare all-zero"
kmod_log "PASS"
