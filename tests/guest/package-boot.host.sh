#!/usr/bin/env bash
# guest-kernels: 6.1
# guest-cost: 950
# host: the Debian package on a real Debian 12 userspace with systemd as
# PID 1, booted four times. Builds the package twice from the checkout (the
# version of package.json, and a "newer" +boottest build), a debootstrap
# bookworm root with the package's dependencies and initramfs-tools
# pre-installed (scripts/vm/debian-root.sh, cached: the guest has no network),
# and boots it under the rig's kernel with stage NAME on the kernel command
# line; tests/guest/package-boot/stage.sh runs each stage inside and prints
# "BOOTTEST-RESULT: stage=NAME PASS|FAIL":
#   install  apt install ./dm-remap_*.deb (DKMS builds the module in the
#            guest), specs for devices data and other, the lock beside the
#            daemon, ext4 on /dev/mapper/data in /etc/fstab, 4 remaps; then
#            device sysroot (disks main2, spare2) with a copy of the root on
#            it, 5 remaps (ext4's superblock, a file's blocks; main's copy of
#            them zeroed), and its initramfs from the real update-initramfs
#            in a chroot of the copy, which the host takes out of root.img
#   rootfs   that initramfs with root=/dev/mapper/sysroot, no dmr-root disk:
#            the package's local-top script created sysroot, / is on it with
#            the same table, UUID and remaps, the file intact; the units took
#            it over with no operation, plan has nothing to do, status Ready
#   missing  (other's main disk detached) the boot goes on, the activation
#            unit fails and names it, data is up and mounted; a device
#            whose disks are hot-plugged later starts with no reboot
#   boot     (disk back) devices active before local-fs-pre.target,
#            /srv/data mounted, the daemon ready, the remaps still there;
#            then apt install of the newer build: devices keep running, the
#            daemon restarts; then apt purge: devices, spares, the state dir
#            and the specs are left as they were
# rootfs uses only disks of its own: the other stages test what they did
# without it. About 12-20 minutes under TCG on a 2-core host (963 s with
# other guests beside it: install 412 s, where the guest compiles the module,
# copies the root and builds an initramfs; rootfs 99 s, missing 101 s, boot
# with the upgrade 351 s, two thirds of it DKMS compiling); the root is built
# once, 3-11 min (setup.sh starts it).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/vm/lib.sh
source scripts/vm/lib.sh
RIG_LOG_PREFIX=package-boot
started=$SECONDS

kernel="${DM_REMAP_GUEST_KERNEL:-$RIG_DEFAULT_KERNEL}"
release="$(rig_kernel_release "$kernel")" || rig_die "kernel $kernel not fetched (scripts/setup.sh)"
kdir="$(rig_kernel_dir "$release")"
work="$(mktemp -d "$PWD/.cache/package-boot.XXXXXX")"
# A failed run keeps its boots' console logs (the disks are too big to keep).
keep_consoles() {
	local status=$? kept="$PWD/.cache/package-boot-failed"
	if ((status != 0)) && compgen -G "$work/console-*.log" >/dev/null; then
		rm -rf "$kept" && mkdir -p "$kept" && cp "$work"/console-*.log "$kept/"
		rig_log "console logs kept in $kept"
	fi
	rm -rf "$work"
}
trap keep_consoles EXIT
mkdir -p "$work/debs/old" "$work/debs/new" "$work/disks"

rig_log "building the packages"
version="$(node -p 'require("./package.json").version')"
cp "$(bash scripts/package.sh --no-lintian)" "$work/debs/old/"
cp "$(bash scripts/package.sh --no-lintian --version "$version+boottest1")" "$work/debs/new/"

{ read -r tarball && read -r initrd; } < <(bash scripts/vm/debian-root.sh "$kernel")
[[ -f "$tarball" && -f "$initrd" ]] || rig_die "scripts/vm/debian-root.sh failed"

rig_log "preparing the root disk"
root="$work/root"
mkdir "$root"
tar -C "$root" --numeric-owner -xf "$tarball"
install -m 755 tests/guest/package-boot/stage.sh "$root/usr/local/sbin/boottest-stage"
cat >"$root/etc/systemd/system/boottest.service" <<'EOF'
[Unit]
Description=dm-remap package boot test stage
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/boottest-stage
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
EOF
# A boot that falls into emergency mode (a mount failed) must not sit at a
# locked root prompt until the timeout: say why, show the journal, power off.
mkdir -p "$root/etc/systemd/system/emergency.service.d"
cat >"$root/etc/systemd/system/emergency.service.d/boottest.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/bin/sh -c 'echo "BOOTTEST: FAIL: the boot fell into emergency mode"; journalctl -b --no-pager -o short-monotonic -u dm-remap-activate.service -u srv-data.mount -u systemd-udev-trigger.service | tail -n 60; echo "BOOTTEST-RESULT: stage=emergency FAIL"; systemctl --force --force poweroff'
EOF
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/boottest.service "$root/etc/systemd/system/multi-user.target.wants/"
cp -r "$work/debs" "$root/root/debs"
printf '/dev/disk/by-id/virtio-dmr-root / ext4 defaults 0 1\n' >"$root/etc/fstab"
mke2fs -q -t ext4 -d "$root" "$work/disks/root.img" 3G
rm -rf "$root"
for disk in main0 main1; do truncate -s 64M "$work/disks/$disk.img"; done
for disk in spare0 spare1 spare2; do truncate -s 16M "$work/disks/$disk.img"; done
# Room for a copy of the root (sparse: only what is written takes space).
truncate -s 2G "$work/disks/main2.img"

