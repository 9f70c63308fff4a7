#!/usr/bin/env bash
# guest: (no disks: main, spare and faults are made in the guest's memory)
# guest-kinds: dmstack nullb scsi
# guest-kernels: 6.1 6.12
# Writes racing a block move. Every block of a range has one bad sector (3);
# eight writers write one sector each (0..7) of every block at the same time,
# so the write to sector 3 moves the block while the seven others are in
# flight to main or arrive during the move. Afterwards every sector must hold
# what its writer wrote: a write that completed on main before the move must
# be copied, one arriving during it must wait for it.
# Main is each kind of disk (lib/mains.sh): dmstack and nullb fail the
# writes to sector 3 (nullb as blk-mq completions). scsi cannot fail a write:
# each round first reads its blocks while they are unreadable, so all are
# pending, and then the first of the eight writes to reach a block moves it
# while the other seven arrive during the move and must wait for it.
set -eu
. "$(dirname "$0")/lib/kmod.sh"
. "$(dirname "$0")/lib/mains.sh"

load_remap_module
main="$(make_main main 8)"
spare="$(make_disk loop spare 8)"
size="$(sectors_of "$main")"
blocks="${1:-64}"
rounds="${2:-3}"
dm_create r "0 $size remap $main $spare"

# Writer K copies sector K of every block from /tmp/src (what the range must
# hold afterwards) to the same place on the device.
writer() { # ROUND SECTOR_IN_BLOCK
	local b base=$(($1 * blocks * 8))
	for ((b = 0; b < blocks; b++)); do
		write_at /dev/mapper/r $((base + b * 8 + $2)) 1 /tmp/src $((b * 8 + $2)) ||
			echo "write of block $b sector $2 failed" >>/tmp/writer-errors
	done
}

rm -f /tmp/writer-errors
for ((round = 0; round < rounds; round++)); do
	dd if=/dev/urandom of=/tmp/src bs=4096 count="$blocks" status=none
	if kind_fails_writes "$MAIN_KIND"; then
		ranges=()
		for ((b = 0; b < blocks; b++)); do ranges+=("$(((round * blocks + b) * 8 + 3)):1"); done
		set_bad main "${ranges[@]}"
	else
		make_pending /dev/mapper/r 8 main "$((round * blocks * 8)):$((blocks * 8))"
		assert_eq "round $round: pending" "$blocks" "$(status_field r pending)"
	fi
	for ((k = 0; k < 8; k++)); do writer "$round" "$k" & done
	wait
	[ ! -s /tmp/writer-errors ] || fail "round $round: $(head -3 /tmp/writer-errors)"
	read_at /dev/mapper/r $((round * blocks * 8)) $((blocks * 8)) /tmp/got
	cmp /tmp/src /tmp/got || fail "round $round: a sector lost its write (cmp: byte / 512 = sector)"
	kmod_log "round $round: $blocks blocks moved under 8 concurrent writers, every sector intact"
done
assert_eq "remapped" $((blocks * rounds)) "$(status_field r remapped)"
assert_eq "lost_sectors" 0 "$(status_field r lost_sectors)"
kmod_log "PASS"
