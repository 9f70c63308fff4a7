#!/usr/bin/env bash
# guest: --disk spare=16M
# Persistence of the remap table on the spare.
#   kmod-persistence.sh              one boot: cause remaps, remove and
#                                    recreate the device, same remaps and data
#   kmod-persistence.sh write DIR    first boot of kmod-reboot.host.sh: the
#                                    same, then leave the expectations in DIR
#                                    and main's content on DISK_main
#   kmod-persistence.sh verify DIR   second boot, same disks: the remaps and
#                                    the data must be exactly those of DIR
# Main is a disk of DM_REMAP_MAIN_KIND (lib/mains.sh), made afresh in every
# boot: between boots its content waits on the virtio disk DISK_main, as a
# platter keeps it (copied back at the start of the verify boot); the spare
# is the virtio disk DISK_spare itself. scsi cannot fail a write: the blocks
# the other kinds fail are made unreadable and read first (pending), then the
# overwrite moves them. kmod-reboot.host.sh runs this over every kind on
# both kernels (its first boot does all of the one-boot mode), so the guest
# runner runs the one-boot mode alone just once, without headers.
set -eu
. "$(dirname "$0")/lib/kmod.sh"
. "$(dirname "$0")/lib/mains.sh"

mode="${1:-once}"
notes="${2:-/tmp/kmod-persistence}"
mkdir -p "$notes"
: "${DISK_spare:?needs --disk spare=16M}"
[ "$mode" = once ] || : "${DISK_main:?needs --disk main=64M}"
load_remap_module
main="$(make_main main 64)"
size="$(sectors_of "$main")"

create_remap() {
	dm_create r "0 $size remap $main $DISK_spare 4 block_size 8 main_id persistence-test"
}

write_phase() {
	# A used spare from an earlier run would make this phase meaningless.
	dd if=/dev/zero of="$DISK_spare" bs=1M count=1 oflag=direct status=none
	dd if=/dev/urandom of=/tmp/a bs=1M count=64 status=none
	dd if=/dev/urandom of=/tmp/b bs=1M count=64 status=none
	create_remap
	dd if=/tmp/a of=/dev/mapper/r bs=1M oflag=direct status=none
	# Faults on blocks 0, 500-501, 8191-8192, 16250; main keeps pattern A under them, so reading B back later proves
	# those blocks come from the spare.
	local faults=(7:1 4000:16 65535:2 130000:1)
	if kind_fails_writes "$MAIN_KIND"; then
		set_bad main "${faults[@]}"
	else
		make_pending /dev/mapper/r 8 main "${faults[@]}"
	fi
	dd if=/tmp/b of=/dev/mapper/r bs=1M oflag=direct status=none || fail "write over bad sectors reported an error"
	# Proactive remaps too: 300 blocks in one message.
	dmsetup message r 0 remap 9000 300
	cmp /tmp/b /dev/mapper/r || fail "data differs before any restart"
	assert_eq "remaps after faults and proactive remap" $((1 + 2 + 2 + 1 + 300)) "$(status_field r remapped)"
	dmsetup message r 0 list_remaps >"$notes/remaps"
	status_field r metadata_seq >"$notes/seq"
	sha256sum </tmp/b | cut -d' ' -f1 >"$notes/sha256"

	# Remove and recreate: the new instance reads what the old one persisted.
	dm_remove r
	set_bad main
	create_remap
	verify_phase "after remove and recreate"
}

verify_phase() { # WHEN
	assert_eq "$1: list_remaps" "$(cat "$notes/remaps")" "$(dmsetup message r 0 list_remaps)"
	assert_eq "$1: metadata_seq" "$(cat "$notes/seq")" "$(status_field r metadata_seq)"
	assert_eq "$1: content" "$(cat "$notes/sha256")" "$(sha256sum </dev/mapper/r | cut -d' ' -f1)"
	kmod_log "$1: $(wc -l <"$notes/remaps") remaps and all data identical"
}

case "$mode" in
once)
	write_phase
	;;
write)
	write_phase
	dd if="$main" of="$DISK_main" bs=1M iflag=direct oflag=direct status=none
	;;
verify)
	dd if="$DISK_main" of="$main" bs=1M iflag=direct oflag=direct status=none
	create_remap
	verify_phase "after reboot"
	;;
*) fail "unknown mode $mode" ;;
esac
kmod_log "PASS ($mode, main: $MAIN_KIND)"
