#!/usr/bin/env bash
# guest-kinds: dmstack nullb scsi
# guest-kernels: 6.1 6.12
# guest-cost: 40
# host: boots the guest twice on the same disk images (same --state-dir):
# the first boot causes remaps and records them, the second boot (a fresh
# kernel) must find the same remaps and the same data. Main is a disk of
# DM_REMAP_MAIN_KIND made afresh in each boot (tests/guest/kmod-persistence.sh
# keeps its content on the virtio disk "main" in between), on the kernel
# DM_REMAP_GUEST_KERNEL; scripts/guest-tests.sh sets both from the headers.
set -eu
cd "$(dirname "$0")/../.."
state="$(mktemp -d "$PWD/.cache/kmod-reboot.XXXXXX")"
trap 'rm -rf "$state"' EXIT
kind="${DM_REMAP_MAIN_KIND:-dmstack}"
guest=(--state-dir "$state/disks" --disk main=64M --disk spare=16M --env "DM_REMAP_MAIN_KIND=$kind")
[ -z "${DM_REMAP_GUEST_KERNEL:-}" ] || guest+=(--kernel "$DM_REMAP_GUEST_KERNEL")
npm run --silent guest -- "${guest[@]}" tests/guest/kmod-persistence.sh write "$state/notes"
npm run --silent guest -- "${guest[@]}" tests/guest/kmod-persistence.sh verify "$state/notes"
echo "kmod-reboot: PASS (remaps and data survived a reboot; main: $kind)"
