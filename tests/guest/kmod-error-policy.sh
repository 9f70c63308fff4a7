#!/usr/bin/env bash
# guest: (no disks: the main is made by lib/mains.sh, the spare is a loop device)
# guest-kinds: dmstack nullb scsi
# guest-kernels: 6.1 6.12
# The error policy: only an error that says the medium failed moves a block,
# and a move never destroys data main still holds.
#  1. a bad block on this kind of main: a failed write is moved (kinds that
#     can fail writes), a failed read is counted and pending, and a write to
#     the pending block moves it;
#  2. main unreachable (every I/O fails: all sectors bad, or a SCSI disk set
#     offline): a partial-block write fails with EIO and moves nothing, so the
#     rest of its block is intact once main is back; a whole-block write
#     still moves (nothing is read);
#  3. a dying main (failing_after): after that many failing blocks with no
#     success in between the target stops moving, reports health=failing and
#     keeps every remap made so far; clear_stats re-arms it;
#  4. (dmstack) an error that is not about the medium, ENOSPC from a full thin
#     pool under main, is returned unchanged, counted in other_errors, and
#     nothing is moved.
# Each section starts from a fresh main content and spare. Arguments pick
# sections (default: all), e.g. `kmod-error-policy.sh 3` to see one alone.
set -eu
. "$(dirname "$0")/lib/kmod.sh"
. "$(dirname "$0")/lib/mains.sh"

load_remap_module
SECTIONS="${*:-1 2 3 4}"
want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
bs=8

main="$(make_main m 64)"
size="$(sectors_of "$main")"
dd if=/dev/urandom of=/tmp/a bs=1M count=64 status=none
dd if=/dev/urandom of=/tmp/b bs=1M count=1 status=none

# The whole main fails (unreachable) or works again.
main_unreachable() {
	if [ "$MAIN_KIND" = scsi ]; then
		echo offline >"/sys/block/$(basename "$main")/device/state"
	else
		set_bad m "0:$size"
	fi
}
main_back() {
	if [ "$MAIN_KIND" = scsi ]; then
		echo running >"/sys/block/$(basename "$main")/device/state"
	else
		set_bad m
	fi
}

# expected: what the device must hold, kept by the test.
patch_expected() { # SECTOR COUNT SRC [SRC_SECTOR]
	dd if="$3" of=/tmp/expected bs=512 seek="$1" skip="${4:-0}" count="$2" conv=notrunc status=none
}
check_device() { # WHEN
	cmp /tmp/expected /dev/mapper/r || fail "$1: device content differs from expected"
	kmod_log "$1: whole device identical"
}

# Start a section: main holds /tmp/a again, and device r is created on a
# new spare with FEATURES.
start_section() { # FEATURES...
	dd if=/tmp/a of="$main" bs=1M oflag=direct status=none
	cp /tmp/a /tmp/expected
	dm_create r "0 $size remap $main $(make_loop 16) $(($# + 2)) block_size $bs $*"
}

# --- 1. a bad block on this kind of main --------------------------------------
if want 1; then
	start_section
	set_bad m 16000:8
	if read_at /dev/mapper/r 16000 8 /tmp/out 2>/dev/null; then
		fail "1: a read of a bad block succeeded"
	fi
	assert_ge "1: read_errors" 1 "$(status_field r read_errors)"
	assert_eq "1: pending" 1 "$(status_field r pending)"
	assert_eq "1: list_pending" 2000 "$(dmsetup message r 0 list_pending)"
	write_at /dev/mapper/r 16000 8 /tmp/b || fail "1: a write to a pending block failed"
	patch_expected 16000 8 /tmp/b
	assert_eq "1: remapped after writing the pending block" 1 "$(status_field r remapped)"
	assert_eq "1: pending after the write" 0 "$(status_field r pending)"
	expected_remaps=1
	if kind_fails_writes "$MAIN_KIND"; then
		# The issue's reproduction: a 4 KiB direct write to a bad block of a
		# blk-mq disk must land on the spare, not fail.
		set_bad m 16000:8 24003:1
		write_at /dev/mapper/r 24000 8 /tmp/b 8 || fail "1: a write to a bad block failed"
		patch_expected 24000 8 /tmp/b 8
		expected_remaps=2
		assert_ge "1: write_errors" 1 "$(status_field r write_errors)"
	fi
	assert_eq "1: remapped" "$expected_remaps" "$(status_field r remapped)"
	assert_eq "1: lost_sectors" 0 "$(status_field r lost_sectors)"
	set_bad m
	check_device "1 (bad block on $MAIN_KIND)"
	dm_remove r
