#!/bin/bash
# Runs inside the guest of tests/guest/package-boot.host.sh, as a systemd
# service after multi-user.target, in a real Debian 12 userspace with systemd
# as PID 1. Which stage this boot is comes from the kernel command line
# (boottest.stage=NAME); the host picks it, and which disks are attached.
# Prints "BOOTTEST: ok|FAIL: ..." per check and one closing line
# "BOOTTEST-RESULT: stage=NAME PASS|FAIL", then powers off.
#
# Disks (virtio, serial = by-id name): dmr-main0 + dmr-spare0 back device
# "data" (an ext4 in /etc/fstab on /srv/data), dmr-main1 + dmr-spare1 back
# device "other"; dmr-main2 + dmr-spare2 back device "sysroot", which holds a
# copy of this root made in stage install and booted in stage rootfs.
# The checks below run as arguments of check/wait_for (SC2317: reached
# indirectly), many as `bash -c 'SCRIPT' ARG...`, whose $0 and $1 expand in the
# inner shell (SC2016).
# shellcheck disable=SC2317,SC2016
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
stage="$(sed -n 's/.*boottest\.stage=\([a-z0-9-]*\).*/\1/p' /proc/cmdline)"
state=/root/boottest
mkdir -p "$state"
fails=0

# Each line carries the seconds since the kernel started, so a slow stage
# shows which step took the time.
say() { printf 'BOOTTEST: [%7s] %s\n' "$(cut -d' ' -f1 /proc/uptime)" "$*"; }
check() {
	local what="$1"
	shift
	if "$@" >"$state/last.out" 2>&1; then
		say "ok: $what"
	else
		say "FAIL: $what"
		sed 's/^/    | /' "$state/last.out" | tail -n 30
		fails=$((fails + 1))
	fi
}
# Polls a command once a second up to $2 seconds.
wait_for() {
	local what="$1" limit="$2" waited=0
	shift 2
	until "$@" >/dev/null 2>&1; do
		if ((waited >= limit)); then
			check "$what (after ${limit} s)" "$@"
			return
		fi
		sleep 1
		waited=$((waited + 1))
	done
	say "ok: $what (${waited} s)"
}
finish() {
	if ((fails)); then
		say "journal of the dm-remap units this boot:"
		journalctl -b --no-pager -o short-monotonic -u dm-remap-activate.service -u dm-remap.service | tail -n 60
	fi
	say "stage $stage done $(cut -d' ' -f1 /proc/uptime) s after the kernel started"
	printf 'BOOTTEST-RESULT: stage=%s %s\n' "$stage" "$( ((fails)) && echo FAIL || echo PASS)"
	sync
	systemctl --no-block poweroff
	exit 0
}

monotonic() { systemctl show -P "$2" "$1"; }
remapped_of() { dmsetup status "$1" | grep -o 'remapped=[0-9]*'; }
# dm-remap-activate's apply had exited (devices created, or given up on)
# before local-fs-pre.target was reached: the boot barrier held.
active_before_local_fs_pre() {
	local activate local_fs_pre
	activate="$(monotonic dm-remap-activate.service ExecMainExitTimestampMonotonic)"
	local_fs_pre="$(monotonic local-fs-pre.target ActiveEnterTimestampMonotonic)"
	echo "dm-remap-activate done at ${activate} us, local-fs-pre.target reached at ${local_fs_pre} us"
	((activate > 0 && local_fs_pre > 0 && activate <= local_fs_pre))
}
data_up_before_local_fs_pre() { dmsetup status data && active_before_local_fs_pre; }
unit_result_is() { [[ "$(systemctl show -P Result "$1")" == "$2" ]]; }
blob_intact() { (cd /srv/data && sha256sum -c "$state/blob.sha256"); }
same_tables() { dmsetup table data other | diff "$state/tables" -; }

