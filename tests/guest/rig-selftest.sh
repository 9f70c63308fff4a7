#!/usr/bin/env bash
# Proves the guest rig itself: device-mapper and loop work, sector-precise
# read errors reach userspace as EIO, dm-flakey loads, dm-remap.ko (when
# kmod/ has one) is installed where modprobe finds it, node runs from the
# checkout, and a disk keeps what was written across two boots.
# guest: --disk persist=1M
# guest-boots: 2
set -euo pipefail

BOOT="${1:?usage: rig-selftest.sh BOOT_NUMBER (1 or 2)}"
MARKER='dm-remap rig persistence'

fail() {
	echo "rig-selftest: FAIL: $*" >&2
	exit 1
}
ok() { echo "rig-selftest: ok: $*"; }

# Boot 1 writes a marker and random data with its checksum to the disk; boot 2
# must find exactly that. A fresh disk is all zeros, so boot 2 cannot pass by
# accident, and boot 1 checks it really started fresh.
check_persistence() {
	local disk="${DISK_persist:?no persist disk attached}"
	if [[ "$BOOT" == 1 ]]; then
		[[ "$(head -c 4096 "$disk" | tr -d '\0' | wc -c)" == 0 ]] || fail "a new state dir's disk is not blank"
		local payload=/tmp/payload
		head -c 65536 /dev/urandom >"$payload"
		printf '%s\n%s\n' "$MARKER" "$(sha256sum <"$payload" | cut -d' ' -f1)" >/tmp/header
		dd if=/tmp/header of="$disk" bs=512 count=1 conv=sync oflag=direct status=none
		dd if="$payload" of="$disk" bs=4096 seek=1 oflag=direct status=none
		sync
		ok "wrote marker and 64 KiB of random data to $disk"
	else
		local header expected actual
		header="$(dd if="$disk" bs=512 count=1 iflag=direct status=none | tr -d '\0')"
		[[ "$(sed -n 1p <<<"$header")" == "$MARKER" ]] || fail "marker written in boot 1 not found"
		expected="$(sed -n 2p <<<"$header")"
		actual="$(dd if="$disk" bs=4096 skip=1 count=16 iflag=direct status=none | sha256sum | cut -d' ' -f1)"
		[[ "$actual" == "$expected" ]] || fail "data written in boot 1 changed: $actual != $expected"
		ok "boot 1's data survived the reboot ($expected)"
	fi
}

loop=""
cleanup_device_mapper() {
	dmsetup remove --retry rig-linear rig-holes 2>/dev/null || true
	[[ -z "$loop" ]] || losetup -d "$loop" 2>/dev/null || true
}

check_device_mapper() {
	modprobe dm-mod
	dmsetup version >/dev/null || fail "dmsetup cannot talk to device-mapper"
	ok "dm-mod loaded: $(dmsetup version | tr '\n' ' ')"

	truncate -s 8M /tmp/backing.img
	loop="$(losetup -f --show /tmp/backing.img)"
	[[ -b "$loop" ]] || fail "losetup gave no block device"
	trap cleanup_device_mapper EXIT

	dmsetup create rig-linear --table "0 16384 linear $loop 0"
	[[ -b /dev/mapper/rig-linear ]] || fail "no /dev/mapper node (DM_DISABLE_UDEV not honoured?)"
	head -c 8192 /dev/urandom >/tmp/pattern
	dd if=/tmp/pattern of=/dev/mapper/rig-linear bs=4096 seek=10 oflag=direct status=none
	cmp <(dd if="$loop" bs=4096 skip=10 count=2 iflag=direct status=none) /tmp/pattern ||
		fail "data written through linear did not land on the loop device"
	ok "linear over $loop round-trips data"

	# Sectors 0-127 map to the loop device, 128-255 are an error target.
	dmsetup create rig-holes --table "0 128 linear $loop 0
128 128 error"
	dd if=/dev/mapper/rig-holes of=/dev/null bs=512 count=128 iflag=direct status=none ||
		fail "reading the linear part of linear+error failed"
	local err
	if err="$(dd if=/dev/mapper/rig-holes of=/dev/null bs=512 skip=130 count=1 iflag=direct 2>&1)"; then
		fail "reading the error part succeeded"
	fi
	grep -q 'Input/output error' <<<"$err" || fail "reading the error part failed without EIO: $err"
	ok "linear+error: direct read of sector 130 fails with EIO, sectors 0-127 read fine"
}

check_flakey() {
	modprobe dm-flakey
	dmsetup targets | grep -q '^flakey' || fail "dm-flakey loaded but no flakey target"
	ok "dm-flakey loads"
}

check_dm_remap_module() {
	if ! ls /rig/modules/*.ko >/dev/null 2>&1; then
		ok "no dm-remap.ko handed to this boot (kmod/ has no sources or --no-module): skipped"
		return
	fi
	local path="/lib/modules/$(uname -r)/extra/dm-remap.ko" plan
	# What modprobe would do: load dm-mod first, then our module from extra/.
	plan="$(modprobe --show-depends dm-remap)" || fail "modprobe cannot find dm-remap"
	[[ "$(tail -n1 <<<"$plan")" == "insmod $path "* ]] || fail "modprobe resolves dm-remap to: $plan"
	modprobe dm-remap || fail "modprobe dm-remap failed"
	dmsetup targets | grep -q '^remap' || fail "dm-remap loaded but registers no 'remap' target"
	rmmod dm-remap || fail "rmmod dm-remap failed"
	ok "modprobe dm-remap loads $path and registers the remap target"
}

check_node() {
	local out
	out="$(node -e 'console.log(require("node:os").platform(), process.version)')" || fail "node does not run"
	[[ "$out" == "linux v"* ]] || fail "unexpected node output: $out"
	[[ -x "$(command -v dm-remap)" ]] || fail "dm-remap wrapper missing from PATH"
	ok "node runs ($out); dm-remap is on PATH"
}

check_environment() {
	[[ "$(id -u)" == 0 ]] || fail "not root"
	[[ "$PWD" == "$DM_REMAP_CHECKOUT" && -f package.json ]] || fail "cwd is $PWD, not the checkout"
	[[ "${DM_DISABLE_UDEV:-}" == 1 ]] || fail "DM_DISABLE_UDEV not exported"
	# Even from plain sh, dd must be GNU's: busybox's ignores iflag=direct.
	sh -c 'dd --version' 2>&1 | grep -q coreutils || fail "sh -c dd is not GNU dd"
	[[ "$DM_REMAP_DISKS" == "persist=/dev/vda" ]] || fail "DM_REMAP_DISKS is '$DM_REMAP_DISKS'"
	# The checkout is writable: tests leave result files in it.
	local probe=".cache/vm/rig-selftest.$$"
	echo ok >"$probe" && [[ "$(cat "$probe")" == ok ]] && rm "$probe" || fail "checkout not writable"
	ok "root in the checkout ($PWD), udev disabled, GNU dd, disks: $DM_REMAP_DISKS, checkout writable"
}

check_environment
check_persistence
if [[ "$BOOT" == 1 ]]; then
	check_device_mapper
	check_flakey
	check_dm_remap_module
	check_node
fi
echo "rig-selftest: boot $BOOT passed"
