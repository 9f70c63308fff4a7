#!/usr/bin/env bash
# guest: (no disks: lib/mains.sh makes the spare, main is a loop device)
# guest-kinds: dmstack nullb
# guest-kernels: 6.1 6.12
# Faults of the spare's metadata; the kind is the SPARE's here (its table
# sectors fail to read or write). Each case once broke a promise:
#  A. a table update whose copy B fails is undone, so the table never holds a
#     remap the target does not: a later write that lands on main survives a
#     reload (it used to be shadowed by the failed remap left in copy A);
#  B. when neither copy can be written or undone, the block is "in doubt":
#     writes to it fail until the next table update decides it;
#  C. one unreadable sector in each copy, at different places, is read
#     sector by sector: the table loads (it used to be refused whole);
#  D. a resume whose re-read of the table fails keeps failing until a read
#     succeeds (it used to come up with an empty index: remapped blocks read
#     main), and the table left live but never resumed refuses the remap
#     message with EBUSY (it used to append at a slot it never read);
#  E. a proactive remap larger than the slots left moves what fits, then
#     fails with ENOSPC and only then reports spare_full;
#  F. a spare whose first 8 KiB were zeroed over old data, and one whose first
#     format was cut short, are formatted and reloaded (they used to be
#     refused for ever); a torn superblock on a spare holding remaps is still
#     refused;
#  G. two valid superblocks that differ: both are rewritten from the newer
#     (the repair used to copy copy A whatever won).
# Each case starts from a fresh main and spare. Arguments pick cases (default:
# all), e.g. `kmod-metadata-faults.sh C` to see one alone.
set -eu
. "$(dirname "$0")/lib/kmod.sh"
. "$(dirname "$0")/lib/mains.sh"

load_remap_module
SECTIONS="${*:-A B C D E F G}"
want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }

main="$(make_loop 64)"
size="$(sectors_of "$main")"
dd if=/dev/urandom of=/tmp/a bs=1M count=64 status=none
dd if=/dev/urandom of=/tmp/b bs=1M count=1 status=none

patch_expected() { # SECTOR COUNT SRC [SRC_SECTOR]
	dd if="$3" of=/tmp/expected bs=512 seek="$1" skip="${4:-0}" count="$2" conv=notrunc status=none
}
check_device() { # WHEN
	cmp /tmp/expected /dev/mapper/r || fail "$1: device content differs from expected"
	kmod_log "$1: whole device identical"
}
# A u64 field of superblock copy A of a spare, read beneath any fault layer.
sb_field() { # RAW OFFSET
	od -An -t u8 -j "$2" -N 8 "$1" | tr -d ' '
}
raw_sector() { # RAW SECTOR
	dd if="$1" bs=512 skip="$2" count=1 iflag=direct status=none | od -An -tx1
}
write_raw() { # RAW SECTOR SRC
	dd if="$3" of="$1" bs=512 seek="$2" count=1 oflag=direct conv=notrunc status=none
}
# Start a case: main holds /tmp/a again, and device r is created on SPARE.
start_case() { # SPARE
	dd if=/tmp/a of="$main" bs=1M oflag=direct status=none
	cp /tmp/a /tmp/expected
	table="0 $size remap $main $1 2 block_size 8"
	dm_create r "$table"
}
reload() {
	dm_remove r
	dm_create r "$table"
}

# --- A. copy B fails: the update is undone -----------------------------------
if want A; then
	spare="$(make_disk "$MAIN_KIND" sa 16)"
	raw="$(backing_of sa)"
	start_case "$spare"
	table_b="$(sb_field "$raw" 56)"
	set_bad sa "$table_b:8"
	expect_failure dmsetup message r 0 remap 100
	assert_eq "A: remapped" 0 "$(status_field r remapped)"
	assert_eq "A: health" metadata_error "$(status_field r health)"
	# Block 100 stays on main: this write lands there and is acknowledged.
	write_at /dev/mapper/r 800 8 /tmp/b || fail "A: a write after the failed update failed"
	patch_expected 800 8 /tmp/b
	set_bad sa
	reload
	assert_eq "A: list_remaps after reload" "" "$(dmsetup message r 0 list_remaps)"
	check_device "A (failed copy B: the update was undone)"
	dm_remove r
