#!/usr/bin/env bash
# guest: (no disks: every kind of lib/mains.sh is built in the guest)
# guest-kernels: 6.1 6.12
# Proves lib/mains.sh, without dm-remap: each kind of disk is the size and
# logical block size asked for, starts blank, keeps what is written, and
# fails exactly where set_bad says — reads and writes for dmstack and nullb,
# reads only (a medium error) for scsi — and nowhere else; clearing restores
# it; backing_of gives the medium beneath the faults. The data-integrity
# tests rely on all of this, so a kernel whose null_blk or scsi_debug
# behaves otherwise fails here, plainly, first.
set -eu
. "$(dirname "$0")/lib/kmod.sh"
. "$(dirname "$0")/lib/mains.sh"

dd if=/dev/urandom of=/tmp/pattern bs=1M count=8 status=none

# Reads (or writes) COUNT sectors at SECTOR of DEV as one direct I/O; status
# says whether it worked.
reads() { read_at "$1" "$2" "$3" /tmp/got 2>/dev/null; }
writes() { write_at "$1" "$2" "$3" /tmp/pattern "$2" 2>/dev/null; }

check_kind() { # KIND LBS
	local kind="$1" lbs="$2" name="d_$1_$2" dev per
	per=$((lbs / 512))
	dev="$(make_disk "$kind" "$name" 8 "$lbs")"
	assert_eq "$kind/$lbs: sectors" 16384 "$(sectors_of "$dev")"
	assert_eq "$kind/$lbs: logical block size" "$lbs" "$(blockdev --getss "$dev")"
	cmp -s /dev/zero "$dev" -n $((8 << 20)) || fail "$kind/$lbs: a new disk is not blank"
	dd if=/tmp/pattern of="$dev" bs=1M oflag=direct status=none
	cmp /tmp/pattern "$dev" || fail "$kind/$lbs: content differs after a write"

	# One bad range of two logical blocks at 1024.
	set_bad "$name" "1024:$((2 * per))"
	assert_eq "$kind/$lbs: bad_ranges" "1024:$((2 * per))" "$(bad_ranges "$name")"
	! reads "$dev" 1024 "$per" || fail "$kind/$lbs: the first bad block reads"
	! reads "$dev" $((1024 + per)) "$per" || fail "$kind/$lbs: the second bad block reads"
	! reads "$dev" $((1024 - per)) $((2 * per)) || fail "$kind/$lbs: a read spanning a good and a bad block succeeded"
	reads "$dev" $((1024 - per)) "$per" || fail "$kind/$lbs: the block before the bad range fails"
	reads "$dev" $((1024 + 2 * per)) "$per" || fail "$kind/$lbs: the block after the bad range fails"
	if kind_fails_writes "$kind"; then
		! writes "$dev" 1024 "$per" || fail "$kind/$lbs: a write to a bad block succeeded"
	else
		writes "$dev" 1024 "$per" || fail "$kind/$lbs: a write to a bad block failed"
	fi
	writes "$dev" $((1024 + 2 * per)) "$per" || fail "$kind/$lbs: a write after the bad range failed"
	# The medium beneath the faults: readable where the disk is not, for dmstack.
	if [ "$kind" = dmstack ]; then
		read_at "$(backing_of "$name")" 1024 "$per" /tmp/got || fail "$kind/$lbs: backing_of fails"
	else
		assert_eq "$kind/$lbs: backing_of" "$dev" "$(backing_of "$name")"
	fi
	[ "$per" = 1 ] || expect_failure set_bad "$name" "1024:1"
	set_bad "$name"
	reads "$dev" 1024 $((2 * per)) || fail "$kind/$lbs: still failing after set_bad cleared it"
	cmp /tmp/pattern "$dev" || fail "$kind/$lbs: content differs after faults came and went"

	# Several ranges where the kind takes them.
	if [ "$kind" != scsi ]; then
		set_bad "$name" "0:$per" "$((16384 - per)):$per" "4096:$((8 * per))"
		! reads "$dev" 0 "$per" || fail "$kind/$lbs: sector 0 reads"
		! reads "$dev" $((16384 - per)) "$per" || fail "$kind/$lbs: the last block reads"
		! reads "$dev" $((4096 + 7 * per)) "$per" || fail "$kind/$lbs: the end of the third range reads"
		reads "$dev" 1024 "$per" || fail "$kind/$lbs: the range set before still fails"
		# The whole disk: a long range must fail everywhere (null_blk on 6.1
		# needs it cut into pieces of 512 sectors).
		set_bad "$name" "0:16384"
		for sector in 0 $((600 - 600 % per)) 5000 $((16384 - per)); do
			! reads "$dev" "$sector" "$per" || fail "$kind/$lbs: sector $sector of an all-bad disk reads"
			if kind_fails_writes "$kind"; then
				! writes "$dev" "$sector" "$per" || fail "$kind/$lbs: sector $sector of an all-bad disk takes a write"
			fi
		done
		set_bad "$name"
	else
		expect_failure set_bad "$name" "0:$per" "4096:$per"
		expect_failure set_bad "$name" "0:0"
	fi
	remove_disk "$name"
	[ ! -e "$MAINS_DIR/$name" ] || fail "$kind/$lbs: remove_disk left its state"
	kmod_log "$kind, $lbs-byte sectors: faults exactly where set_bad put them"
}

for kind in dmstack nullb scsi; do
	for lbs in 512 4096; do
		check_kind "$kind" "$lbs"
	done
done
# Two disks at once, of every kind but scsi; a second scsi disk is refused.
make_disk nullb n1 4 >/dev/null
make_disk dmstack m1 4 >/dev/null
make_disk loop l1 4 >/dev/null
make_disk scsi s1 4 >/dev/null
expect_failure make_disk scsi s2 4
expect_failure set_bad l1 0:1
kmod_log "PASS"
