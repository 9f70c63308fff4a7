#!/usr/bin/env bash
# guest: --timeout 900
# guest-kinds: dmstack
# guest-kernels: 6.1
# guest-cost: 55
# Remapped data is never stranded by a new spare, even after the device went
# down: a device is created by `dm-remap apply`, data is written, a block is
# remapped (`dmsetup message NAME 0 remap BLOCK`, then overwritten, so the
# newest data of that block lives only on the spare); the device goes down;
# then the spec names a new blank spare. `dm-remap apply` must refuse (exit
# 1, a message naming the previous spare as holding remapped blocks and the
# way forward, --accept-data-loss), create nothing and leave the new spare
# blank; named back to the old spare, the device comes back with its remap
# and the block's newest data; and `dm-remap apply --accept-data-loss NAME`
# creates NAME (and only NAME) on the new spare.
#   reconciler-strand.sh             one boot, loop devices, three ways down:
#       gone-absent    state: absent + apply
#       gone-removed   an out-of-band `dmsetup remove`, after a pass of the
#                      reconciler saw the remap
#       gone-unseen    an out-of-band `dmsetup remove` with no pass of the
#                      reconciler since the remap (as a crash right after a
#                      remap leaves it: the old spare itself must tell)
#   reconciler-strand.sh boot1|boot2 the two boots of
#       reconciler-strand-reboot.host.sh (disks main, spare, spare2, state):
#       the device goes down by a reboot (after a pass of the reconciler saw
#       the remap); the state dir (the default, /var/lib/dm-remap) and the
#       config dir live on an ext4 on DISK_state
# Every check is made and reported; the test fails when any did not hold.
# Main devices are of the kind DM_REMAP_MAIN_KIND (lib/reconciler.sh).
# Run: npm run guest -- tests/guest/reconciler-strand.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/guest/lib/reconciler.sh
source tests/guest/lib/reconciler.sh

MODE=${1:-once}
: "${DISK_state:=}" # the reboot modes get the disks from guest.sh --disk
BLOCK=100 # the remapped block (4 KiB blocks, the default blockSize)

# put_remapped_data NAME MAIN NOTES: write data A to block BLOCK, remap it,
# overwrite it with B: the device reads B (from the spare), main still holds
# A. The sums go to NOTES/NAME.a and NOTES/NAME.b.
put_remapped_data() {
  local name=$1 main=$2 notes=$3
  dd if=/dev/urandom of="$WORK/$name.a" bs=4096 count=1 status=none
  dd if=/dev/urandom of="$WORK/$name.b" bs=4096 count=1 status=none
  sha256sum <"$WORK/$name.a" | cut -d' ' -f1 >"$notes/$name.a"
  sha256sum <"$WORK/$name.b" | cut -d' ' -f1 >"$notes/$name.b"
  write_block "/dev/mapper/$name" "$BLOCK" "$WORK/$name.a"
  dmsetup message "$name" 0 remap "$BLOCK" || fail "$name: the remap message failed"
  write_block "/dev/mapper/$name" "$BLOCK" "$WORK/$name.b"
  remapped_is "$name" 1 || fail "$name: setup: the spare does not hold the remapped block"
  block_is "/dev/mapper/$name" "$BLOCK" "$(cat "$notes/$name.b")" || fail "$name: setup: B does not read back"
  block_is "$main" "$BLOCK" "$(cat "$notes/$name.a")" || fail "$name: setup: main does not keep A under the remap"
  echo "    $name: block $BLOCK remapped ($(dmsetup status "$name"))"
}

# expect_refused LABEL NAME OLD_SPARE NEW_SPARE: after an apply that names
# NEW_SPARE for NAME, whose old spare holds a remapped block.
expect_refused() {
  local label=$1 name=$2 old=$3 new=$4
  check "$label: $name is not created on the new spare" is_gone "$name"
  check "$label: the new spare $new is left blank" blank_head "$new"
  check "$label: the refusal names $name, its previous spare $old and the remapped (stranded) data" \
    out_line_has "(^|[^[:alnum:]_.-])$name([^[:alnum:]_.-]|\$)" "$old" "(strand|remapped)"
}

