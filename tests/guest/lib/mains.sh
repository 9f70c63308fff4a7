# shellcheck shell=bash
# Kinds of disk the dm-remap guest tests put under the target as main (or as
# the spare). Source it after lib/kmod.sh.
#
# Why: a device-mapper stack under main (linear + error segments, flakey) is
# bio-based and completes a clone without advancing its iterator. Every real
# disk is request-based (blk-mq): it completes a bio with the iterator
# advanced, fully even when the request failed, and SCSI reports a medium
# error rather than a plain I/O error. A target tested only over dm stacks
# never sees that shape. So a test builds main with make_main, which takes
# the kind from DM_REMAP_MAIN_KIND (scripts/guest-tests.sh sets it from the
# test's "# guest-kinds:" header), and makes sectors fail with set_bad,
# whatever the kind.
#
#   dmstack  a loop file under a dm device NAME of linear/error segments
#            (/dev/mapper/NAME, bio-based): bad sectors fail reads and writes
#   nullb    null_blk through configfs, memory-backed (/dev/NAME, blk-mq):
#            a request touching a bad sector fails whole, reads and writes,
#            with BLK_STS_IOERR
#   scsi     scsi_debug under sd (/dev/sdX, blk-mq through the SCSI layer):
#            a READ touching the one bad LBA range fails whole with a medium
#            error (BLK_STS_MEDIUM, ENODATA); writes always succeed. One scsi
#            disk per guest: its sector size is a module parameter
#   loop     a loop device (blk-mq), no faults: a plain spare
#
# State lives in files under MAINS_DIR, not in variables: make_disk runs in
# a command substitution (a subshell) and cleanup must still find its disks.

MAIN_KIND="${DM_REMAP_MAIN_KIND:-dmstack}"
MAINS_DIR=/tmp/kmod-mains
MAINS_NULLB=/sys/kernel/config/nullb
MAINS_SCSI_PARAMS=/sys/module/scsi_debug/parameters
MAINS_SCSI_OPTS=/sys/bus/pseudo/drivers/scsi_debug/opts
# scsi_debug completes each command after this many ns from a timer, as a
# disk's interrupt would; its default (one jiffy) makes sector-sized I/O
# crawl (2000 writes of 512 B: 10 s instead of 1 s).
MAINS_SCSI_NDELAY=20000
mkdir -p "$MAINS_DIR"

case "$MAIN_KIND" in
dmstack | nullb | scsi | loop) ;;
*) fail "DM_REMAP_MAIN_KIND '$MAIN_KIND' is not dmstack, nullb, scsi or loop" ;;
esac

mains_field() { # NAME FIELD
	cat "$MAINS_DIR/$1/$2" 2>/dev/null || fail "no disk named '$1' (make_disk first)"
}

disk_kind() { mains_field "$1" kind; }       # NAME
disk_lbs() { mains_field "$1" lbs; }         # NAME: logical block bytes
disk_path() { mains_field "$1" path; }       # NAME: what a table names
bad_ranges() { mains_field "$1" bad; }       # NAME: what set_bad set last
kind_of_main() { printf '%s\n' "$MAIN_KIND"; }

# The medium beneath NAME's fault layer, for reading or writing the disk's
# raw content: dmstack's loop device, where bad ranges read and write fine;
# for the other kinds the disk itself, which IS the medium: a bad range
# fails there too, so read around it or clear it first.
backing_of() { mains_field "$1" medium; } # NAME

# Status 0 when a disk of KIND can make writes fail. Where it cannot (scsi),
# a test makes the blocks unreadable and reads them first (make_pending):
# the failed read marks a block pending, and the next write to it moves it
# to the spare, the same move through another path.
kind_fails_writes() { # KIND
	case "$1" in
	dmstack | nullb) return 0 ;;
	scsi | loop) return 1 ;;
	*) fail "unknown disk kind '$1'" ;;
	esac
}

