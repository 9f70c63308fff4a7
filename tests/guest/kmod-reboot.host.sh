#!/usr/bin/env bash
# host: boots the guest twice on the same disk images (same --state-dir):
# the first boot causes remaps and records them, the second boot (a fresh
# kernel) must find the same remaps and the same data.
set -eu
cd "$(dirname "$0")/../.."
state="$(mktemp -d "$PWD/.cache/kmod-reboot.XXXXXX")"
trap 'rm -rf "$state"' EXIT
disks=(--disk main=64M --disk spare=16M)
npm run --silent guest -- --state-dir "$state/disks" "${disks[@]}" \
	tests/guest/kmod-persistence.sh write "$state/notes"
npm run --silent guest -- --state-dir "$state/disks" "${disks[@]}" \
	tests/guest/kmod-persistence.sh verify "$state/notes"
echo "kmod-reboot: PASS (remaps and data survived a reboot)"
