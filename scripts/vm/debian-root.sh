#!/usr/bin/env bash
# Builds (once, then cached) a real Debian 12 userspace for a guest kernel:
# debootstrap bookworm (minbase) with systemd as init, udev, dmsetup, and
# everything the dm-remap package depends on pre-installed — nodejs, dkms,
# gcc, make and the guest kernel's own headers package — because the guest
# has no network: `apt install ./dm-remap_*.deb` inside it must find every
# dependency already there. The kernel's modules (the parts a disk, ext4 and
# device-mapper need) are copied in from the rig's unpacked kernel.
#
# Usage: scripts/vm/debian-root.sh [--no-wait] [KERNEL]
#   KERNEL     6.1 (default), 6.12, or a release
#   --no-wait  when another process is building the root, exit 3 at once
#              (printing nothing) instead of waiting for it
# Prints two lines: the cached tarball (root's contents, numeric owners), and
# the initramfs that boots it from the virtio disk whose serial is dmr-root.
# Cache: .cache/vm/debian/bookworm-<release>-<key>.tar, <key> a hash of this
# script, so a change here builds a new one. About 3-5 minutes the first time
# (downloads ~150 MB of packages), nothing after.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/vm/lib.sh
source scripts/vm/lib.sh

main() {
local wait_for_builder=1
if [[ "${1:-}" == --no-wait ]]; then
	wait_for_builder=0
	shift
fi
kernel="${1:-${DM_REMAP_GUEST_KERNEL:-$RIG_DEFAULT_KERNEL}}"
release="$(rig_kernel_release "$kernel")" || {
	scripts/vm/fetch-kernels.sh "$kernel" >/dev/null
	release="$(rig_kernel_release "$kernel")"
}
kdir="$(rig_kernel_dir "$release")"

# What the package needs (Depends: nodejs, dmsetup, dkms) and what DKMS needs
# to build for this kernel; plus the test's own tools (e2fsprogs, mount), and
# initramfs-tools with what it recommends (busybox, zstd for its default
# compression), for an image built by the real update-initramfs offline.
INCLUDE=systemd,systemd-sysv,udev,dbus,dmsetup,kmod,util-linux,mount,e2fsprogs,procps,nodejs,dkms,make,gcc,libc6-dev,apt
INCLUDE+=,initramfs-tools,busybox,zstd
key="$( (sed '/^# --- initramfs/,$d' scripts/vm/debian-root.sh && printf '%s\n' "$release") | sha256sum | cut -c1-12)"
cache_dir="$RIG_CACHE/debian"
tarball="$cache_dir/bookworm-$release-$key.tar"
# One builder at a time: setup.sh leaves the build running in the
# background, and the package boot test that needs it waits here for it
# rather than starting a second debootstrap beside it.
mkdir -p "$cache_dir"
exec {build_lock}>"$cache_dir/.build.lock"
if ! flock -n "$build_lock"; then
	((wait_for_builder)) || exit 3
	rig_log "waiting for the Debian root another process is building (log: $cache_dir/build.log)"
	flock "$build_lock"
fi
if [[ -f "$tarball" ]]; then
	build_initrd
	printf '%s\n%s\n' "$tarball" "$initrd"
	exit 0
fi

[[ $EUID -eq 0 ]] || rig_die "building the Debian root needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || rig_die "debootstrap not installed (sudo bash scripts/setup.sh)"
# Built outside the checkout: while it is built, its /proc, /sys and /dev are
# mounts, and tools that walk the checkout (prettier expands "." before it
# reads .prettierignore) must never descend into them.
root="$(mktemp -d "${TMPDIR:-/tmp}/dm-remap-debian-root.XXXXXX")"
# Unmounts what was mounted into the root, then removes it without crossing
# into any mount left behind (a bind of the host's /dev must never be emptied).
unmount_root() {
	local mount
	for mount in dev/pts dev sys proc; do
		mountpoint -q "$root/$mount" && umount -R "$root/$mount"
	done
	return 0
}
cleanup() {
	unmount_root 2>/dev/null || true
	rm -rf --one-file-system "$root"
}
trap cleanup EXIT

# The mirror this host's apt uses (deb822 or one-line sources).
mirror="$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
	/etc/apt/sources.list.d/*.list 2>/dev/null | head -n1 | tr -d ' ' || true)"
mirror="${mirror:-http://deb.debian.org/debian}"
rig_log "debootstrap bookworm from $mirror (minbase + $INCLUDE)"
debootstrap --variant=minbase --include="$INCLUDE" bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
	{
		tail -n 30 "$root.log" >&2
		rig_die "debootstrap failed (log: $root.log)"
	}
rm -f "$root.log"

# The guest kernel's headers, from the debs the rig fetched, with their
# dependencies (compiler, kbuild) from the same sources as this host's apt.
rig_log "installing the headers of $release in the root"
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || true
[[ -f /etc/apt/sources.list ]] && cp /etc/apt/sources.list "$root/etc/apt/"
cp /etc/apt/apt.conf.d/99* "$root/etc/apt/apt.conf.d/" 2>/dev/null || true
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mkdir -p "$root/tmp/debs"
# first_match GLOB...: the first existing path among the expanded globs.
first_match() {
	local path
	for path in "$@"; do [[ -e "$path" ]] && printf '%s\n' "$path" && return; done
	return 0
}
headers_deb="$(first_match "$RIG_CACHE/debs/linux-headers-${release}"_*.deb)"
[[ -n "$headers_deb" ]] || rig_die "no linux-headers deb for $release in $RIG_CACHE/debs (scripts/vm/fetch-kernels.sh)"
# The common headers and kbuild of the same kernel build: same version as the
# headers (the cache may also hold an older linux-kbuild-6.1).
kbuild="$(dpkg-deb -f "$headers_deb" Depends | grep -oE 'linux-kbuild-[^ ,]+' | head -n1)"
version="$(dpkg-deb -f "$headers_deb" Version)"
for package in "linux-headers-${release%-amd64}-common" "$kbuild"; do
	deb="$(first_match "$RIG_CACHE/debs/${package}_${version//:/%3a}"_*.deb)"
	[[ -n "$deb" ]] || rig_die "no $package $version deb in $RIG_CACHE/debs (scripts/vm/fetch-kernels.sh)"
	cp "$deb" "$root/tmp/debs/"
done
cp "$headers_deb" "$root/tmp/debs/"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
	sh -c 'apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends /tmp/debs/*.deb >/dev/null' ||
	rig_die "installing the kernel headers in the root failed"
chroot "$root" apt-get clean
rm -rf "$root/tmp/debs" "$root"/var/lib/apt/lists/*_Packages "$root"/var/lib/apt/lists/*_Translation-*
unmount_root

# The kernel's modules the boot test's machine uses, with what they depend
# on: its virtio disks, ext4, device-mapper and loop devices (the whole tree
# is ~400 MB). No more: mkinitramfs's MODULES=most copies every module it
# finds one process at a time, which under TCG cost minutes per image for
# hundreds of modules this machine never loads. DKMS puts dm-remap.ko beside them.
rig_log "copying the modules of $release"
src="$kdir/root/lib/modules/$release"
dst="$root/lib/modules/$release"
[[ -f "$src/modules.dep" ]] || depmod -b "$kdir/root" "$release"
for module in virtio_pci virtio_blk ext4 dm-mod loop; do
	modprobe -d "$kdir/root" -S "$release" --show-depends "$module" | while read -r verb path _; do
		[[ "$verb" == insmod ]] || continue
		relative="${path#"$src/"}"
		mkdir -p "$dst/$(dirname "$relative")"
		cp -a "$path" "$dst/$relative"
	done
done
cp -a "$src"/modules.builtin* "$src"/modules.order "$dst/" 2>/dev/null || true
depmod -b "$root" "$release"
cp -a "$kdir/vmlinuz" "$root/boot/vmlinuz-$release"
# mkinitramfs reads the kernel's config (which compressions it can unpack).
cp -a "$kdir/root/boot/config-$release" "$root/boot/"

# A fixed machine-id (reproducible), a hostname, no getty on the serial line
# (it hangs the line up and output is lost), no password prompts.
printf 'dm-remap-boot-test\n' >"$root/etc/hostname"
printf '0123456789abcdef0123456789abcdef\n' >"$root/etc/machine-id"
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$root/etc/systemd/system/getty@tty1.service"
rm -f "$root/etc/resolv.conf"

rig_log "packing $tarball"
tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
mv "$tarball.tmp" "$tarball"
build_initrd
printf '%s\n%s\n' "$tarball" "$initrd"
}

# --- initramfs (not part of the root's cache key: a change here does not rebuild the root)
# Sets initrd (global) to the cached initramfs for $release, building it when missing.
build_initrd() {
	local ikey
	ikey="$( (sed -n '/^# --- initramfs/,$p' scripts/vm/debian-root.sh && printf '%s\n' "$release") | sha256sum | cut -c1-12)"
	initrd="$cache_dir/initrd-$release-$ikey.gz"
	[[ -f "$initrd" ]] && return
	rig_log "building the initramfs $initrd"
# The initramfs: busybox, the modules that reach an ext4 root on a virtio
# disk, and an init that mounts /dev/vda and hands over to systemd.
initrd_dir="$(mktemp -d "$cache_dir/initrd.XXXXXX")"
mkdir -p "$initrd_dir"/{bin,dev,proc,sys,newroot,lib}
cp /bin/busybox "$initrd_dir/bin/busybox"
ln -s busybox "$initrd_dir/bin/sh"
# modprobe below resolves dependencies from the unpacked kernel's modules.dep
# (build-initramfs.sh makes it too, but a kernel fetched since has none yet).
[[ -f "$kdir/root/lib/modules/$release/modules.dep" ]] || depmod -b "$kdir/root" "$release"
: >"$initrd_dir/modules"
for module in virtio_pci virtio_blk crc32c_generic ext4; do
	modprobe -d "$kdir/root" -S "$release" --show-depends "$module" | while read -r verb path _; do
		[[ "$verb" == insmod ]] || continue
		name="$(basename "${path%.xz}")"
		grep -qx "$name" "$initrd_dir/modules" && continue
		if [[ "$path" == *.xz ]]; then xz -dc "$path" >"$initrd_dir/lib/$name"; else cp "$path" "$initrd_dir/lib/$name"; fi
		printf '%s\n' "$name" >>"$initrd_dir/modules"
	done
done
cat >"$initrd_dir/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for module in $(cat /modules); do insmod "/lib/$module" 2>/dev/null; done
# The root disk is the virtio disk whose serial is dmr-root (the order of
# /dev/vdX follows PCI slots, not the command line).
tries=0
root=""
while [ -z "$root" ] && [ $tries -lt 300 ]; do
	for disk in /sys/block/vd*; do
		[ "$(cat "$disk/serial" 2>/dev/null)" = dmr-root ] && root="/dev/${disk##*/}"
	done
	[ -n "$root" ] || sleep 0.1
	tries=$((tries + 1))
done
if ! mount -t ext4 -o rw "$root" /newroot; then
	echo "initrd: cannot mount the root disk (serial dmr-root): '$root'"
	poweroff -f
fi
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
INIT
chmod 755 "$initrd_dir/init"
(cd "$initrd_dir" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
mv "$initrd.tmp" "$initrd"
rm -rf "$initrd_dir"
}

main "$@"