accel="${DM_REMAP_GUEST_ACCEL:-$(sed -n 2p "$RIG_CACHE/accel" 2>/dev/null || true)}"
accel="${accel:-tcg}"

# The rig's own initramfs finds the root by its disk's serial (dmr-root).
rig_root=(--initrd "$initrd" --root-args rw)

# boot STAGE --initrd FILE --root-args ARGS DISK...: one boot with these
# disks; passes when the stage says PASS.
boot() {
	local stage="$1" disk index=0 console="$work/console-$1.log" boot_started=$SECONDS
	[[ "$2" == --initrd && "$4" == --root-args ]] || rig_die "boot $stage: expected --initrd FILE --root-args ARGS"
	local boot_initrd="$3" root_args="$5"
	shift 5
	local -a drives=()
	# Every disk has a serial: /dev/disk/by-id/virtio-dmr-NAME.
	for disk in "$@"; do
		drives+=(-drive "file=$work/disks/$disk.img,format=raw,if=none,id=d$index"
			-device "virtio-blk-pci,drive=d$index,serial=dmr-$disk")
		index=$((index + 1))
	done
	rig_log "boot '$stage' with disks: $* ($accel)"
	timeout -k 5 1800 qemu-system-x86_64 -accel "$accel" -m 2048 -smp 1 -nographic -no-reboot -nic none \
		-fw_cfg name=etc/sercon-port,string=0 -kernel "$(rig_boot_image "$kdir")" -initrd "$boot_initrd" \
		-append "console=ttyS0 $root_args panic=-1 oops=panic quiet no_timer_check rcupdate.rcu_cpu_stall_timeout=60 boottest.stage=$stage" \
		"${drives[@]}" </dev/null 2> >(grep -v 'externally provided fw_cfg item names' >&2) |
		sed -u 's/\r$//; s/\x1b\[[0-9;]*[A-Za-z]//g' | tee "$console" | grep --line-buffered -aE '^BOOTTEST|Kernel panic|BUG:|Oops' || true
	rig_log "boot '$stage' took $((SECONDS - boot_started)) s"
	# The rig's rule (scripts/vm/guest.sh): kernel trouble fails the run, whatever the stage said.
	if grep -aE '^\[ *[0-9]+\.[0-9]+\] .*(BUG:|Oops|WARNING:|KASAN|UBSAN|Kernel panic|general protection fault|soft lockup|hard LOCKUP)' "$console" >&2; then
		rig_log "FAILED: stage $stage: the kernel reported problems (above)"
		exit 1
	fi
	grep -aq "^BOOTTEST-RESULT: stage=$stage PASS" "$console" || {
		rig_log "FAILED: stage $stage (console: last 80 lines)"
		tail -n 80 "$console" >&2
		exit 1
	}
}

boot install "${rig_root[@]}" root main0 spare0 main1 spare1 main2 spare2
# The initramfs update-initramfs made in the guest, for the copy of the root on sysroot.
debugfs -R "dump /root/boottest/rootfs/initrd.img $work/initrd-sysroot.img" "$work/disks/root.img" 2>/dev/null
[[ -s "$work/initrd-sysroot.img" ]] || rig_die "no /root/boottest/rootfs/initrd.img on the root disk after stage install"
boot rootfs --initrd "$work/initrd-sysroot.img" --root-args "root=/dev/mapper/sysroot ro" main2 spare2
grep -aq '^dm-remap: created sysroot' "$work/console-rootfs.log" || {
	rig_log "FAILED: stage rootfs: the initramfs's local-top script did not say 'dm-remap: created sysroot'"
	exit 1
}
boot missing "${rig_root[@]}" root main0 spare0 spare1
boot boot "${rig_root[@]}" root main0 spare0 main1 spare1
echo "package-boot: PASS (install, root on dm-remap, a missing disk, boot activation, upgrade and purge;" \
	"$((SECONDS - started)) s)"
