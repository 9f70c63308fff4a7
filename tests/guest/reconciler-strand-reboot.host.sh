#!/usr/bin/env bash
# guest-kinds: dmstack
# guest-kernels: 6.1
# guest-cost: 75
# host: the reboot route of tests/guest/reconciler-strand.sh. Boots the guest
# twice on the same disk images (same --state-dir): the first boot creates a
# device with `dm-remap apply` on DISK_spare and remaps a block, and powers
# off with the device running; the second boot (a fresh kernel: the device
# is gone) names a new blank spare (DISK_spare2) in the spec, and `dm-remap
# apply` must refuse, bring the device back on its old spare with its data,
# and move it only with --accept-data-loss. The config dir and the
# reconciler's state dir (/var/lib/dm-remap, the default) live on an ext4 on
# DISK_state, as on a real host's disk. DM_REMAP_MAIN_KIND and
# DM_REMAP_GUEST_KERNEL come from scripts/guest-tests.sh (the headers).
set -eu
cd "$(dirname "$0")/../.."
state="$(mktemp -d "$PWD/.cache/reconciler-strand-reboot.XXXXXX")"
trap 'rm -rf "$state"' EXIT
kind="${DM_REMAP_MAIN_KIND:-dmstack}"
guest=(--state-dir "$state/disks" --timeout 600 --env "DM_REMAP_MAIN_KIND=$kind"
	--disk main=32M --disk spare=8M --disk spare2=8M --disk state=32M)
[ -z "${DM_REMAP_GUEST_KERNEL:-}" ] || guest+=(--kernel "$DM_REMAP_GUEST_KERNEL")
npm run --silent guest -- "${guest[@]}" tests/guest/reconciler-strand.sh boot1
npm run --silent guest -- "${guest[@]}" tests/guest/reconciler-strand.sh boot2
echo "reconciler-strand-reboot: PASS (no remapped data stranded across a reboot; main: $kind)"