fi

# --- B. both copies fail: in doubt until the next update ---------------------
if want B; then
	spare="$(make_disk "$MAIN_KIND" sb 16)"
	raw="$(backing_of sb)"
	start_case "$spare"
	table_a="$(sb_field "$raw" 48)"
	table_b="$(sb_field "$raw" 56)"
	set_bad sb "$table_a:8" "$table_b:8"
	expect_failure dmsetup message r 0 remap 200
	if write_at /dev/mapper/r 1600 8 /tmp/b 8 2>/dev/null; then
		fail "B: a write to a block in doubt reported success"
	fi
	read_at /dev/mapper/r 1600 8 /tmp/got || fail "B: a read of a block in doubt failed"
	set_bad sb
	dmsetup message r 0 remap 300
	write_at /dev/mapper/r 1600 8 /tmp/b 8 || fail "B: a write after the next update failed"
	patch_expected 1600 8 /tmp/b 8
	reload
	assert_eq "B: list_remaps after reload" "300 0" "$(dmsetup message r 0 list_remaps)"
	check_device "B (in doubt, then decided by the next update)"
	dm_remove r
fi

# --- C. one bad sector in each copy, at different places ---------------------
if want C; then
	spare="$(make_disk "$MAIN_KIND" sc 16)"
	raw="$(backing_of sc)"
	start_case "$spare"
	table_a="$(sb_field "$raw" 48)"
	table_b="$(sb_field "$raw" 56)"
	dmsetup message r 0 remap 1000 120 # table sectors 0 and 1 full
	set_bad sc "$((table_a + 1)):1" "$table_b:1"
	reload
	assert_eq "C: remapped after reload" 120 "$(status_field r remapped)"
	assert_eq "C: list_remaps after reload" 120 "$(dmsetup message r 0 list_remaps | wc -l)"
	set_bad sc
	check_device "C (sector 1 of copy A and sector 0 of copy B unreadable)"
	reload
	assert_eq "C: copies agree on sector 0" "$(raw_sector "$raw" "$table_a")" "$(raw_sector "$raw" "$table_b")"
	assert_eq "C: copies agree on sector 1" \
		"$(raw_sector "$raw" $((table_a + 1)))" "$(raw_sector "$raw" $((table_b + 1)))"
	dm_remove r
fi

# --- D. a failed re-read at resume: the resume fails until a read succeeds ----
if want D; then
	raw="$(make_loop 16)"
	start_case "$raw"
	dmsetup message r 0 remap 2000 119 # sector 0 full, 59 entries in sector 1
	dmsetup load r --table "$table"    # the new instance reads 119 remaps
	dmsetup message r 0 remap 2500     # the live one fills sector 1 (and writes sector 2 empty)
	# New data through the device: it lands in the slots, main keeps the old.
	write_at /dev/mapper/r 16000 952 /tmp/b
	patch_expected 16000 952 /tmp/b
	write_at /dev/mapper/r 20000 8 /tmp/b 960
	patch_expected 20000 8 /tmp/b 960
	table_a="$(sb_field "$raw" 48)"
	table_b="$(sb_field "$raw" 56)"
	printf 'garbage%.0s' $(seq 80) | head -c 512 >/tmp/garbage
	write_raw "$raw" $((table_a + 2)) /tmp/garbage
	write_raw "$raw" $((table_b + 2)) /tmp/garbage
	expect_failure dmsetup resume r
	# The new table is live but never resumed: it must not append at a slot it never read.
	expect_failure dmsetup message r 0 remap 3000
	case "$KMOD_LAST_ERR" in
	*"Device or resource busy"*) ;;
	*) fail "D: expected EBUSY from the never-resumed table, got: $KMOD_LAST_ERR" ;;
	esac
	write_raw "$raw" $((table_a + 2)) /dev/zero
	write_raw "$raw" $((table_b + 2)) /dev/zero
	dmsetup resume r || fail "D: the resume after the table was readable again failed"
	assert_eq "D: remapped after the retried resume" 120 "$(status_field r remapped)"
	assert_eq "D: list_remaps after the retried resume" 120 "$(dmsetup message r 0 list_remaps | wc -l)"
	check_device "D (a failed re-read, then a good one)"
	dm_remove r
