#!/usr/bin/env bash
# guest: --timeout 900
# guest-kinds: dmstack
# guest-kernels: 6.1
# guest-cost: 95
# Safety promises of the reconciler, end to end through `dm-remap apply` (and
# `run`) on the real remap target over loop devices; the kernel's state is
# read back with dmsetup and dd only.
#   A. A half-written spec file (cut before its second document's name) plus
#      --prune removes no running device: an invalid or unreadable file holds
#      every undeclared device, and the output names the file. With `apply`,
#      with the daemon watching the file being cut, and with the daemon
#      started on the cut file.
#   B. Crash leftovers behind a typo: a device left suspended, one left with
#      an inactive table, each with its spec file made invalid, and a
#      suspended orphan (spec deleted, Retain, no --prune): apply resumes
#      them (a direct read completes), clears the inactive table, reports the
#      file errors, and otherwise holds them as they are.
#   C. Names device-mapper or udev would mangle or misread (-x, control,
#      "a b", a zero-width space) are refused with an error at the file and
#      line of the name and never created, while a valid device declared
#      beside them is; and --prune removes a device named x together with
#      another in one pass.
# Every check is made and reported; the test fails when any did not hold.
# Main devices are of the kind DM_REMAP_MAIN_KIND (lib/reconciler.sh).
# Run: npm run guest -- tests/guest/reconciler-safety.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/guest/lib/reconciler.sh
source tests/guest/lib/reconciler.sh

rc_init
# Each part has its own config dir and removes its devices at the end: an
# apply in one part must not see another part's devices as orphans.
section_dir() {
  CONFIG_DIR=$WORK/$1.d
  mkdir -m 0755 "$CONFIG_DIR"
}
# new_device TAG: MAIN and SPARE for a new device (fresh loop devices).
new_device() {
  MAIN=$(make_main "$1" "$(new_loop "$WORK/$1-main.img" 32)")
  SPARE=$(new_loop "$WORK/$1-spare.img" 8)
}

# ---------------------------------------------------------------------------
step "A. a half-written file and --prune: no running device is removed"
section_dir a
new_device a
MAIN_A=$MAIN SPARE_A=$SPARE
new_device b
MAIN_B=$MAIN SPARE_B=$SPARE
{
  spec_doc a "$MAIN_A" "$SPARE_A"
  echo ---
  spec_doc b "$MAIN_B" "$SPARE_B"
} >"$WORK/ab.full"
put_file ab.yaml <"$WORK/ab.full"
apply
{ ((STATUS == 0)) && is_resumed a && is_resumed b; } || fail "A: setup: apply did not create a and b"
TABLE_A=$(dmsetup table a)
TABLE_B=$(dmsetup table b)
# The file as a save cut short leaves it: everything before b's name line,
# so the file still declares a readable name (a) but is invalid.
cut_at=$(grep -n '^  name: b$' "$WORK/ab.full" | cut -d: -f1)
head -n "$((cut_at - 1))" "$WORK/ab.full" >"$WORK/ab.half"
cp "$WORK/ab.half" "$CONFIG_DIR/ab.yaml"
echo "    ab.yaml now ends: $(tail -n 3 "$CONFIG_DIR/ab.yaml" | tr '\n' '|')"
apply --prune
check "A: apply --prune exits 1 (a spec file is invalid)" status_is 1
check "A: the output names the invalid file" out_has "^$CONFIG_DIR/ab.yaml:[0-9]+:[0-9]+: error: "
check "A: b (no longer readable in the cut file) is still there after apply --prune" is_present b
check "A: b is untouched: same live table" table_is b "$TABLE_B"
check "A: b is still resumed" is_resumed b
check "A: a is untouched: same live table" table_is a "$TABLE_A"
check "A: a is still resumed" is_resumed a

# b_acted_on: since the mark, the daemon logged b's state (held, or its
# removal), or b is gone.
b_acted_on() { log_has '"device":"b"' || ! device_exists b; }
# daemon_checks LABEL: b and a as they were, once the daemon acted on the cut
# file and again after two more passes.
daemon_checks() {
  wait_for "the daemon to act on b" b_acted_on
  check "$1: b is still there once the daemon acted on the cut file" is_present b
  mark_log
  wait_for "two resync passes on the cut file" resynced_twice
  check "$1: b is still there after two resyncs" is_present b
  check "$1: b is untouched" table_is b "$TABLE_B"
  check "$1: a is untouched" table_is a "$TABLE_A"
}

step "A (daemon). run --prune watching the file being cut"
# The daemon starts on the whole file (and so recreates b if apply removed it).
put_file ab.yaml <"$WORK/ab.full"
start_daemon_with --prune
wait_for "a resumed under the daemon" is_resumed a
wait_for "b resumed under the daemon" is_resumed b
TABLE_A=$(dmsetup table a)
TABLE_B=$(dmsetup table b)
mark_log
# In place, as an editor's save that stops half way.
cat "$WORK/ab.half" >"$CONFIG_DIR/ab.yaml"
daemon_checks "A (run --prune, file cut while watched)"
stop_daemon
DAEMON_PID=

step "A (daemon). run --prune started on a file left cut (a crash mid-save, then a reboot)"
if ! device_exists b; then
  put_file ab.yaml <"$WORK/ab.full"
  apply
  is_resumed b || fail "A: setup: b could not be recreated"
  TABLE_B=$(dmsetup table b)
fi
cp "$WORK/ab.half" "$CONFIG_DIR/ab.yaml"
start_daemon_with --prune
daemon_checks "A (run --prune, started on the cut file)"
stop_daemon
DAEMON_PID=
remove_owned_devices

