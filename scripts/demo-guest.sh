#!/usr/bin/env bash
# The demo, run inside the guest by scripts/demo.sh: the reconciler converges
# the specs of examples/ on a real kernel with the project's own module, a
# disk grows a bad sector under a running device, and nothing is lost.
#
# The guest has no udev, so nothing makes the /dev/disk/by-id links the
# examples name: this script plays udev, giving each named disk a loop device.
# The main disk of archive0 sits under a plain dm-linear device (not the
# reconciler's: it must never touch it) whose middle can be switched to the
# kernel's error target, a real failing sector.
set -euo pipefail

step() { printf '\n=== %s\n' "$*"; }
run() {
	printf '$ %s\n' "$*"
	"$@"
}
# restore_spec: put the example spec of archive0 back as shipped.
restore_spec() { cp examples/single-disk.yaml "$config/single-disk.yaml"; }
fail() {
	echo "demo: FAILED: $*" >&2
	exit 1
}

config=/etc/dm-remap.d
work=/tmp/demo
mkdir -p "$config" "$work"
chmod 0755 /etc "$config"
cp examples/*.yaml "$config/"
chmod 0644 "$config"/*.yaml

step "The specs (dm-remap validate)"
run dm-remap validate --config-dir "$config"

specs_json=$(dm-remap validate --config-dir "$config" --output json)
# spec_query JS: run JS with `d` = the validated specs (validate's JSON output).
spec_query() { node -e "const d = JSON.parse(require('fs').readFileSync(0, 'utf8')); $1" <<<"$specs_json"; }
archive_main=$(spec_query 'console.log(d.devices.find((s) => s.name === "archive0").mainDevice)')

step "Disks: a loop device for each path the specs name"
while read -r path; do
	case "$path" in
	*-part*) size_mb=16 ;; # spare partitions
	*) size_mb=64 ;;
	esac
	image="$work/$(basename "$path").img"
	truncate -s "${size_mb}M" "$image"
	target=$(losetup -f --show "$image")
	if [ "$path" = "$archive_main" ]; then
		dmsetup create demo-lower-disk --table "0 $(blockdev --getsz "$target") linear $target 0"
		target=/dev/mapper/demo-lower-disk
	fi
	mkdir -p "$(dirname "$path")"
	ln -sf "$target" "$path"
	echo "$path -> $target (${size_mb} MiB)"
done < <(spec_query 'for (const s of d.devices) console.log(s.mainDevice + "\n" + s.spareDevice)' | sort -u)
[ -n "$archive_main" ] || fail "archive0's main disk not found in the specs"

step "What the reconciler would do (dm-remap plan; exit 2 = changes pending)"
set +e
dm-remap plan --config-dir "$config"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "plan exited $rc, expected 2 (changes pending)"

step "Converge (dm-remap apply)"
run dm-remap apply --config-dir "$config" --log-format text
run dmsetup ls
run dmsetup table
run dmsetup status
dmsetup info demo-lower-disk >/dev/null || fail "the foreign device is gone"
if dmsetup info scratch0 >/dev/null 2>&1; then fail "paused scratch0 was created"; fi
if dmsetup info old0 >/dev/null 2>&1; then fail "absent old0 exists"; fi

step "Nothing left to do (dm-remap plan; exit 0)"
run dm-remap plan --config-dir "$config"

step "archive0 holds data; then one of its sectors goes bad"
dd if=/dev/urandom of="$work/data" bs=1M count=8 status=none
run dd if="$work/data" of=/dev/mapper/archive0 bs=1M oflag=direct status=none
sectors=$(blockdev --getsz /dev/mapper/demo-lower-disk)
loop=$(dmsetup table demo-lower-disk | awk '{print $4}')
bad=4096 # sector 4096 = 2 MiB into the disk, inside the data written above
dmsetup suspend demo-lower-disk
dmsetup load demo-lower-disk --table "0 $bad linear $loop 0
$bad 8 error
$((bad + 8)) $((sectors - bad - 8)) linear $loop $((bad + 8))"
dmsetup resume demo-lower-disk
echo "sectors $bad..$((bad + 7)) of the main disk now fail every I/O"
if dd if="$archive_main" of=/dev/null bs=4096 skip=$((bad / 8)) count=1 iflag=direct status=none 2>/dev/null; then
	fail "the injected bad sector read fine"
fi

step "The application rewrites its data: the write to the bad block is remapped, not failed"
run dd if="$work/data" of=/dev/mapper/archive0 bs=1M oflag=direct status=none
run dmsetup status archive0
dmsetup status archive0 | grep -q ' remapped=1 ' || fail "expected exactly one remapped block"
cmp <(head -c 8M /dev/mapper/archive0) "$work/data" || fail "data read back differs"
echo "read back 8 MiB through archive0: identical to what was written"
run dmsetup message archive0 0 list_remaps

step "A half-written spec never touches a running device"
table_before=$(dmsetup table archive0)
printf 'apiVersion: dm-remap/v1alpha1\nkind: RemapDevice\nmetadata:\n  name: archive0\nspec:\n  mainDevice: /dev/disk/by-id/ata-W' >"$config/single-disk.yaml"
set +e
dm-remap apply --config-dir "$config" --log-format text
rc=$?
set -e
echo "apply exited $rc (non-zero: a spec file is invalid)"
[ "$rc" -ne 0 ] || fail "apply accepted a broken spec"
[ "$(dmsetup table archive0)" = "$table_before" ] || fail "archive0's table changed"
cmp <(head -c 8M /dev/mapper/archive0) "$work/data" || fail "data differs after the broken spec"
echo "archive0 is running, unchanged, data intact"

step "Changing the spare of a device that holds remapped blocks is refused"
# A new, empty spare for archive0: applying it by a plain table reload would
# strand the block already remapped onto the old spare.
new_spare=/dev/disk/by-id/nvme-Samsung_SSD_980_1TB_S64DNX0R100002-part1
restore_spec
truncate -s 16M "$work/new-spare.img"
ln -sf "$(losetup -f --show "$work/new-spare.img")" "$new_spare"
sed -i "s#/dev/disk/by-id/nvme-Samsung_SSD_980_1TB_S64DNX0R100001-part3#$new_spare#" "$config/single-disk.yaml"
set +e
dm-remap plan --config-dir "$config" | tee "$work/plan"
dm-remap apply --config-dir "$config" --log-format text
rc=$?
set -e
echo "apply exited $rc"
grep -q 'refuse' "$work/plan" || fail "the plan does not refuse the spare change"
[ "$rc" -ne 0 ] || fail "apply accepted a spare change over remapped data"
[ "$(dmsetup table archive0)" = "$table_before" ] || fail "archive0's table changed"
cmp <(head -c 8M /dev/mapper/archive0) "$work/data" || fail "data differs after the refused change"
echo "refused: archive0 keeps its spare, its remap and its data"
restore_spec

step "Done: every device as declared, the foreign device untouched"
run dm-remap plan --config-dir "$config"
run dmsetup ls
echo "demo: OK"
