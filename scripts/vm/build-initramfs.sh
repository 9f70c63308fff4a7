#!/usr/bin/env bash
# Builds the guest's initramfs for one fetched kernel:
# .cache/vm/initramfs/<release>.cpio.gz. It holds busybox, the GNU/util-linux
# tools tests rely on (dmsetup, losetup, GNU dd for iflag=direct, ...), bash,
# the libraries of those and of the host's node (node itself arrives over a
# read-only 9p share at boot), the kernel modules tests need, and /init
# (scripts/vm/guest-init.sh). dm-remap.ko is NOT in it: the runner hands the
# current build over the control share, so a module rebuild never forces an
# initramfs rebuild.
#
# Usage: scripts/vm/build-initramfs.sh [--force] KERNEL   (alias or release)
# Rebuilds only when the image is missing or older than this script, the
# init script or lib.sh. Prints the image's path on stdout.
set -euo pipefail
RIG_LOG_PREFIX=initramfs
# shellcheck source=scripts/vm/lib.sh
source "$(dirname "$0")/lib.sh"

# In-tree modules the guest loads (their dependencies are resolved below).
# Every dm-* target (but dm-raid) ships so tests can stack flakey, delay etc.
# null_blk (configured through configfs) and scsi_debug (with sd_mod, which
# makes it a /dev/sdX) are the guest's request-based disks with injectable
# errors: a real disk completes bios the blk-mq way, which no device-mapper
# stack under main reproduces (tests/guest/lib/mains.sh).
GUEST_MODULES=(
	loop virtio_pci virtio_blk 9p 9pnet_virtio ext4 crc32c_generic crc32c-intel libcrc32c
	configfs null_blk scsi_debug sd_mod
)

# Host programs copied with their libraries. GNU/util-linux versions on
# purpose: busybox's dd silently ignores iflag=direct, which would make
# sector-precise error tests pass for the wrong reason.
GUEST_PROGRAMS=(
	/usr/sbin/dmsetup /usr/sbin/losetup /usr/sbin/blockdev /usr/sbin/blkdiscard
	/usr/sbin/mke2fs /usr/sbin/e2fsck /usr/sbin/wipefs
	/usr/bin/dd /usr/bin/sha256sum /usr/bin/md5sum /usr/bin/cmp /usr/bin/truncate /usr/bin/sync
	/usr/bin/stat /usr/bin/timeout /usr/bin/od /usr/bin/head /usr/bin/tail /usr/bin/seq
	/usr/bin/sort /usr/bin/cut /usr/bin/tr /usr/bin/wc /usr/bin/mktemp /usr/bin/date /usr/bin/env
	/usr/bin/kmod /usr/bin/bash /usr/bin/dash /usr/bin/flock
)
KMOD_TOOLS=(modprobe rmmod insmod lsmod depmod modinfo)

# Copies FILE (following symlinks) to the same path under STAGE.
stage_file() {
	local stage="$1" file="$2"
	mkdir -p "$stage$(dirname "$file")"
	cp -L "$file" "$stage$file"
}

# Copies PROGRAM and every shared library ldd names for it.
stage_program() {
	local stage="$1" program="$2" lib
	[[ -x "$program" ]] || rig_die "$program missing on the host (run scripts/setup.sh)"
	stage_file "$stage" "$program"
	while read -r lib; do
		[[ -e "$stage$lib" ]] || stage_file "$stage" "$lib"
	done < <(ldd "$program" 2>/dev/null | grep -o '/[^ ]*' || true)
}

# Copies the in-tree modules (with dependencies) of RELEASE into the stage,
# uncompressed (6.12 ships .ko.xz), and runs depmod so modprobe works.
stage_modules() {
	local stage="$1" release="$2" kroot="$3" module path rel
	local moddir="lib/modules/$release"
	[[ -f "$kroot/$moddir/modules.dep" ]] || depmod -b "$kroot" "$release"
	local -a wanted=("${GUEST_MODULES[@]}")
	while read -r path; do
		path="${path##*/}"
		wanted+=("${path%%.ko*}")
	# dm-raid drags in md, raid456 and the RAID6 tables: megabytes of
	# initramfs for a target no test stacks under dm-remap.
	done < <(find "$kroot/$moddir/kernel/drivers/md" -name 'dm-*.ko*' ! -name 'dm-raid.ko*')
	mkdir -p "$stage/$moddir"
	cp "$kroot/$moddir"/modules.{order,builtin,builtin.modinfo} "$stage/$moddir/"
	for module in "${wanted[@]}"; do
		modprobe -d "$kroot" -S "$release" --show-depends "$module" 2>/dev/null |
			awk '$1 == "insmod" { print $2 }'
	done | sort -u | while read -r path; do
		rel="${path#"$kroot"/}"
		rel="${rel#./}"
		mkdir -p "$stage/$(dirname "$rel")"
		case "$path" in
		*.xz) xz -dc "$path" >"$stage/${rel%.xz}" ;;
		*) cp "$path" "$stage/$rel" ;;
		esac
	done
	mkdir -p "$stage/$moddir/extra"
	depmod -b "$stage" "$release"
}

