#!/usr/bin/env bash
# guest: --disk main=64M --disk spare=16M
# Persistence of the remap table on the spare.
#   kmod-persistence.sh              one boot: cause remaps, remove and
#                                    recreate the device, same remaps and data
#   kmod-persistence.sh write DIR    first boot of kmod-reboot.host.sh: the
#                                    same, then leave the expectations in DIR
#   kmod-persistence.sh verify DIR   second boot, same disks: the remaps and
#                                    the data must be exactly those of DIR
set -eu
. "$(dirname "$0")/lib/kmod.sh"

mode="${1:-once}"
notes="${2:-/tmp/kmod-persistence}"
mkdir -p "$notes"
: "${DISK_main:?needs --disk main=64M}" "${DISK_spare:?needs --disk spare=16M}"
size="$(sectors_of "$DISK_main")"
load_remap_module

create_remap() {
	dm_create r "0 $size remap /dev/mapper/lower $DISK_spare 4 block_size 8 main_id persistence-test"
}

write_phase() {
	# A used spare from an earlier run would make this phase meaningless.
	dd if=/dev/zero of="$DISK_spare" bs=1M count=1 oflag=direct status=none
	dd if=/dev/urandom of=/tmp/a bs=1M count=64 status=none
	dd if=/dev/urandom of=/tmp/b bs=1M count=64 status=none
	dm_create lower "$(error_table "$DISK_main")"
	create_remap
	dd if=/tmp/a of=/dev/mapper/r bs=1M oflag=direct status=none
	# Faults on blocks 0, 500-501, 8191-8192, 16250; main keeps pattern A under them, so reading B back later proves
	# those blocks come from the spare.
	set_errors lower "$DISK_main" 7:1 4000:16 65535:2 130000:1
	dd if=/tmp/b of=/dev/mapper/r bs=1M oflag=direct status=none
	# Proactive remaps too: 300 blocks in one message.
	dmsetup message r 0 remap 9000 300
	cmp /tmp/b /dev/mapper/r || fail "data differs before any restart"
	assert_eq "remaps after faults and proactive remap" $((1 + 2 + 2 + 1 + 300)) "$(status_field r remapped)"
	dmsetup message r 0 list_remaps >"$notes/remaps"
	status_field r metadata_seq >"$notes/seq"
	sha256sum </tmp/b | cut -d' ' -f1 >"$notes/sha256"

	# Remove and recreate: the new instance reads what the old one persisted.
	dm_remove r
	set_errors lower "$DISK_main"
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
once | write)
	write_phase
	;;
verify)
	dm_create lower "$(error_table "$DISK_main")"
	create_remap
	verify_phase "after reboot"
	;;
*) fail "unknown mode $mode" ;;
esac
kmod_log "PASS ($mode)"