# spec NAME N [FIELD...]: a device on disks dmr-mainN and dmr-spareN.
spec() {
	local name="$1" n="$2" field
	shift 2
	cat <<EOF
apiVersion: dm-remap/v1alpha1
kind: RemapDevice
metadata:
  name: $name
spec:
  mainDevice: /dev/disk/by-id/virtio-dmr-main$n
  spareDevice: /dev/disk/by-id/virtio-dmr-spare$n
EOF
	for field in "$@"; do printf '  %s\n' "$field"; done
}
# How long, by the journal's monotonic clock, apply waited for device $1:
# from its first "waiting" line to the line that gave up on it.
activation_wait_seconds() {
	journalctl -b -u dm-remap-activate.service -o short-monotonic --no-pager | activation_wait_from_journal "$1"
}
activation_wait_from_journal() {
	awk -v device="$1" '
		{ match($0, /[0-9]+\.[0-9]+\]/); at = substr($0, RSTART, RLENGTH - 1) }
		index($0, "\"device\":\"" device "\"") && /waitingForDevices/ && start == "" { start = at }
		index($0, " " device ": waitingForDevices") { end = at }
		END { if (start == "" || end == "") exit 1; printf "%d\n", end - start }'
}
# waited_under DEVICE SECONDS
waited_under() {
	local waited
	waited="$(activation_wait_seconds "$1")" || return 1
	echo "apply waited ${waited} s for $1"
	((waited < $2))
}

# A device declared while its disks are absent starts when the last one is
# hot-plugged, through udev (69-dm-remap.rules reloads the daemon): two loop
# devices stand for the disks, given by-id names by a rule of the test's own.
# Removed afterwards (spec, device, loops), so the next boot does not wait.
hot_plug() {
	local image since
	cat >/etc/udev/rules.d/99-boottest-late.rules <<EOF
SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="$state/late-main.img", SYMLINK+="disk/by-id/boottest-late-main"
SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="$state/late-spare.img", SYMLINK+="disk/by-id/boottest-late-spare"
EOF
	udevadm control --reload
	for image in late-main late-spare; do truncate -s 64M "$state/$image.img"; done
	cat >/etc/dm-remap.d/late.yaml <<EOF
apiVersion: dm-remap/v1alpha1
kind: RemapDevice
metadata:
  name: late
spec:
  mainDevice: /dev/disk/by-id/boottest-late-main
  spareDevice: /dev/disk/by-id/boottest-late-spare
  removalPolicy: Delete
EOF
	wait_for "the daemon saw spec late and waits for its disks" 120 \
		bash -c 'dm-remap status late --output json | grep -q waitingForDevices'
	check "the spare alone plugged in: late is not started without its main" bash -c \
		'losetup -f "$0/late-spare.img" && udevadm settle && sleep 3 && ! dmsetup info late' "$state"
	since="$(date '+%Y-%m-%d %H:%M:%S')"
	sleep 1
	check "the main plugged in" losetup -f "$state/late-main.img"
	wait_for "late came up with no reboot and no resync wait" 60 dmsetup status late
	check "udev reloaded the daemon for it (69-dm-remap.rules)" bash -c \
		'journalctl -u dm-remap.service --since "$0" -o cat | tee /dev/stderr | grep -i "reload"' "$since"
	rm -f /etc/dm-remap.d/late.yaml
	wait_for "spec late deleted: the daemon removed it (removalPolicy Delete)" 120 bash -c '! dmsetup info late'
	losetup -j "$state/late-main.img" -O NAME -n | xargs -r losetup -d
	losetup -j "$state/late-spare.img" -O NAME -n | xargs -r losetup -d
	rm -f /etc/udev/rules.d/99-boottest-late.rules "$state"/late-*.img
}

# --- root on a dm-remap device (stages install and rootfs)
# The install stage copies this root onto device sysroot and builds its
# initramfs with the real update-initramfs in a chroot of the copy; the host
# boots that image with root=/dev/mapper/sysroot. The original root never
# declares sysroot: it is applied from a config and state dir of its own
# (their own lock, beside the daemon), whose spec and record the copy gets
# as /etc/dm-remap.d and /var/lib/dm-remap: on the copy, sysroot is the only
# device, as on a host whose root is on it.
sysroot_work=/root/boottest/rootfs
new_root=/mnt/sysroot
# The blocks remapped before the reboot: block 0 (ext4's superblock, read
# when the initramfs mounts the root) and the first 4 blocks of a file.
sysroot_remaps=5