# ---------------------------------------------------------------------------
step "B. crash leftovers behind a typo are recovered, the device otherwise held"
section_dir b
for name in s1 s2 o3; do
  new_device "$name"
  printf -v "MAIN_$name" %s "$MAIN"
  printf -v "SPARE_$name" %s "$SPARE"
  spec_doc "$name" "$MAIN" "$SPARE" "readRetries: 3" | put_file "$name.yaml"
done
apply
{ ((STATUS == 0)) && is_resumed s1 && is_resumed s2 && is_resumed o3; } || fail "B: setup: apply did not create s1, s2, o3"
TABLE_s1=$(dmsetup table s1)
TABLE_s2=$(dmsetup table s2)
TABLE_o3=$(dmsetup table o3)
# typo NAME: the spec with a misspelt field (and another readRetries, which
# must not be applied: the file is invalid).
typo() {
  local main="MAIN_$1" spare="SPARE_$1"
  spec_doc "$1" "${!main}" "${!spare}" "readRetries: 7" | sed 's/spareDevice:/spareDevce:/' | put_file "$1.yaml"
}
# s1: a crash between suspend and resume of a reload leaves it suspended.
dmsetup suspend s1
typo s1
# s2: a crash after a load leaves a table in the inactive slot.
dmsetup table s2 | dmsetup load s2
typo s2
# o3: its spec deleted (removalPolicy Retain), left suspended.
rm "$CONFIG_DIR/o3.yaml"
dmsetup suspend o3
dmsetup info s1 | grep -q '^State: *SUSPENDED' || fail "B: setup: s1 is not suspended"
dmsetup info s2 | grep -q 'INACTIVE' || fail "B: setup: s2 has no inactive table"
dmsetup info o3 | grep -q '^State: *SUSPENDED' || fail "B: setup: o3 is not suspended"
apply
check "B: apply exits 1 (spec files are invalid)" status_is 1
check "B: the output names s1.yaml" out_has "^$CONFIG_DIR/s1.yaml:[0-9]+:[0-9]+: error: "
check "B: the output names s2.yaml" out_has "^$CONFIG_DIR/s2.yaml:[0-9]+:[0-9]+: error: "
check "B1: s1, left suspended, is resumed although its spec file is invalid" is_resumed s1
check "B1: a direct read of s1 completes" reads_ok s1
check "B1: s1 is otherwise held: same live table (not reloaded to readRetries 7)" table_is s1 "$TABLE_s1"
check "B2: s2's inactive table is cleared although its spec file is invalid" no_inactive_table s2
check "B2: s2 is otherwise held: same live table" table_is s2 "$TABLE_s2"
check "B2: a direct read of s2 completes" reads_ok s2
check "B3: the suspended orphan o3 is kept (Retain, no --prune)" is_present o3
check "B3: the suspended orphan o3 is resumed" is_resumed o3
check "B3: a direct read of o3 completes" reads_ok o3
check "B3: o3 is otherwise left alone: same live table" table_is o3 "$TABLE_o3"
remove_owned_devices

# ---------------------------------------------------------------------------
step "C. names device-mapper or udev would misread are refused, the valid device beside them is created"
section_dir c
ZWSP=$'\xe2\x80\x8b' # U+200B ZERO WIDTH SPACE
ODD_NAMES=(-x control 'a b' "zero${ZWSP}width")
ODD_FILES=(dash.yaml control.yaml space.yaml zwsp.yaml)
for i in "${!ODD_NAMES[@]}"; do
  main=$(new_loop "$WORK/odd$i-main.img" 32)
  spare=$(new_loop "$WORK/odd$i-spare.img" 8)
  spec_doc "\"${ODD_NAMES[$i]}\"" "$main" "$spare" | put_file "${ODD_FILES[$i]}"
done
new_device good
spec_doc good "$MAIN" "$SPARE" | put_file good.yaml
apply
echo "    dmsetup ls:"
dmsetup ls | sed 's/^/    | /'
check "C: apply exits 1 (spec files are invalid)" status_is 1
for i in "${!ODD_NAMES[@]}"; do
  name=${ODD_NAMES[$i]}
  # metadata.name is on line 4 of each file (spec_doc).
  check "C: the error for '$name' names ${ODD_FILES[$i]}, line 4" \
    out_has "^$CONFIG_DIR/${ODD_FILES[$i]//./\\.}:4:[0-9]+: error: .*name"
  check "C: no device named '$name'" is_gone "$name"
done
check "C: the valid device declared beside them is created" is_resumed good
check "C: good is the only device with a dm-remap UUID" owned_devices_are good

step "C. --prune removes a device named x together with another, in one pass"
rm -f "${ODD_FILES[@]/#/$CONFIG_DIR/}"
remove_owned_devices good
new_device x
spec_doc x "$MAIN" "$SPARE" | put_file x.yaml
new_device y
spec_doc y "$MAIN" "$SPARE" | put_file y.yaml
apply
{ ((STATUS == 0)) && is_resumed x && is_resumed y; } || fail "C: setup: apply did not create x and y"
rm "$CONFIG_DIR/x.yaml" "$CONFIG_DIR/y.yaml"
apply --prune
check "C: apply --prune exits 0" status_is 0
check "C: x is removed by --prune" is_gone x
check "C: y is removed in the same pass" is_gone y
check "C: good, still declared, stays" is_resumed good
remove_owned_devices

finish_checks reconciler-safety
