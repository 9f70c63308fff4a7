#!/usr/bin/env bash
# guest: (no disks: main and spare are made in the guest's memory)
# guest-kinds: dmstack nullb scsi
# guest-kernels: 6.1 6.12
# guest-cost: 40
# Splitting: O_DIRECT reads and writes of every size from 512 B to 1 MiB
# (powers of two and odd multiples of 512) at misaligned offsets, over a
# device where remapped and normal blocks alternate, single remapped blocks
# sit between normal ones and runs of remapped blocks have non-contiguous
# slots. Each I/O is checked byte for byte, and so is the whole device.
# No faults: main is each kind of disk (lib/mains.sh) so the pieces of a
# split bio that go to main complete the way that kind completes them
# (bio-based dm, null_blk's or SCSI's blk-mq); the spare is a loop device.
# A spare with 4 KiB logical sectors: tests/guest/kmod-4kn.sh.
set -eu
. "$(dirname "$0")/lib/kmod.sh"
. "$(dirname "$0")/lib/mains.sh"

load_remap_module
main="$(make_main main 16)"
spare="$(make_disk loop spare 16)"
size="$(sectors_of "$main")"
bs="${BLOCK_SECTORS:-8}"
dm_create r "0 $size remap $main $spare 2 block_size $bs"

dd if=/dev/urandom of=/tmp/expected bs=1M count=16 status=none
dd if=/tmp/expected of=/dev/mapper/r bs=1M oflag=direct status=none

# Remaps in an order that makes slots differ from block order: every other
# block of 1000..1199 first, then a run that fills the gaps backwards.
for ((b = 1000; b < 1200; b += 2)); do dmsetup message r 0 remap "$b"; done
for ((b = 1199; b > 1000; b -= 2)); do dmsetup message r 0 remap "$b"; done
dmsetup message r 0 remap 3000 5
dmsetup message r 0 remap 3007
dmsetup message r 0 remap 4095
remapped="$(status_field r remapped)"
assert_eq "remapped blocks" $((200 + 5 + 1 + 1)) "$remapped"
cmp /tmp/expected /dev/mapper/r || fail "proactive remaps changed the data"

# Remapped blocks whose slots follow each other reach the spare as one bio;
# blocks whose slots do not, one bio each. Counted on the spare's own queue:
# requests completed plus bios merged into them (/sys/block/X/stat fields 1, 2).
spare_reads() { awk '{ print $1 + $2 }' "/sys/block/$(basename "$(readlink -f "$spare")")/stat"; }
bios_to_spare() { # FIRST_BLOCK BLOCKS: bios one direct read of them sends to the spare
	local before
	before="$(spare_reads)"
	read_at /dev/mapper/r $(($1 * bs)) $(($2 * bs)) /tmp/got
	echo $(($(spare_reads) - before))
}
assert_eq "bios to the spare for a read of blocks 3000-3004 (slots in a row)" 1 "$(bios_to_spare 3000 5)"
assert_eq "bios to the spare for a read of blocks 1000-1003 (slots apart)" 4 "$(bios_to_spare 1000 4)"

sizes=()
for ((n = 1; n <= 2048; n *= 2)); do sizes+=("$n"); done
sizes+=(3 5 7 9 15 17 31 33 63 65 127 129 255 257 511 513 1023 1025 2047)
# Offsets (in sectors) that start at, inside and just before remapped blocks.
offsets=($((1000 * bs)) $((1000 * bs + 1)) $((999 * bs + bs - 1)) $((1100 * bs + 3))
	$((3000 * bs - 2)) $((3004 * bs + bs - 1)) $((4095 * bs - 5)) 17)

dd if=/dev/urandom of=/tmp/src bs=1M count=1 status=none
ios=0
for n in "${sizes[@]}"; do
	for off in "${offsets[@]}"; do
		if [ $((off + n)) -gt "$size" ]; then continue; fi
		# Read first: must match what the device is expected to hold.
		read_at /dev/mapper/r "$off" "$n" /tmp/got
		dd if=/tmp/expected of=/tmp/want bs=512 skip="$off" count="$n" status=none
		cmp -s /tmp/want /tmp/got || fail "read of $n sectors at $off differs"
		# Then write fresh data there and read it back.
		src_off=$(((off * 7 + n) % (2048 - n + 1)))
		write_at /dev/mapper/r "$off" "$n" /tmp/src "$src_off"
		dd if=/tmp/src of=/tmp/expected bs=512 seek="$off" skip="$src_off" count="$n" conv=notrunc status=none
		read_at /dev/mapper/r "$off" "$n" /tmp/got
		dd if=/tmp/src of=/tmp/want bs=512 skip="$src_off" count="$n" status=none
		cmp -s /tmp/want /tmp/got || fail "write+read of $n sectors at $off differs"
		ios=$((ios + 3))
	done
done
cmp /tmp/expected /dev/mapper/r || fail "whole device differs after the sized I/O"
assert_eq "no new remaps from plain I/O" "$remapped" "$(status_field r remapped)"
kmod_log "$ios direct I/Os of ${#sizes[@]} sizes at ${#offsets[@]} offsets: all identical (block_size $bs)"

# The same device reloaded: the spare mapping must be unchanged.
dm_remove r
dm_create r "0 $size remap $main $spare 2 block_size $bs"
cmp /tmp/expected /dev/mapper/r || fail "whole device differs after recreate"

# A list_remaps reply larger than dmsetup's first buffer (~40 KiB here) must
# come back whole: DM flags the buffer full and dmsetup retries larger.
dmsetup message r 0 remap 0 3000
remapped="$(status_field r remapped)"
assert_eq "list_remaps lines" "$remapped" "$(dmsetup message r 0 list_remaps | wc -l)"
assert_eq "list_remaps 1000 10" "$(seq 1000 1009 | tr '\n' ' ')" \
	"$(dmsetup message r 0 list_remaps 1000 10 | cut -d' ' -f1 | tr '\n' ' ')"
# A zero count is refused, not read as "everything" (the range end would wrap).
for message in "list_remaps 0 0" "list_pending 5 0" "remap 5 0"; do
	# shellcheck disable=SC2086 # the message is split into its words on purpose
	if dmsetup message r 0 $message >/dev/null 2>&1; then
		fail "message '$message' was accepted"
	fi
done
cmp /tmp/expected /dev/mapper/r || fail "whole device differs after bulk remap"
kmod_log "list_remaps returned all $remapped remaps"
kmod_log "PASS"
