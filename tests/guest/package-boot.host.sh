#!/usr/bin/env bash
# guest-kernels: 6.1
# guest-cost: 600
# host: the Debian package on a real Debian 12 userspace with systemd as
# PID 1, booted four times on the same disks. Builds the package twice from
# the checkout (the version of package.json, and a "newer" +boottest build),
# a debootstrap bookworm root with the package's dependencies pre-installed
# (scripts/vm/debian-root.sh, cached: the guest has no network), and boots
# it under the rig's kernel with stage NAME on the kernel command line;
# tests/guest/package-boot/stage.sh runs each stage inside and prints
# "BOOTTEST-RESULT: stage=NAME PASS|FAIL":
#   install  apt install ./dm-remap_*.deb (DKMS builds the module in the
#            guest), specs for devices data and other, the lock beside the
#            daemon, ext4 on /dev/mapper/data in /etc/fstab, 4 remaps
#   boot     devices active before local-fs-pre.target, /srv/data mounted,
#            the daemon ready, the remaps still there
#   missing  (other's main disk detached) the boot goes on, the activation
#            unit fails and names it, data is up and mounted
#   upgrade  (disk back) apt install of the newer build: devices keep
#            running, the daemon restarts; then apt purge: devices, spares,
#            the state dir and the specs are left as they were
# About 12-20 minutes under TCG on a loaded 2-core host (install 4-9 min: the
# guest compiles the module); the root is built once, 3-8 min (setup.sh does).
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
trap 'rm -rf "$work"' EXIT
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
for disk in spare0 spare1; do truncate -s 16M "$work/disks/$disk.img"; done

accel="${DM_REMAP_GUEST_ACCEL:-$(sed -n 2p "$RIG_CACHE/accel" 2>/dev/null || true)}"
accel="${accel:-tcg}"

# boot STAGE DISK...: one boot with these data disks; passes when the stage says PASS.
boot() {
	local stage="$1" disk index=0 console="$work/console-$1.log" boot_started=$SECONDS
	shift
	local -a drives=()
	# Every disk has a serial (/dev/disk/by-id/virtio-dmr-NAME); the initramfs finds the root by it.
	for disk in root "$@"; do
		drives+=(-drive "file=$work/disks/$disk.img,format=raw,if=none,id=d$index"
			-device "virtio-blk-pci,drive=d$index,serial=dmr-$disk")
		index=$((index + 1))
	done
	rig_log "boot '$stage' with disks: $* ($accel)"
	timeout -k 5 1800 qemu-system-x86_64 -accel "$accel" -m 1024 -smp 1 -nographic -no-reboot -nic none \
		-fw_cfg name=etc/sercon-port,string=0 -kernel "$(rig_boot_image "$kdir")" -initrd "$initrd" \
		-append "console=ttyS0 rw panic=-1 oops=panic quiet no_timer_check rcupdate.rcu_cpu_stall_timeout=60 boottest.stage=$stage" \
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

boot install main0 spare0 main1 spare1
boot boot main0 spare0 main1 spare1
boot missing main0 spare0 spare1
boot upgrade main0 spare0 main1 spare1
echo "package-boot: PASS (install, boot activation, a missing disk, upgrade and purge; $((SECONDS - started)) s)"