build() {
	local release="$1" out="$2" kroot stage
	kroot="$(rig_kernel_dir "$release")/root"
	stage="$(mktemp -d "$RIG_INITRAMFS/stage.XXXXXX")"
	# shellcheck disable=SC2064 # expand now: stage is local
	trap "rm -rf '$stage'" EXIT

	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,tmp,run,root,rig,opt/hostnode,mnt}
	cp /bin/busybox "$stage/bin/busybox"
	local applet
	for applet in $(/bin/busybox --list); do
		[[ -e "$stage/bin/$applet" ]] || ln -s busybox "$stage/bin/$applet"
	done

	local program
	for program in "${GUEST_PROGRAMS[@]}"; do
		stage_program "$stage" "$program"
	done
	local node
	node="$(command -v node)" || rig_die "node not found on the host"
	stage_program "$stage" "$(readlink -f "$node")"
	# node itself is shared at boot; only its libraries are needed here.
	rm -f "$stage$(readlink -f "$node")"
	# Debian merges /bin into /usr/bin, so scripts say #!/bin/bash: mirror
	# that for every copied program (it also wins over the busybox applet).
	for program in "${GUEST_PROGRAMS[@]}"; do
		case "$program" in
		/usr/bin/* | /usr/sbin/*) ln -sf "$program" "$stage${program#/usr}" ;;
		esac
	done
	# /bin/sh is dash, as on Debian. Not busybox: its shell runs its own
	# applets before searching PATH, so `sh -c 'dd iflag=direct ...'` or
	# `depmod` would silently get busybox's versions instead of GNU's/kmod's.
	ln -sf dash "$stage/bin/sh"
	for program in "${KMOD_TOOLS[@]}"; do
		ln -sf ../bin/kmod "$stage/usr/sbin/$program"
		# The kernel's request_module() runs /sbin/modprobe.
		ln -sf ../usr/bin/kmod "$stage/sbin/$program"
	done

	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
	printf 'root:x:0:\ndisk:x:6:\n' >"$stage/etc/group"
	printf '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n' >"$stage/etc/ld.so.conf"
	ldconfig -r "$stage"

	stage_modules "$stage" "$release" "$kroot"
	install -m 0755 "$(dirname "$0")/guest-init.sh" "$stage/init"

	(cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --quiet -o -0 -H newc | gzip -1) >"$out.tmp"
	mv "$out.tmp" "$out"
	rm -rf "$stage"
	trap - EXIT
}

main() {
	local force=0 kernel="" release out
	while (($#)); do
		case "$1" in
		--force) force=1 ;;
		*) kernel="$1" ;;
		esac
		shift
	done
	[[ -n "$kernel" ]] || rig_die "usage: build-initramfs.sh [--force] KERNEL"
	release="$(rig_kernel_release "$kernel")" ||
		rig_die "kernel '$kernel' not fetched: run scripts/vm/fetch-kernels.sh"
	mkdir -p "$RIG_INITRAMFS"
	out="$RIG_INITRAMFS/$release.cpio.gz"

	exec {lock_fd}>"$out.lock"
	flock "$lock_fd"
	local dir input stale=$force
	dir="$(dirname "$0")"
	for input in "$0" "$dir/guest-init.sh" "$dir/lib.sh"; do
		[[ "$out" -nt "$input" ]] || stale=1
	done
	if ((stale)); then
		rig_log "building initramfs for $release"
		build "$release" "$out"
		rig_log "built $out ($(du -h "$out" | cut -f1))"
	fi
	printf '%s\n' "$out"
}

main "$@"