# expect_back LABEL NAME SPARE NOTES: NAME runs on SPARE again, with its remap and data B.
expect_back() {
  local label=$1 name=$2 spare=$3 notes=$4
  check "$label: $name is back" is_resumed "$name"
  check "$label: $name runs on its old spare" runs_on_spare "$name" "$spare"
  check "$label: $name's spare still holds the remap" remapped_is "$name" 1
  check "$label: $name's remapped block reads the data last written" \
    block_is "/dev/mapper/$name" "$BLOCK" "$(cat "$notes/$name.b")"
}

# expect_overridden LABEL NAME SPARE NOTES: NAME was created on the new SPARE
# by --accept-data-loss; the block reads main's (stale) copy A.
expect_overridden() {
  local label=$1 name=$2 spare=$3 notes=$4
  check "$label: --accept-data-loss $name creates $name" is_resumed "$name"
  check "$label: $name runs on the new spare" runs_on_spare "$name" "$spare"
  check "$label: the new spare holds no remap" remapped_is "$name" 0
  check "$label: the block reads main's copy (the data loss that was accepted)" \
    block_is "/dev/mapper/$name" "$BLOCK" "$(cat "$notes/$name.a")"
}

# remove_if_present NAME...: take these devices down, whichever exist (an
# earlier broken promise may have left one missing).
remove_if_present() {
  local name
  for name in "$@"; do
    if dmsetup info "$name" >/dev/null 2>&1; then dmsetup remove "$name"; fi
  done
}

once() {
  rc_init
  local notes=$WORK/notes name
  mkdir "$notes"
  local -A main spare1 spare2
  local names=(gone-absent gone-removed gone-unseen)
  for name in "${names[@]}"; do
    main[$name]=$(make_main "$name" "$(new_loop "$WORK/$name-main.img" 32)")
    spare1[$name]=$(new_loop "$WORK/$name-spare1.img" 8)
    spare2[$name]=$(new_loop "$WORK/$name-spare2.img" 8)
    spec_doc "$name" "${main[$name]}" "${spare1[$name]}" | put_file "$name.yaml"
  done

  step "create three devices, remap a block of two of them"
  apply
  ((STATUS == 0)) || fail "setup: apply did not converge"
  put_remapped_data gone-absent "${main[gone-absent]}" "$notes"
  put_remapped_data gone-removed "${main[gone-removed]}" "$notes"

  step "(a) gone-absent goes down by state: absent (a pass that also sees gone-removed's remap)"
  spec_doc gone-absent "${main[gone-absent]}" "${spare1[gone-absent]}" "state: absent" | put_file gone-absent.yaml
  apply
  { ((STATUS == 0)) && is_gone gone-absent; } || fail "setup: state: absent did not remove gone-absent"

  step "(b) gone-removed and gone-unseen go down by dmsetup remove (gone-unseen remapped after the last pass)"
  put_remapped_data gone-unseen "${main[gone-unseen]}" "$notes"
  dmsetup remove gone-removed gone-unseen

  step "each spec names a new blank spare: refused, nothing created"
  for name in "${names[@]}"; do
    spec_doc "$name" "${main[$name]}" "${spare2[$name]}" | put_file "$name.yaml"
  done
  apply
  check "new spares: apply exits 1 (refused)" status_is 1
  check "new spares: the refusal names the way forward (--accept-data-loss)" out_has '--accept-data-loss'
  expect_refused "(a) state: absent" gone-absent "${spare1[gone-absent]}" "${spare2[gone-absent]}"
  expect_refused "(b) dmsetup remove" gone-removed "${spare1[gone-removed]}" "${spare2[gone-removed]}"
  expect_refused "(b) dmsetup remove, unseen remap" gone-unseen "${spare1[gone-unseen]}" "${spare2[gone-unseen]}"
  check "new spares: no device was created" owned_devices_are

  step "each spec names its old spare again: back with its remap and data"
  for name in "${names[@]}"; do
    spec_doc "$name" "${main[$name]}" "${spare1[$name]}" | put_file "$name.yaml"
  done
  apply
  check "old spares: apply exits 0" status_is 0
  expect_back "(a) state: absent" gone-absent "${spare1[gone-absent]}" "$notes"
  expect_back "(b) dmsetup remove" gone-removed "${spare1[gone-removed]}" "$notes"
  expect_back "(b) dmsetup remove, unseen remap" gone-unseen "${spare1[gone-unseen]}" "$notes"

  step "--accept-data-loss gone-absent: gone-absent moves to its new spare, gone-removed stays refused"
  remove_if_present gone-absent gone-removed
  for name in gone-absent gone-removed; do
    spec_doc "$name" "${main[$name]}" "${spare2[$name]}" | put_file "$name.yaml"
  done
  apply --accept-data-loss gone-absent
  check "override: apply exits 1 (gone-removed is still refused)" status_is 1
  expect_overridden "override" gone-absent "${spare2[gone-absent]}" "$notes"
  expect_refused "override of another device" gone-removed "${spare1[gone-removed]}" "${spare2[gone-removed]}"
  check "override: gone-unseen is untouched" remapped_is gone-unseen 1

  finish_checks "reconciler-strand"
}