# An awk program: the device number of the last (visible) mount at / in a mountinfo file.
mountinfo_root='$5 == "/" { root = $3 } END { print root }'
majmin() { echo "$((0x$(stat -Lc %t "$1"))):$((0x$(stat -Lc %T "$1")))"; }
sysroot_remapped() { dmsetup status sysroot | grep -o 'remapped=[0-9]*'; }
# first_block FILE: the filesystem block (4096 bytes, as dm-remap's) where FILE's data starts.
first_block() { filefrag -v -b4096 "$1" | awk '$1 == "0:" { sub(/\.\..*/, "", $4); print $4; exit }'; }
# ext4's magic (0xEF53, little-endian, at byte 1080) in block 0 as read by O_DIRECT from $1.
has_ext4_magic() { [ "$(dd if="$1" bs=4096 count=1 iflag=direct status=none | od -An -tx1 -j1080 -N2 | tr -d ' ')" = 53ef ]; }
lacks_ext4_magic() { ! has_ext4_magic "$1"; }
# sysroot's live table with its disks' device numbers (which change from
# boot to boot with the disks attached) checked against its by-id paths and
# replaced by them.
sysroot_table() {
	dmsetup table sysroot | awk -v main="$(majmin /dev/disk/by-id/virtio-dmr-main2)" \
		-v spare="$(majmin /dev/disk/by-id/virtio-dmr-spare2)" '
		$4 != main || $5 != spare { print "disks " $4 " " $5 ", not main2 " main " and spare2 " spare; exit 1 }
		{ $4 = "main2"; $5 = "spare2"; print }'
}
same_sysroot_table() { sysroot_table | diff /root/boottest/sysroot.table -; }
in_new_root() { chroot "$new_root" "$@"; }

