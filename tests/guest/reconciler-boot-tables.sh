#!/bin/bash
# A root filesystem on dm-remap, short of a real boot: `dm-remap boot-tables`
# lists the devices under the given mount points with their live tables,
# disks named by stable links; after the devices are removed (as at a
# reboot), the initramfs's local-top script (run here by busybox's sh, as in
# an initramfs) creates them again from that list: the same table (main_id
# included) and UUID, every remap back, the remapped data read from the spare
# (main's copy of those blocks was overwritten meanwhile), and `dm-remap
# plan`/`apply` then find nothing to change. A device whose spare link is
# missing is waited for within a bound, reported and not created; once the
# link is there, a second run creates it.
# Run: npm run test:guest -- tests/guest/reconciler-boot-tables.sh
# guest: --timeout 900
# guest-cost: 70
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/guest/reconciler-e2e.sh
RECONCILER_HELPERS_ONLY=1 source tests/guest/reconciler-e2e.sh

LOCAL_TOP=etc/initramfs-tools/scripts/local-top/dm-remap
WORK=$(mktemp -d)
CONFIG_DIR=$WORK/dm-remap.d
STATE_DIR=$WORK/state
mkdir -m 0755 "$CONFIG_DIR"
modprobe dm-remap 2>/dev/null || fail "the dm-remap module is not available in this guest"

