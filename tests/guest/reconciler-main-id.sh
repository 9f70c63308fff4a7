#!/usr/bin/env bash
# End to end: main_id through `dm-remap apply` on the real module. Two mains of
# one size with their own stable identities; the spec names the main by a
# symlink (/run/disks/main), as a udev rule or an admin would. The device is
# created (its table carries the first disk's identity as main_id) and
# removed; the symlink is re-pointed at the other disk, as when two disks trade
# names between boots; `dm-remap apply` must then refuse before touching the
# kernel, naming both identities and both paths, exit non-zero and leave the
# spare byte for byte as it was. Pointed back, the spare is accepted again. A
# spare formatted by a table without main_id (before the reconciler passed
# one) keeps working, with a warning, through apply and a reload; a main
# without identity (a loop device) is created without main_id, with a warning.
# Disks: two scsi_debug disks (distinct wwids, the SCSI identity path) when the
# guest has scsi_debug; otherwise dm-linear devices over loop devices with
# their own dm uuids (identity from sysfs dm/uuid): the same mechanics.
# Run: npm run guest -- tests/guest/reconciler-main-id.sh
# guest: --timeout 1200
# guest-cost: 90
set -euo pipefail

cd "$(dirname "$0")/../.."

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "=== $*"; }

WORK=$(mktemp -d)
CONFIG_DIR=$WORK/dm-remap.d
mkdir -m 0755 "$CONFIG_DIR"
NAME=data
LINK=/run/disks/main

new_loop() { # FILE SIZE_MB: a sparse image behind a loop device
  truncate -s "${2}M" "$1"
  losetup -f --show "$1"
}

# write_spec MAIN SPARE [EXTRA_SPEC_LINES...]
write_spec() {
  local main=$1 spare=$2
  shift 2
  {
    printf 'apiVersion: dm-remap/v1alpha1\nkind: RemapDevice\nmetadata:\n  name: %s\nspec:\n' "$NAME"
    printf '  mainDevice: %s\n  spareDevice: %s\n' "$main" "$spare"
    local line
    for line in "$@"; do printf '  %s\n' "$line"; done
  } >"$CONFIG_DIR/.$NAME.tmp"
  mv "$CONFIG_DIR/.$NAME.tmp" "$CONFIG_DIR/$NAME.yaml"
}

# apply: run `dm-remap apply`, keeping its output in $OUT and its status in $STATUS.
apply() {
  set +e
  OUT=$(dm-remap apply --config-dir "$CONFIG_DIR" --log-format text --timeout 2m --retries 1 2>&1)
  STATUS=$?
  set -e
  echo "$OUT" | sed 's/^/    | /'
}

expect_applied() {
  apply
  ((STATUS == 0)) || fail "apply exited $STATUS: $*"
}

major_minor() { echo "$((0x$(stat -Lc %t "$1"))):$((0x$(stat -Lc %T "$1")))"; }
header_sum() { dd if="$1" bs=4096 count=2 iflag=direct status=none | sha256sum; }
live_table() { dmsetup table "$NAME"; }

remove_device() {
  write_spec "$@" 'state: absent'
  expect_applied "removing $NAME"
  ! dmsetup info "$NAME" >/dev/null 2>&1 || fail "$NAME still exists after state: absent"
}

# main_id_of IDENTITY: the reconciler's mapping for identities that need no hashing.
main_id_of() {
  [[ "$1" =~ ^[A-Za-z0-9._-]{1,63}$ ]] || fail "identity '$1' needs the hashed form; extend this test"
  echo "$1"
}