# Waits for block device node PATH to appear (devtmpfs creates nodes
# asynchronously). A bound against a hang, not a timing check: generous
# because TCG guests on a busy host are slow.
mains_wait_for() { # PATH
	local i
	for ((i = 0; i < 1200; i++)); do
		[ -b "$1" ] && return 0
		sleep 0.1
	done
	fail "$1 did not appear within 120 s"
}

mains_loop() { # NAME SIZE_MB LBS -> loop device over $MAINS_DIR/NAME/image
	local image="$MAINS_DIR/$1/image" dev
	truncate -s "${2}M" "$image" || fail "cannot create $image"
	dev="$(losetup --find --show --sector-size "$3" "$image")" || fail "losetup of $image failed"
	echo "$dev" >"$MAINS_DIR/$1/loop"
	echo "$dev"
}

# configfs and null_blk without its default disk, once per guest.
mains_nullb_ready() {
	[ -d "$MAINS_NULLB" ] && return 0
	modprobe configfs || fail "cannot load configfs"
	grep -q ' /sys/kernel/config ' /proc/mounts ||
		mount -t configfs none /sys/kernel/config || fail "cannot mount configfs"
	modprobe null_blk nr_devices=0 || fail "cannot load null_blk"
	[ -d "$MAINS_NULLB" ] || fail "null_blk has no configfs directory"
}

mains_nullb() { # NAME SIZE_MB LBS -> /dev/NAME
	local cfg="$MAINS_NULLB/$1"
	mains_nullb_ready
	# null_blk names the disk after its configfs directory.
	[ ! -e "/dev/$1" ] || fail "make_disk nullb: /dev/$1 exists already: choose another name"
	mkdir "$cfg" || fail "cannot create $cfg"
	echo "$cfg" >"$MAINS_DIR/$1/nullb"
	{ echo "$2" >"$cfg/size" && echo "$3" >"$cfg/blocksize" &&
		echo 1 >"$cfg/memory_backed" && echo 1 >"$cfg/power"; } ||
		fail "configuring null_blk $1 failed"
	mains_wait_for "/dev/$1"
	echo "/dev/$1"
}

mains_scsi() { # NAME SIZE_MB LBS -> /dev/sdX
	local other block scsi_blocks i
	for other in "$MAINS_DIR"/*/kind; do
		[ "$other" = "$MAINS_DIR/$1/kind" ] || ! grep -qx scsi "$other" 2>/dev/null ||
			fail "make_disk scsi $1: only one scsi disk at a time (scsi_debug's sector size is per module load); $(basename "$(dirname "$other")") is one"
	done
	[ ! -d /sys/module/scsi_debug ] || fail "make_disk scsi $1: scsi_debug is loaded already"
	# Without udev nothing loads sd for the new disk: load it first.
	modprobe sd_mod || fail "cannot load sd_mod"
	# opts=0: no medium errors until set_bad turns them on.
	modprobe scsi_debug dev_size_mb="$2" sector_size="$3" opts=0 ndelay="$MAINS_SCSI_NDELAY" ||
		fail "cannot load scsi_debug"
	echo scsi_debug >"$MAINS_DIR/$1/scsi"
	# The disk appears once the host's asynchronous scan has attached sd.
	for ((i = 0; i < 1200; i++)); do
		scsi_blocks=(/sys/bus/pseudo/drivers/scsi_debug/adapter*/host*/target*/*/block/*)
		[ -e "${scsi_blocks[0]}" ] && break
		sleep 0.1
	done
	[ -e "${scsi_blocks[0]}" ] || fail "scsi_debug's disk did not appear within 120 s"
	block="/dev/${scsi_blocks[0]##*/}"
	mains_wait_for "$block"
	echo "$block"
}

