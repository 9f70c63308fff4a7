#!/bin/bash
# The admin verbs on the real module (issue 10, item 5): `remap-block` moves a
# long range in chunks with progress; `remaps`, reading list_remaps a page at a
# time, prints exactly the list dmsetup prints in one reply (table, JSON,
# --from/--count); `adopt` takes over a remap device made by hand with
# dmsetup — spec written, UUID set, table untouched and never suspended — after
# which `plan` has nothing to do, and refuses a device with another tool's UUID.
# Run: npm run build && npm run guest -- tests/guest/reconciler-admin.sh
# guest: --timeout 900
# guest-cost: 70
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/guest/reconciler-e2e.sh
RECONCILER_HELPERS_ONLY=1 source tests/guest/reconciler-e2e.sh

WORK=$(mktemp -d)
CONFIG_DIR=$WORK/dm-remap.d
mkdir -m 0755 "$CONFIG_DIR"
modprobe dm-remap 2>/dev/null || fail "the dm-remap module is not available in this guest"

MAIN=$(new_loop "$WORK/main.img" 128)
SPARE=$(new_loop "$WORK/spare.img" 64)
SECTORS=$(blockdev --getsz "$MAIN")
# No udev in the guest: the stable links adopt looks for are made by hand.
mkdir -p /dev/disk/by-id
ln -sf "$MAIN" /dev/disk/by-id/test-admin-main
ln -sf "$SPARE" /dev/disk/by-id/test-admin-spare

step "a remap device made by hand, without a UUID"
TABLE="0 $SECTORS remap $MAIN $SPARE 4 block_size 8 read_retries 2"
dmsetup create hand --table "$TABLE"
TABLE_BEFORE=$(dmsetup table hand)
[[ -z $(device_uuid hand) ]] || fail "hand should have no UUID"

step "adopt refuses a device with another tool's UUID and leaves it as it was"
dmsetup create foreign --uuid LVM-test-foreign --table "0 2048 zero"
if dm-remap adopt foreign --config-dir "$CONFIG_DIR" 2>"$WORK/refused"; then fail "adopt took a foreign device"; fi
cat "$WORK/refused"
grep -q 'refused: it has the UUID "LVM-test-foreign" (LVM)' "$WORK/refused" || fail "no clear refusal"
[[ $(device_uuid foreign) == LVM-test-foreign ]] || fail "the foreign UUID changed"
[[ ! -e $CONFIG_DIR/foreign.yaml ]] || fail "a spec was written for a refused device"

step "adopt --dry-run prints the spec and changes nothing"
dm-remap adopt hand --config-dir "$CONFIG_DIR" --dry-run | tee "$WORK/dry"
grep -qx '  mainDevice: /dev/disk/by-id/test-admin-main' "$WORK/dry" || fail "dry run: main"
[[ -z $(device_uuid hand) && ! -e $CONFIG_DIR/hand.yaml ]] || fail "dry run changed something"

step "adopt writes the spec, sets the UUID, keeps the table"
dm-remap adopt hand --config-dir "$CONFIG_DIR"
cat "$CONFIG_DIR/hand.yaml"
[[ $(device_uuid hand) == DMREMAP-hand ]] || fail "UUID not set: $(device_uuid hand)"
[[ $(dmsetup table hand) == "$TABLE_BEFORE" ]] || fail "the table changed: $(dmsetup table hand)"
device_active hand || fail "hand is not active"
[[ $(stat -c %a "$CONFIG_DIR/hand.yaml") == 644 ]] || fail "spec mode $(stat -c %a "$CONFIG_DIR/hand.yaml")"
dm-remap validate "$CONFIG_DIR"
set +e
dm-remap plan --config-dir "$CONFIG_DIR"
PLAN=$?
set -e
((PLAN == 0)) || fail "plan after adopt exits $PLAN, not 0 (nothing to do)"

step "remap-block moves 10000 blocks in chunks, with progress"
dm-remap remap-block hand 100 10000 --progress 2>"$WORK/progress"
cat "$WORK/progress"
[[ $(wc -l <"$WORK/progress") == 3 ]] || fail "expected 3 progress lines"
grep -q ' remapped=10000 ' <(dmsetup status hand) || fail "status: $(dmsetup status hand)"
dm-remap remap-block hand 20000 3 # a few more, elsewhere

step "remaps prints what dmsetup prints, a page at a time"
dmsetup message hand 0 list_remaps >"$WORK/dmsetup-list"
[[ $(wc -l <"$WORK/dmsetup-list") == 10003 ]] || fail "dmsetup lists $(wc -l <"$WORK/dmsetup-list") remaps"
dm-remap remaps hand | tail -n +2 | awk '{ print $1, $2 }' >"$WORK/cli-list"
cmp "$WORK/dmsetup-list" "$WORK/cli-list" || fail "remaps differs from list_remaps"
# shellcheck disable=SC2016 # the script is JavaScript, for node
dm-remap remaps hand -o json | node -e '
  const chunks = []; process.stdin.on("data", (c) => chunks.push(c)).on("end", () => {
    const reply = JSON.parse(Buffer.concat(chunks).toString());
    const lines = reply.remaps.map((r) => `${r.block} ${r.spareBlock}`).join("\n") + "\n";
    if (reply.device !== "hand" || reply.blockSize !== 4096 || reply.next !== null) process.exit(1);
    process.stdout.write(lines);
  });' >"$WORK/json-list"
cmp "$WORK/dmsetup-list" "$WORK/json-list" || fail "remaps -o json differs from list_remaps"
dm-remap remaps hand --from 10098 --count 2 | tee "$WORK/page"
grep -qx '(more from block 20000: dm-remap remaps hand --from 20000)' "$WORK/page" || fail "no next page"
dm-remap remaps hand --pending -o json | grep -q '"pending":\[\]' || fail "pending blocks listed"

dmsetup remove hand
dmsetup remove foreign
echo "PASS"