fi

# --- 2. main unreachable -------------------------------------------------------
if want 2; then
	start_section
	main_unreachable
	# 512 bytes into block 1250: moving it would need the 7 other sectors.
	if write_at /dev/mapper/r 10003 1 /tmp/b 2>/dev/null; then
		fail "2: a partial write while main is unreachable reported success"
	fi
	assert_eq "2: remapped after the partial write" 0 "$(status_field r remapped)"
	assert_eq "2: lost_sectors" 0 "$(status_field r lost_sectors)"
	assert_ge "2: write_errors" 1 "$(status_field r write_errors)"
	# A whole block needs nothing from main: it moves without loss.
	write_at /dev/mapper/r 12000 8 /tmp/b 16 || fail "2: a whole-block write while main is unreachable failed"
	patch_expected 12000 8 /tmp/b 16
	assert_eq "2: remapped after the whole-block write" 1 "$(status_field r remapped)"
	main_back
	check_device "2 (main back: the partial write's block kept all its sectors)"
	dm_remove r
fi

# --- 3. a dying main -------------------------------------------------------------
if want 3; then
	start_section failing_after 8
	main_unreachable
	moved=0
	refused=0
	for ((i = 0; i < 12; i++)); do
		sector=$((40000 + i * 80))
		if write_at /dev/mapper/r "$sector" 8 /tmp/b "$((i * 8))" 2>/dev/null; then
			moved=$((moved + 1))
			patch_expected "$sector" 8 /tmp/b "$((i * 8))"
		else
			refused=$((refused + 1))
		fi
	done
	# The 8th failing block in a row declares main failing: 7 moved, 5 refused.
	assert_eq "3: blocks moved before main was declared failing" 7 "$moved"
	assert_eq "3: writes refused once main is failing" 5 "$refused"
	assert_eq "3: remapped" 7 "$(status_field r remapped)"
	assert_eq "3: health" failing "$(status_field r health)"
	main_back
	check_device "3 (failing main: the 7 remaps kept their data)"
	# Health stays failing until clear_stats, even after main answers again.
	write_at /dev/mapper/r 50000 8 /tmp/b 200
	patch_expected 50000 8 /tmp/b 200
	assert_eq "3: health after a success" failing "$(status_field r health)"
	dmsetup message r 0 clear_stats
	assert_eq "3: health after clear_stats" degraded "$(status_field r health)"
	check_device "3 (after clear_stats)"
	dm_remove r
fi

# --- 4. an error that is not about the medium (dmstack: a full thin pool) ----
if want 4 && [ "$MAIN_KIND" = dmstack ]; then
	meta="$(make_loop 4)"
	data="$(make_loop 1)"
	thin_size=131072
	# 16 data blocks of 64 KiB; error_if_no_space: a write needing a 17th fails with ENOSPC at once.
	dm_create pool "0 2048 thin-pool $meta $data 128 0 1 error_if_no_space"
	dmsetup message pool 0 "create_thin 0"
	dm_create thin "0 $thin_size thin /dev/mapper/pool 0"
	spare3="$(make_loop 16)"
	dm_create r "0 $thin_size remap /dev/mapper/thin $spare3"
	dd if=/tmp/a of=/dev/mapper/r bs=1M count=1 oflag=direct status=none
	if write_at /dev/mapper/r 65536 8 /tmp/b 2>/tmp/nospc; then
		fail "4: a write to a full thin pool reported success"
	fi
	grep -q "No space left on device" /tmp/nospc || fail "4: expected ENOSPC, got: $(cat /tmp/nospc)"
	assert_eq "4: remapped" 0 "$(status_field r remapped)"
	assert_eq "4: other_errors" 1 "$(status_field r other_errors)"
	assert_eq "4: health" ok "$(status_field r health)"
	kmod_log "4 (full thin pool): ENOSPC returned unchanged, nothing moved"
	dm_remove r
	dm_remove thin
	dm_remove pool
fi
kmod_log "PASS ($MAIN_KIND: $SECTIONS)"