step "two mains of one size, each with its own identity"
modprobe dm-remap
MAIN_MB=32
# No udev in the guest: nothing loads sd for the new SCSI disks, so load it first.
if modprobe sd_mod 2>/dev/null &&
  modprobe scsi_debug add_host=2 num_tgts=1 max_luns=1 per_host_store=1 dev_size_mb=$MAIN_MB 2>/dev/null; then
  DISKS=()
  for _ in $(seq 50); do
    mapfile -t DISKS < <(for d in /sys/bus/pseudo/drivers/scsi_debug/adapter*/host*/target*/*/block/*; do
      [[ -e $d ]] && basename "$d"
    done | sort)
    ((${#DISKS[@]} == 2)) && [[ -b /dev/${DISKS[0]} && -b /dev/${DISKS[1]} ]] && break
    sleep 0.2
  done
  ((${#DISKS[@]} == 2)) || fail "scsi_debug made ${#DISKS[@]} disks, expected 2"
  MAIN_A=/dev/${DISKS[0]}
  MAIN_B=/dev/${DISKS[1]}
  ID_A=$(tr -d '\n' <"/sys/block/${DISKS[0]}/device/wwid")
  ID_B=$(tr -d '\n' <"/sys/block/${DISKS[1]}/device/wwid")
  echo "scsi_debug disks: $MAIN_A ($ID_A), $MAIN_B ($ID_B)"
else
  echo "NOTE: scsi_debug is not in this guest; using dm-linear disks over loop devices (identity: dm/uuid)"
  for side in a b; do
    loop=$(new_loop "$WORK/main-$side.img" $MAIN_MB)
    dmsetup create "disk-$side" -u "TEST-disk-$side" --table "0 $((MAIN_MB * 2048)) linear $loop 0"
  done
  MAIN_A=/dev/mapper/disk-a
  MAIN_B=/dev/mapper/disk-b
  ID_A=dm-uuid-TEST-disk-a
  ID_B=dm-uuid-TEST-disk-b
fi
if [[ -z $ID_A || $ID_A == "$ID_B" ]]; then fail "the two mains need distinct identities: '$ID_A', '$ID_B'"; fi
SIZE_A=$(blockdev --getsz "$MAIN_A")
SIZE_B=$(blockdev --getsz "$MAIN_B")
((SIZE_A == SIZE_B)) || fail "the two mains differ in size ($SIZE_A, $SIZE_B sectors)"
MAIN_ID_A=$(main_id_of "$ID_A")
MAIN_ID_B=$(main_id_of "$ID_B")
SPARE=$(new_loop "$WORK/spare.img" 8)
mkdir -p "$(dirname "$LINK")"
ln -sfn "$MAIN_A" "$LINK"

step "create: the table carries the main's identity as main_id"
write_spec "$LINK" "$SPARE"
expect_applied "creating $NAME on a blank spare"
live_table | grep -q " main_id $MAIN_ID_A\$" || fail "live table lacks main_id $MAIN_ID_A: $(live_table)"
remove_device "$LINK" "$SPARE"
SPARE_SUM=$(header_sum "$SPARE")

step "the names trade places: the spare of $MAIN_A is refused for $MAIN_B"
ln -sfn "$MAIN_B" "$LINK"
write_spec "$LINK" "$SPARE"
apply
((STATUS != 0)) || fail "apply accepted the spare of another disk"
expected="the spare $SPARE ($(major_minor "$SPARE"))"
expected+=" belongs to the main disk \"$MAIN_ID_A\", but the main device $LINK"
grep -qF "$expected" <<<"$OUT" || fail "the refusal does not say: $expected"
grep -qF "is \"$MAIN_ID_B\"" <<<"$OUT" || fail "the refusal does not name $MAIN_ID_B"
grep -qF "$LINK is not the disk this spare belongs to" <<<"$OUT" || fail "the refusal does not say which path is wrong"
! dmsetup info "$NAME" >/dev/null 2>&1 || fail "$NAME was created on the wrong disk"
[[ $(header_sum "$SPARE") == "$SPARE_SUM" ]] || fail "the refused spare was changed"
set +e
PLAN=$(dm-remap plan --config-dir "$CONFIG_DIR" 2>&1)
PLAN_STATUS=$?
set -e
((PLAN_STATUS == 1)) || fail "plan exited $PLAN_STATUS for a refused device: $PLAN"
grep -q '! refuse .*belongs to the main disk' <<<"$PLAN" || fail "plan does not show the refusal: $PLAN"

step "pointed back at the right disk, the spare is accepted again"
ln -sfn "$MAIN_A" "$LINK"
expect_applied "recreating $NAME on its own disk"
live_table | grep -q " main_id $MAIN_ID_A\$" || fail "live table lacks main_id $MAIN_ID_A: $(live_table)"
remove_device "$LINK" "$SPARE"

step "a spare formatted without main_id (before the reconciler passed one) keeps working"
LEGACY=$(new_loop "$WORK/legacy.img" 8)
LENGTH=$(blockdev --getsz "$MAIN_A")
dmsetup create legacy-format --table "0 $LENGTH remap $MAIN_A $LEGACY 4 block_size 8 read_retries 3"
dmsetup remove legacy-format
write_spec "$LINK" "$LEGACY"
expect_applied "creating $NAME on a legacy spare"
grep -q 'formatted without a main_id' <<<"$OUT" || fail "no warning that the legacy spare is unprotected"
! live_table | grep -q main_id || fail "a legacy spare got a main_id (the module would refuse it): $(live_table)"
write_spec "$LINK" "$LEGACY" 'readRetries: 5'
expect_applied "reloading $NAME with readRetries 5"
live_table | grep -q 'read_retries 5$' || fail "reload did not take: $(live_table)"
remove_device "$LINK" "$LEGACY"

step "a main without identity (a loop device): created without main_id, with a warning"
LOOP_MAIN=$(new_loop "$WORK/loop-main.img" $MAIN_MB)
BLANK=$(new_loop "$WORK/blank.img" 8)
write_spec "$LOOP_MAIN" "$BLANK"
expect_applied "creating $NAME on a loop main"
grep -q "has no stable identity" <<<"$OUT" || fail "no warning that the loop main has no identity"
! live_table | grep -q main_id || fail "a main without identity got a main_id: $(live_table)"
remove_device "$LOOP_MAIN" "$BLANK"

echo "reconciler-main-id: all checks passed"