fi

# --- E. a proactive remap larger than the slots left --------------------------
if want E; then
	small="$(make_loop 1)"
	truncate -s 64K "$(losetup -nO BACK-FILE "$small")"
	losetup -c "$small"
	start_case "$small"
	slots="$(status_field r spare_total)"
	dmsetup message r 0 remap 3000 5
	assert_eq "E: health with slots left" degraded "$(status_field r health)"
	expect_failure dmsetup message r 0 remap 4000 $((slots + 10))
	assert_eq "E: remapped (every slot used)" "$slots" "$(status_field r remapped)"
	assert_eq "E: health once full" spare_full "$(status_field r health)"
	check_device "E (what fit was moved)"
	dm_remove r
fi

# --- F. first formats: zeroed over old data, and cut short ----------------------
if want F; then
	old="$(make_loop 16)"
	dd if=/dev/urandom of="$old" bs=1M count=16 oflag=direct status=none
	dd if=/dev/zero of="$old" bs=8K count=1 oflag=direct conv=notrunc status=none
	start_case "$old"
	reload
	assert_eq "F: a spare zeroed only over its first 8 KiB reloads" 0 "$(status_field r remapped)"
	dm_remove r
	# A torn superblock A (magic intact, checksum wrong) and a blank B: the
	# first format was cut short; no remap was ever made, so it is formatted again.
	printf 'torn' | dd of="$old" bs=1 seek=200 conv=notrunc status=none
	dd if=/dev/zero of="$old" bs=512 seek=8 count=1 conv=notrunc status=none
	sync
	dm_create r "$table"
	dmsetup message r 0 remap 10
	reload
	assert_eq "F: remaps after formatting again" "10 0" "$(dmsetup message r 0 list_remaps)"
	dm_remove r
	# The same damage on a spare holding a remap: refused, not formatted over.
	printf 'torn' | dd of="$old" bs=1 seek=200 conv=notrunc status=none
	dd if=/dev/zero of="$old" bs=512 seek=8 count=1 conv=notrunc status=none
	sync
	expect_failure dmsetup create r --uuid DMREMAP-test-r --table "$table"
	dmsetup remove r 2>/dev/null || true
	kmod_log "F: torn first format formatted again; torn superblock with remaps refused"
fi
# --- G. two valid superblocks that differ: the newer one wins and is copied ------
if want G; then
	spare="$(make_loop 16)"
	start_case "$spare"
	dmsetup message r 0 remap 10
	dm_remove r
	# Copy B: one update newer, and recording a spare 8 sectors smaller (still valid).
	newer="$(node --import tsx/esm tests/guest/lib/reseal-superblock.ts "$spare" b 80=1 24=-8)"
	dm_create r "$table"
	assert_eq "G: remaps with copy B adopted" "10 0" "$(dmsetup message r 0 list_remaps)"
	dm_remove r
	sb_hex() { dd if="$spare" bs=512 skip="$1" count=1 iflag=direct status=none | od -An -v -tx1 | tr -d ' \n'; }
	assert_eq "G: copy A rewritten from the newer copy B" "$newer" "$(sb_hex 0)"
	assert_eq "G: copy B kept" "$newer" "$(sb_hex 8)"
	kmod_log "G: two valid superblocks: both now hold the newer one"
fi
kmod_log "PASS ($MAIN_KIND spare: $SECTIONS)"