prepare_root_on_remap() {
	local release blob_block main
	release="$(uname -r)"
	main=/dev/disk/by-id/virtio-dmr-main2
	mkdir -p "$sysroot_work/config" "$sysroot_work/state"
	spec sysroot 2 >"$sysroot_work/config/sysroot.yaml"
	check "dm-remap apply creates sysroot (its own config and state dir)" \
		dm-remap apply --config-dir "$sysroot_work/config" --state-dir "$sysroot_work/state"
	check "mkfs.ext4 on /dev/mapper/sysroot" mkfs.ext4 -q -b 4096 -L sysroot /dev/mapper/sysroot
	mkdir -p "$new_root"
	check "mount it at $new_root" mount /dev/mapper/sysroot "$new_root"
	# -x: one filesystem, so /proc, /sys, /dev, /run and the new root itself are left out.
	check "copy the running root onto it" cp -ax /. "$new_root/"
	mkdir -p "$new_root"/{proc,sys,dev,run,tmp}
	rm -f "$new_root"/etc/dm-remap.d/*.yaml "$new_root"/var/lib/dm-remap/devices/*
	cp "$sysroot_work/config/sysroot.yaml" "$new_root/etc/dm-remap.d/"
	check "the copy's /var/lib/dm-remap gets sysroot's record" \
		cp -a "$sysroot_work/state/devices/." "$new_root/var/lib/dm-remap/devices/"
	printf '/dev/mapper/sysroot / ext4 errors=remount-ro 0 1\n' >"$new_root/etc/fstab"
	# The copy leaves the page cache full of it; mkinitramfs's compressor
	# then allocating through reclaim once kept the one TCG vCPU in the kernel
	# long enough for a soft lockup report (zstd, 24 s and 49 s).
	sync
	echo 3 >/proc/sys/vm/drop_caches

	head -c 1048576 /dev/urandom >"$new_root/root/boottest/rootfs-blob"
	(cd "$new_root/root/boottest" && sha256sum rootfs-blob) >"$new_root/root/boottest/rootfs-blob.sha256"
	sync
	blob_block="$(first_block "$new_root/root/boottest/rootfs-blob")"
	check "remap block 0 (the superblock) to the spare" dm-remap remap-block sysroot 0 1
	check "remap the file's first 4 blocks (from block $blob_block)" dm-remap remap-block sysroot "$blob_block" 4
	check "sysroot counts $sysroot_remaps remapped blocks" test "$(sysroot_remapped)" = "remapped=$sysroot_remaps"
	sysroot_table >"$new_root/root/boottest/sysroot.table"
	dmsetup info -c --noheadings -o uuid sysroot >"$new_root/root/boottest/sysroot.uuid"

	for dir in proc sys dev run; do mount --bind "/$dir" "$new_root/$dir"; done
	# What the hook sees: in a chroot, /proc/self/mountinfo shows the mount of
	# the chroot's own root as / (mounts outside it are hidden).
	check "in a chroot of the copy, the mount table's / is /dev/mapper/sysroot ($(majmin /dev/mapper/sysroot))" \
		test "$(in_new_root awk "$mountinfo_root" /proc/self/mountinfo)" = "$(majmin /dev/mapper/sysroot)"
	check "dm-remap boot-tables in the chroot lists sysroot by its by-id paths" bash -c \
		'chroot "$0" dm-remap boot-tables | tee /dev/stderr | grep -q "^sysroot DMREMAP-[^ ]* 0 [0-9]* remap /dev/disk/by-id/virtio-dmr-main2 /dev/disk/by-id/virtio-dmr-spare2 "' \
		"$new_root"
	check "update-initramfs -c -k $release in the chroot" in_new_root update-initramfs -c -k "$release"
	check "the image holds the boot tables, the local-top script, the module and dmsetup" bash -c \
		'chroot "$0" lsinitramfs "/boot/initrd.img-$1" >/tmp/initrd.list &&
		for path in etc/dm-remap/boot-tables scripts/local-top/dm-remap "dm-remap.ko" sbin/dmsetup; do
			grep -q "$path" /tmp/initrd.list || { echo "missing: $path"; exit 1; }
		done' "$new_root" "$release"
	check "the image is copied out for the host" cp "$new_root/boot/initrd.img-$release" "$sysroot_work/initrd.img"
	for dir in run dev sys proc; do umount "$new_root/$dir"; done
	check "unmount the copy" umount "$new_root"

	# Main's copy of the remapped blocks is overwritten: the next boot can
	# only read them (the superblock first) from the spare.
	check "main's copy of the remapped blocks overwritten with zeros" bash -c \
		'dd if=/dev/zero of="$0" bs=4096 count=1 oflag=direct conv=notrunc status=none &&
		dd if=/dev/zero of="$0" bs=4096 seek="$1" count=4 oflag=direct conv=notrunc status=none' "$main" "$blob_block"
	check "main's block 0 holds no superblock now" lacks_ext4_magic "$main"
	check "sysroot's block 0 still does (read from the spare)" has_ext4_magic /dev/mapper/sysroot
	check "dmsetup remove sysroot (as at a reboot)" dmsetup remove sysroot
}

# The root this boot runs on is sysroot, as the image made in stage install created it.
root_is_sysroot() {
	findmnt -no SOURCE /
	[ "$(awk "$mountinfo_root" /proc/self/mountinfo)" = "$(majmin /dev/mapper/sysroot)" ]
}
# Neither unit created, reloaded, resumed or removed sysroot: they took it over as it was.
no_operation_on_sysroot() {
	! journalctl -b -o cat -u dm-remap-activate.service -u dm-remap.service |
		grep '"device":"sysroot"' | grep -E '"operation":"(create|completeCreate|rollbackCreate|reload|resume|clearInactive|remove)"'
}

say "stage $stage on $(uname -r), $(node --version 2>&1) ($(dpkg-query -W -f '${Version}' nodejs 2>/dev/null))"

case "$stage" in
install)
	cd /root/debs/old || exit 1
	deb="$(echo dm-remap_*_all.deb)"
	check "apt install ./$deb, with no network (the dependencies are pre-installed)" \
		env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "./$deb"
	cd /
	check "DKMS built and installed dm-remap for $(uname -r)" \
		bash -c "dkms status dm-remap | tee /dev/stderr | grep -q ': installed'"
	check "modprobe finds it under updates/dkms" bash -c 'modinfo -n dm-remap | grep updates/dkms'
	check "both units are enabled" systemctl is-enabled dm-remap-activate.service dm-remap.service
	check "the daemon was started and reported ready (Type=notify)" systemctl is-active dm-remap.service
	check "man pages, completion, schema, modules-load entry are installed" test -f /usr/share/man/man8/dm-remap.8.gz \
		-a -f /usr/share/man/man5/dm-remap.d.5.gz -a -f /usr/share/bash-completion/completions/dm-remap \
		-a -f /usr/share/dm-remap/remapdevice.schema.json -a -f /usr/lib/modules-load.d/dm-remap.conf
	check "dm-remap --version runs on Debian's node" dm-remap --version

	# other's disk is waited for 20 s at boot, not the default 90 s (stage
	# "missing"); optional's disks never exist, and nofail keeps that from
	# failing the boot unit (stages "boot" and "upgrade").
	spec data 0 >/etc/dm-remap.d/data.yaml
	spec other 1 'deviceTimeout: 20s' >/etc/dm-remap.d/other.yaml
	spec optional 9 'deviceTimeout: 10s' 'nofail: true' >/etc/dm-remap.d/optional.yaml
	check "the specs validate" dm-remap validate

	# The daemon holds the single-instance lock: an apply beside it waits, names it, gives up with 75.
	dm-remap apply --timeout 3s >"$state/apply.out" 2>&1
	status=$?
	check "apply beside the daemon gives up on the lock with 75 (got $status)" \
		bash -c "[ $status = 75 ] && grep 'held by pid [0-9]* run' $state/apply.out"
	check "plan beside the daemon does not wait for the lock" timeout 60 dm-remap plan

	wait_for "the daemon created both devices from the new specs" 120 \
		bash -c 'dmsetup status data && dmsetup status other'
	check "main_id is the main disk's virtio serial" bash -c 'dmsetup table data | grep "main_id virtio-dmr-main0"'
	check "mkfs.ext4 on /dev/mapper/data" mkfs.ext4 -q /dev/mapper/data
	mkdir -p /srv/data
	# A generous device timeout: under TCG on a loaded host, node alone can take a
	# minute to start; what is tested is the order, not the speed.
	echo '/dev/mapper/data /srv/data ext4 defaults,x-systemd.device-timeout=600s 0 2' >>/etc/fstab
	systemctl daemon-reload
	check "mount /srv/data" mount /srv/data
	head -c 1048576 /dev/urandom >/srv/data/blob
	(cd /srv/data && sha256sum blob) >"$state/blob.sha256"
	sync
	check "a proactive remap of 4 blocks" dmsetup message data 0 remap 100 4
	check "the device counts 4 remapped blocks" bash -c '[ "$(dmsetup status data | grep -o "remapped=[0-9]*")" = remapped=4 ]'
	wait_for "the daemon recorded them in /var/lib/dm-remap (resync 60 s or SIGHUP)" 30 \
		bash -c 'systemctl reload dm-remap.service; sleep 2; grep -q "\"remappedBlocks\": *4" /var/lib/dm-remap/devices/data.json'
	dmsetup table data other >"$state/tables"
	prepare_root_on_remap
	;;
rootfs)
	say "booted with $(grep -o 'root=[^ ]*' /proc/cmdline), no dmr-root disk attached"
	check "/ is /dev/mapper/sysroot" root_is_sysroot
	check "the table is the one applied before the reboot, on disks main2 and spare2" \
		same_sysroot_table
	check "and the UUID" bash -c 'dmsetup info -c --noheadings -o uuid sysroot | diff /root/boottest/sysroot.uuid -'
	check "the $sysroot_remaps remaps made before the reboot are there" test "$(sysroot_remapped)" = "remapped=$sysroot_remaps"
	check "the file written before the reboot is intact (its first blocks read from the spare)" \
		bash -c 'cd /root/boottest && sha256sum -c rootfs-blob.sha256'
	check "dm-remap-activate succeeded" unit_result_is dm-remap-activate.service success
	# "ok NAME: STATE", with no " — reason" of an operation after it.
	check "and found sysroot as it should be: no operation" bash -c \
		'journalctl -b -u dm-remap-activate.service -o cat | tee /dev/stderr | grep -x "ok *sysroot: active"'
	check "the daemon is active (ready)" systemctl is-active dm-remap.service
	check "neither unit created, reloaded or resumed sysroot" no_operation_on_sysroot
	check "dm-remap plan: nothing to change" dm-remap plan
	check "dm-remap status sysroot: Ready" bash -c 'dm-remap status sysroot | tee /dev/stderr | grep -E "^sysroot +active +True "'
	;;
missing)
	say "dmr-main1 (device other's main disk) is not attached"
	check "the boot went on: multi-user.target reached" systemctl is-active multi-user.target
	check "dm-remap-activate failed (exit status) rather than hanging" unit_result_is dm-remap-activate.service exit-code
	check "the journal names the missing device, given up after its deviceTimeout" bash -c \
		'journalctl -b -u dm-remap-activate.service -o cat | tee /dev/stderr | grep "FAIL other: waitingForDevices .*deviceTimeout of 20s)"'
	# Timed from the device's own first wait, by the journal: node's start-up
	# under TCG on a loaded host is not part of what is tested.
	check "it waited for other's disk about its 20 s deviceTimeout, not the default 90 s" waited_under other 60
	check "device data came up, before local-fs-pre.target" data_up_before_local_fs_pre
	check "and /srv/data is mounted" mountpoint /srv/data
	check "the file is intact" blob_intact
	check "device other was not started without its main" bash -c '! dmsetup info other'
	check "the daemon is active, waiting for the disk" systemctl is-active dm-remap.service
	hot_plug
	;;
boot)
	# The boot after the missing disk's, with every disk back: boot
	# activation as a host sees it at every boot, then, on this running
	# system, an upgrade and a purge (one boot for both: each boot costs
	# about a minute under TCG).
	check "dm-remap-activate succeeded (every disk back; optional's are absent: nofail)" unit_result_is dm-remap-activate.service success
	check "and it reported optional as skipped" bash -c \
		'journalctl -b -u dm-remap-activate.service -o cat | grep "skip optional: waitingForDevices .*deviceTimeout of 10s, nofail"'
	check "optional was not started without its disks" bash -c '! dmsetup info optional'
	check "the devices were active before local-fs-pre.target" active_before_local_fs_pre
	check "fstab mounted /srv/data from /dev/mapper/data" mountpoint /srv/data
	check "the file written before the reboot is intact" blob_intact
	check "the daemon is active (ready)" systemctl is-active dm-remap.service
	check "the remaps made before the reboot are there" bash -c '[ "$(dmsetup status data | grep -o "remapped=[0-9]*")" = remapped=4 ]'
	check "the tables are the ones of before the reboot" same_tables
	pid_before="$(systemctl show -P MainPID dm-remap.service)"
	cd /root/debs/new || exit 1
	deb="$(echo dm-remap_*_all.deb)"
	check "apt upgrades to ./$deb" \
		env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "./$deb"
	cd /
	check "DKMS built the new version" bash -c "dkms status dm-remap | tee /dev/stderr | grep -F \"$(dpkg-query -W -f '${Version}' dm-remap)\" | grep -q ': installed'"
	check "the daemon was restarted onto the new version" \
		bash -c "systemctl is-active dm-remap.service && [ \"\$(systemctl show -P MainPID dm-remap.service)\" != $pid_before ]"
	check "the devices kept running through the upgrade (same tables)" same_tables
	check "/srv/data stayed mounted, the file intact" bash -c 'mountpoint /srv/data && cd /srv/data && sha256sum -c /root/boottest/blob.sha256'

	apt-get purge -y dm-remap >"$state/purge.out" 2>&1
	status=$?
	sed 's/^/    | /' "$state/purge.out" | tail -n 12
	check "apt purge dm-remap succeeds" test "$status" = 0
	check "purge says it leaves devices and spares as they were" grep 'Left as they were' "$state/purge.out"
	check "the devices still run after the purge (same tables)" same_tables
	check "the spare still holds the 4 remaps" bash -c '[ "$(dmsetup status data | grep -o "remapped=[0-9]*")" = remapped=4 ]'
	check "/srv/data is still mounted, the file intact" bash -c 'mountpoint /srv/data && cd /srv/data && sha256sum -c /root/boottest/blob.sha256'
	check "/var/lib/dm-remap (the applied state) is kept" test -f /var/lib/dm-remap/devices/data.json
	check "the spec files are kept" test -f /etc/dm-remap.d/data.yaml
	check "the package is gone" bash -c '! dpkg-query -W -f "\${Status}" dm-remap 2>/dev/null | grep -q installed'
	check "the daemon is stopped" bash -c '! systemctl is-active dm-remap.service'
	;;
*)
	say "FAIL: unknown stage '$stage'"
	fails=1
	;;
esac
finish