# Creates disk NAME of KIND, SIZE_MB MiB with logical blocks of
# LOGICAL_BLOCK_BYTES (512 or 4096, default 512), blank (all zeros), no
# sector bad; prints the path to put in a table.
make_disk() { # KIND NAME SIZE_MB [LOGICAL_BLOCK_BYTES]
	local kind="$1" name="$2" size_mb="$3" lbs="${4:-512}" dir="$MAINS_DIR/$2" path medium
	[[ "$name" =~ ^[A-Za-z][A-Za-z0-9_]*$ ]] || fail "make_disk: bad disk name '$name'"
	[ ! -e "$dir" ] || fail "make_disk: a disk named $name exists already"
	[ "$lbs" = 512 ] || [ "$lbs" = 4096 ] || fail "make_disk $name: logical block size $lbs is not 512 or 4096"
	{ mkdir "$dir" && echo "$kind" >"$dir/kind" && echo "$lbs" >"$dir/lbs" && : >"$dir/bad" &&
		echo "$name" >>"$MAINS_DIR/order"; } || fail "make_disk: cannot record $name"
	case "$kind" in
	dmstack)
		medium="$(mains_loop "$name" "$size_mb" "$lbs")" || exit 1
		dmsetup create "$name" --uuid "DMREMAP-test-$name" --table "$(error_table "$medium")" ||
			fail "cannot create dm device $name"
		path="/dev/mapper/$name"
		;;
	nullb) path="$(mains_nullb "$name" "$size_mb" "$lbs")" || exit 1 ;;
	scsi) path="$(mains_scsi "$name" "$size_mb" "$lbs")" || exit 1 ;;
	loop) path="$(mains_loop "$name" "$size_mb" "$lbs")" || exit 1 ;;
	*) fail "make_disk: unknown kind '$kind' (dmstack, nullb, scsi, loop)" ;;
	esac
	[ "$(blockdev --getss "$path")" = "$lbs" ] || fail "make_disk: $path has $(blockdev --getss "$path")-byte logical blocks, not $lbs"
	echo "$path" >"$dir/path"
	echo "${medium:-$path}" >"$dir/medium"
	echo "$path"
}

make_main() { make_disk "$MAIN_KIND" "$@"; } # NAME SIZE_MB [LOGICAL_BLOCK_BYTES]