# The reboot variant's persistent state: an ext4 on DISK_state holding the
# config dir and, bind-mounted at the default state dir, the reconciler's state.
mount_persistent() {
  modprobe ext4 2>/dev/null || true
  mkdir -p /persist /var/lib/dm-remap
  mount -t ext4 "$DISK_state" /persist || fail "cannot mount the state disk $DISK_state"
  mkdir -p /persist/state /persist/dm-remap.d /persist/notes
  chmod 0755 /persist/dm-remap.d
  mount -o bind /persist/state /var/lib/dm-remap || fail "cannot bind /persist/state at /var/lib/dm-remap"
}
unmount_persistent() {
  sync
  umount /var/lib/dm-remap
  umount /persist
}

boot1() {
  : "${DISK_main:?} ${DISK_spare:?} ${DISK_spare2:?} ${DISK_state:?}"
  mke2fs -q -t ext4 -F "$DISK_state" || fail "cannot make an ext4 on $DISK_state"
  mount_persistent
  rc_init /persist/dm-remap.d
  local main
  main=$(make_main vault "$DISK_main")
  spec_doc vault "$main" "$DISK_spare" | put_file vault.yaml
  step "boot 1: create vault on $DISK_spare, remap a block, then reboot with vault running"
  apply
  { ((STATUS == 0)) && is_resumed vault; } || fail "setup: apply did not create vault"
  put_remapped_data vault "$main" /persist/notes
  # A pass after the remap, as the daemon's next resync makes: this route
  # tests that what the reconciler saw survives the reboot (the remap no pass
  # saw is gone-unseen's route, in the one-boot mode).
  apply
  ((STATUS == 0)) || fail "setup: the pass after the remap did not converge"
  echo "    in the state dir after the pass: $(find /var/lib/dm-remap -mindepth 1 | tr '\n' ' ')"
  unmount_persistent
  echo "boot 1 done: vault runs with a remapped block; the reboot takes it down"
}

boot2() {
  : "${DISK_main:?} ${DISK_spare:?} ${DISK_spare2:?} ${DISK_state:?}"
  mount_persistent
  rc_init /persist/dm-remap.d
  local main notes=/persist/notes
  main=$(make_main vault "$DISK_main")
  is_gone vault || fail "setup: vault exists right after boot"

  step "boot 2: the spec names a new blank spare: refused, nothing created"
  spec_doc vault "$main" "$DISK_spare2" | put_file vault.yaml
  apply
  check "reboot: apply exits 1 (refused)" status_is 1
  check "reboot: the refusal names the way forward (--accept-data-loss)" out_has '--accept-data-loss'
  expect_refused "(c) reboot" vault "$DISK_spare" "$DISK_spare2"

  step "boot 2: the spec names the old spare again: back with its remap and data"
  spec_doc vault "$main" "$DISK_spare" | put_file vault.yaml
  apply
  check "reboot, old spare: apply exits 0" status_is 0
  expect_back "(c) reboot" vault "$DISK_spare" "$notes"

  step "boot 2: --accept-data-loss vault moves vault to the new spare"
  remove_if_present vault
  spec_doc vault "$main" "$DISK_spare2" | put_file vault.yaml
  apply --accept-data-loss vault
  check "reboot, override: apply exits 0" status_is 0
  expect_overridden "(c) reboot, override" vault "$DISK_spare2" "$notes"

  remove_if_present vault
  unmount_persistent
  finish_checks "reconciler-strand (reboot)"
}

case "$MODE" in
once) once ;;
boot1) boot1 ;;
boot2) boot2 ;;
*) fail "unknown mode '$MODE' (once, boot1, boot2)" ;;
esac