rc() { dm-remap "$@" --config-dir "$CONFIG_DIR" --state-dir "$STATE_DIR"; }
majmin() { echo "$((0x$(stat -Lc %t "$1"))):$((0x$(stat -Lc %T "$1")))"; }
status_field() { dmsetup status "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# Two devices, boot and late, each over a main with a stable identity (a
# dm-linear with its own UUID: the table then carries main_id) and a loop
# spare; no udev in the guest: the by-id links are made by hand.
mkdir -p /dev/disk/by-id
for name in boot late; do
	backing=$(new_loop "$WORK/$name-main.img" 128)
	spare=$(new_loop "$WORK/$name-spare.img" 64)
	dmsetup create "main-$name" --uuid "TEST-main-$name" \
		--table "0 $(blockdev --getsz "$backing") linear $backing 0"
	ln -sf "/dev/mapper/main-$name" "/dev/disk/by-id/test-$name-main"
	ln -sf "$spare" "/dev/disk/by-id/test-$name-spare"
	cat >"$CONFIG_DIR/$name.yaml" <<SPEC
apiVersion: dm-remap/v1alpha1
kind: RemapDevice
metadata:
  name: $name
spec:
  mainDevice: /dev/disk/by-id/test-$name-main
  spareDevice: /dev/disk/by-id/test-$name-spare
  blockSize: 4096
SPEC
done

step "apply creates both devices; an ext4 on each, mounted"
rc apply --log-format text
for name in boot late; do
	mke2fs -t ext4 -q -F -b 4096 "/dev/mapper/$name"
	mkdir -p "$WORK/mnt-$name"
	mount -t ext4 "/dev/mapper/$name" "$WORK/mnt-$name"
done
grep -q main_id <(dmsetup table boot) || fail "boot's table has no main_id: $(dmsetup table boot)"

step "a file on boot, its blocks remapped to the spare"
# 16 blocks, each starting with a marker, so that they can be found on the device.
# shellcheck disable=SC2016 # the script is JavaScript, for node
node -e '
  const blocks = [];
  for (let i = 0; i < 16; i++) {
    const block = Buffer.alloc(4096, i + 1);
    Buffer.from(`DMREMAP-BOOT-TEST-${String(i).padStart(2, "0")}`).copy(block);
    blocks.push(block);
  }
  process.stdout.write(Buffer.concat(blocks));' >"$WORK/mnt-boot/data"
SUM=$(sha256sum <"$WORK/mnt-boot/data" | cut -d' ' -f1)
umount "$WORK/mnt-boot"
# shellcheck disable=SC2016 # the script is JavaScript, for node
read -r FIRST COUNT < <(node -e '
  const fs = require("fs");
  const fd = fs.openSync("/dev/mapper/boot", "r");
  const block = Buffer.alloc(4096);
  const found = [];
  for (let n = 0; fs.readSync(fd, block, 0, 4096, n * 4096) === 4096; n++) {
    if (block.subarray(0, 18).toString() === "DMREMAP-BOOT-TEST-") found.push(n);
  }
  const contiguous = found.length === 16 && found[15] - found[0] === 15;
  console.log(contiguous ? `${found[0]} 16` : `none ${found.join(",")}`);')
[[ $FIRST =~ ^[0-9]+$ ]] || fail "the file's 16 blocks are not contiguous on boot: $COUNT"
dm-remap remap-block boot "$FIRST" "$COUNT"
[[ $(status_field boot remapped) == 16 ]] || fail "boot: $(dmsetup status boot)"
mount -t ext4 /dev/mapper/boot "$WORK/mnt-boot"
rc apply --log-format text # records the remap counts

step "boot-tables lists both devices, live tables with the stable links"
declare -A TABLE
rc boot-tables --mount "$WORK/mnt-boot" --mount "$WORK/mnt-late" | tee "$WORK/boot-tables"
[[ $(wc -l <"$WORK/boot-tables") == 2 ]] || fail "expected two lines"
for name in boot late; do
	live=$(dmsetup table "$name")
	main=$(majmin "/dev/disk/by-id/test-$name-main")
	spare=$(majmin "/dev/disk/by-id/test-$name-spare")
	expected="$name DMREMAP-$name ${live/ $main $spare / /dev/disk/by-id/test-$name-main /dev/disk/by-id/test-$name-spare }"
	grep -qxF -- "$expected" "$WORK/boot-tables" || fail "no line '$expected'"
	TABLE[$name]=$live
done
rc boot-tables --mount / --output json | tee "$WORK/root.json"
grep -q '"devices": \[\]' "$WORK/root.json" || fail "/ is not on dm-remap here, yet devices are listed"

step "boot-tables refuses a device whose spare link points elsewhere"
ln -sf "/dev/mapper/main-late" /dev/disk/by-id/test-late-spare
if rc boot-tables --mount "$WORK/mnt-late" >"$WORK/refused.out" 2>"$WORK/refused"; then
	fail "boot-tables listed a device whose spare link moved"
fi
cat "$WORK/refused"
grep -q "refused: late: no stable path to its spare device" "$WORK/refused" || fail "no clear refusal"
[[ ! -s $WORK/refused.out ]] || fail "a refusal printed a table"
ln -sf "$(losetup -j "$WORK/late-spare.img" | cut -d: -f1)" /dev/disk/by-id/test-late-spare

step "a reboot, as far as dm-remap goes: unmounted, removed; boot's main copy of the file overwritten"
umount "$WORK/mnt-boot" "$WORK/mnt-late"
dmsetup remove boot
dmsetup remove late
dd if=/dev/zero of=/dev/mapper/main-boot bs=4096 seek="$FIRST" count=16 oflag=direct conv=notrunc status=none
mv /dev/disk/by-id/test-late-spare "$WORK/late-spare-link"

step "local-top (busybox sh) creates boot; late, without its spare, is waited for, reported, not created"
set +e
DM_REMAP_BOOT_TABLES=$WORK/boot-tables DM_REMAP_BOOT_WAIT=3 busybox sh "$LOCAL_TOP" >"$WORK/local-top" 2>&1
status=$?
set -e
cat "$WORK/local-top"
((status == 0)) || fail "local-top exited $status"
grep -q "dm-remap: created boot" "$WORK/local-top" || fail "boot not reported created"
grep -q "late: not created: /dev/disk/by-id/test-late-spare did not appear within 3s" "$WORK/local-top" ||
	fail "late's missing spare not reported"
! dmsetup info late >/dev/null 2>&1 || fail "late was created without its spare"
[[ $(dmsetup table boot) == "${TABLE[boot]}" ]] || fail "boot's table is '$(dmsetup table boot)', was '${TABLE[boot]}'"
[[ $(device_uuid boot) == DMREMAP-boot ]] || fail "boot's UUID is $(device_uuid boot)"
[[ $(status_field boot remapped) == 16 ]] || fail "boot's remaps are not back: $(dmsetup status boot)"
mount -t ext4 /dev/mapper/boot "$WORK/mnt-boot"
[[ $(sha256sum <"$WORK/mnt-boot/data" | cut -d' ' -f1) == "$SUM" ]] || fail "the file does not read back"
umount "$WORK/mnt-boot"
e2fsck -n -f /dev/mapper/boot >/dev/null || fail "boot's filesystem is not clean"

step "the spare link back: a second run creates late, leaves boot"
mv "$WORK/late-spare-link" /dev/disk/by-id/test-late-spare
DM_REMAP_BOOT_TABLES=$WORK/boot-tables DM_REMAP_BOOT_WAIT=3 sh "$LOCAL_TOP" | tee "$WORK/local-top2"
grep -q "dm-remap: boot exists already" "$WORK/local-top2" || fail "boot not left alone"
[[ $(dmsetup table late) == "${TABLE[late]}" ]] || fail "late's table is '$(dmsetup table late)', was '${TABLE[late]}'"

step "the reconciler takes both over as they are: nothing to plan, apply changes nothing"
set +e
rc plan
plan=$?
set -e
((plan == 0)) || fail "plan exits $plan, not 0 (no changes)"
rc apply --log-format text | tee "$WORK/apply"
grep -q "2 of 2 devices converged" "$WORK/apply" || fail "apply did not converge"
[[ $(dmsetup table boot) == "${TABLE[boot]}" && $(dmsetup table late) == "${TABLE[late]}" ]] || fail "apply changed a table"
[[ $(status_field boot remapped) == 16 ]] || fail "boot: $(dmsetup status boot)"

dmsetup remove boot
dmsetup remove late
dmsetup remove main-boot
dmsetup remove main-late
echo "PASS"