# Makes the 512-byte sectors FIRST..FIRST+COUNT-1 of each RANGE fail on disk
# NAME, replacing what set_bad set before; no RANGE clears them all. Ranges
# must cover whole logical blocks of the disk and may not overlap. dmstack
# and nullb fail reads and writes there; scsi fails reads only, and takes at
# most one range; loop takes none.
set_bad() { # NAME [FIRST:COUNT...]
	local name="$1" kind lbs per size range first count
	shift
	kind="$(disk_kind "$name")" && lbs="$(disk_lbs "$name")" || exit 1
	per=$((lbs / 512))
	size="$(sectors_of "$(disk_path "$name")")"
	for range in "$@"; do
		[[ "$range" =~ ^[0-9]+:[0-9]+$ ]] || fail "set_bad $name: '$range' is not FIRST:COUNT"
		first="${range%%:*}"
		count="${range##*:}"
		{ [ "$count" -gt 0 ] && [ $((first % per)) = 0 ] && [ $((count % per)) = 0 ]; } ||
			fail "set_bad $name: $range is not whole $lbs-byte logical blocks"
		[ $((first + count)) -le "$size" ] || fail "set_bad $name: $range ends beyond the disk ($size sectors)"
	done
	case "$kind" in
	dmstack) dm_swap_table "$name" "$(error_table "$(backing_of "$name")" "$@")" ;;
	nullb)
		local cfg="$MAINS_NULLB/$name"
		echo "-0-$((size - 1))" >"$cfg/badblocks" || fail "set_bad $name: cannot clear null_blk's bad blocks"
		# One entry per 512 sectors at most: the badblocks code of 6.1
		# honours only the first 512 sectors of a longer range, and none of
		# a range of a few thousand, without an error (6.12 takes any).
		local piece
		for range in "$@"; do
			first="${range%%:*}"
			count="${range##*:}"
			for ((piece = first; piece < first + count; piece += 512)); do
				echo "+$piece-$((piece + 512 > first + count ? first + count - 1 : piece + 511))" \
					>"$cfg/badblocks" || fail "set_bad $name: null_blk refused bad range $range"
			done
		done
		;;
	scsi)
		[ $# -le 1 ] || fail "set_bad $name: scsi_debug fails one range of LBAs at a time, got $#: $*"
		# opts bit 2 turns medium errors on for the LBAs [medium_error_start,
		# + medium_error_count). Off while the range changes; and a count of
		# 0 is no "off": its test still fails reads across the start LBA.
		echo 0 >"$MAINS_SCSI_OPTS" || fail "set_bad $name: cannot turn scsi_debug's medium errors off"
		if [ $# = 1 ]; then
			first="${1%%:*}"
			count="${1##*:}"
			{ echo $((first / per)) >"$MAINS_SCSI_PARAMS/medium_error_start" &&
				echo $((count / per)) >"$MAINS_SCSI_PARAMS/medium_error_count" &&
				echo 2 >"$MAINS_SCSI_OPTS"; } ||
				fail "set_bad $name: cannot set the medium error range"
		fi
		;;
	loop) [ $# = 0 ] || fail "set_bad $name: a loop disk cannot fail" ;;
	esac
	echo "$*" >"$MAINS_DIR/$name/bad"
}

# For a disk whose writes cannot fail: makes the blocks of remap device DEV
# (blocks of BLOCK_SECTORS) holding each RANGE pending, by making the range
# bad on disk NAME and reading those whole blocks through DEV, which must
# fail. One range at a time (scsi takes one at a time); leaves NAME with no
# bad sector. The next write to a pending block moves it to the spare.
make_pending() { # DEV BLOCK_SECTORS NAME FIRST:COUNT...
	local dev="$1" bs="$2" name="$3" range first count start end
	shift 3
	for range in "$@"; do
		first="${range%%:*}"
		count="${range##*:}"
		start=$((first / bs * bs))
		end=$(((first + count + bs - 1) / bs * bs))
		set_bad "$name" "$range"
		if read_at "$dev" "$start" $((end - start)) "$MAINS_DIR/pending-read" 2>/dev/null; then
			fail "make_pending: reading sectors $start..$((end - 1)) of $dev succeeded while $range of $name is bad"
		fi
	done
	set_bad "$name"
}

# Removes disk NAME (its dm device, null_blk node, scsi_debug or loop);
# whatever sits on it must be gone first.
remove_disk() { # NAME
	local dir="$MAINS_DIR/$1" kept
	[ -d "$dir" ] || fail "remove_disk: no disk named '$1'"
	if [ "$(cat "$dir/kind")" = dmstack ]; then
		dmsetup remove --retry "$1" || fail "remove_disk: cannot remove dm device $1"
	fi
	if [ -f "$dir/nullb" ]; then
		{ echo 0 >"$(cat "$dir/nullb")/power" && rmdir "$(cat "$dir/nullb")"; } ||
			fail "remove_disk: cannot remove null_blk $1"
	fi
	if [ -f "$dir/scsi" ]; then
		rmmod scsi_debug || fail "remove_disk: cannot unload scsi_debug ($1)"
	fi
	if [ -f "$dir/loop" ]; then
		losetup -d "$(cat "$dir/loop")" || fail "remove_disk: cannot detach the loop device of $1"
	fi
	rm -rf "$dir"
	kept="$(grep -vx "$1" "$MAINS_DIR/order" || true)"
	printf '%s\n' "$kept" | sed '/^$/d' >"$MAINS_DIR/order"
}

# Every disk still there, newest first, ignoring errors: at exit, after
# kmod_cleanup removed the remap devices on top of them.
mains_cleanup() {
	local names i
	[ -s "$MAINS_DIR/order" ] || return 0
	mapfile -t names <"$MAINS_DIR/order"
	for ((i = ${#names[@]} - 1; i >= 0; i--)); do
		(remove_disk "${names[$i]}") >/dev/null 2>&1 || true
	done
}
trap 'kmod_cleanup; mains_cleanup' EXIT
