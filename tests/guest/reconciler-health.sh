#!/bin/bash
# Health end to end on the real module (issue 10, "Done when"): a device pushed
# past its spare threshold by proactive remaps shows Degraded/SpareUsageHigh in
# `dm-remap status` (table and JSON) and in the daemon's /metrics, and the
# --on-condition-change program ran once for it; a read error on main makes
# PendingBlocks; every per-device series equals what `dmsetup status` shows.
# Run: npm run build && npm run guest -- tests/guest/reconciler-health.sh
# guest: --timeout 1500
# guest-cost: 100
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/guest/reconciler-e2e.sh
RECONCILER_HELPERS_ONLY=1 source tests/guest/reconciler-e2e.sh

METRICS=127.0.0.1:9860

WORK=$(mktemp -d)
CONFIG_DIR=$WORK/dm-remap.d
DAEMON_LOG=$WORK/daemon.log
HOOK_CALLS=$WORK/hook-calls
: >"$DAEMON_LOG"
mkdir -m 0755 "$CONFIG_DIR"
modprobe dm-remap 2>/dev/null || fail "the dm-remap module is not available in this guest"
trap 'kill -9 "${DAEMON_PID:-0}" 2>/dev/null || true' EXIT
# The guest boots without networking: the metrics endpoint needs the loopback interface.
ip link set lo up 2>/dev/null || busybox ip link set lo up 2>/dev/null || busybox ifconfig lo 127.0.0.1 up

# Main is a dm-linear device over a loop device, so a block of it can be made to fail.
MAIN_LOOP=$(new_loop "$WORK/main.img" 64)
MAIN_SECTORS=$(blockdev --getsz "$MAIN_LOOP")
dmsetup create hmain --uuid TEST-hmain --table "0 $MAIN_SECTORS linear $MAIN_LOOP 0"
SPARE_LOOP=$(new_loop "$WORK/spare.img" 2)

cat >"$WORK/hook" <<HOOK
#!/bin/sh
echo "\$DM_REMAP_DEVICE \$DM_REMAP_CONDITION \$DM_REMAP_STATUS \$DM_REMAP_REASON" >>"$HOOK_CALLS"
HOOK
chmod 0755 "$WORK/hook"
: >"$HOOK_CALLS"

status_of() { dmsetup status "$1" | sed 's/^[0-9]* [0-9]* remap //'; }
status_key() { status_of "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
metrics() { node -e "fetch('http://$METRICS/metrics').then(r => r.text()).then(t => process.stdout.write(t))"; }
metric_is() { metrics | grep -qxF "$1 $2"; }

# Every per-device series equals the value dmsetup status shows now.
metrics_match_status() {
  local text status key series value
  text=$(metrics)
  status=$(status_of "$1" | tr ' ' '\n')
  while read -r key series; do
    value=$(sed -n "s/^$key=//p" <<<"$status")
    [[ -n $value ]] || return 1
    grep -qxF "$series $value" <<<"$text" || return 1
  done <<LIST
remapped dm_remap_remapped_blocks{device="$1"}
pending dm_remap_pending_blocks{device="$1"}
spare_used dm_remap_spare_blocks_used{device="$1"}
spare_total dm_remap_spare_blocks_total{device="$1"}
read_errors dm_remap_io_errors_total{device="$1",direction="read"}
write_errors dm_remap_io_errors_total{device="$1",direction="write"}
remap_failures dm_remap_remap_failures_total{device="$1"}
lost_sectors dm_remap_lost_sectors_total{device="$1"}
other_errors dm_remap_other_errors_total{device="$1"}
metadata_seq dm_remap_metadata_sequence{device="$1"}
LIST
}

step "a device with a 50% spare warning threshold, run by the daemon with metrics and a transition hook"
write_spec a /dev/mapper/hmain "$SPARE_LOOP" "spareUsageWarningPercent: 50"
mark_log
dm-remap run --config-dir "$CONFIG_DIR" --resync-interval 2s --log-format json --log-level debug \
  --metrics-address "$METRICS" --on-condition-change "$WORK/hook" >>"$DAEMON_LOG" 2>&1 &
DAEMON_PID=$!
wait_state a active
grep -q '"operation":"metrics"' "$DAEMON_LOG" || fail "the daemon does not serve metrics: $(grep -v resync "$DAEMON_LOG")"
wait_for "metrics served" metric_is 'dm_remap_device_phase{device="a",phase="active"}' 1
wait_for "metrics equal to dmsetup status (fresh device)" metrics_match_status a
dm-remap status --config-dir "$CONFIG_DIR" || fail "a fresh device is not healthy in dm-remap status"

step "proactive remaps past the threshold: Degraded/SpareUsageHigh"
total=$(status_key a spare_total)
blocks=$(((total * 6 + 9) / 10))
dmsetup message a 0 remap 0 "$blocks"
[[ $(status_key a spare_used) -ge $blocks ]] || fail "remap did not move $blocks blocks: $(status_of a)"
wait_for "SpareUsageHigh in the metrics" \
  metric_is 'dm_remap_device_condition_reason{device="a",type="Degraded",reason="SpareUsageHigh"}' 1
metric_is 'dm_remap_device_condition{device="a",type="Degraded",status="True"}' 1 || fail "Degraded is not True in the metrics"
set +e
dm-remap status --config-dir "$CONFIG_DIR" | tee "$WORK/status.txt"
rc=${PIPESTATUS[0]}
dm-remap status --config-dir "$CONFIG_DIR" --output json >"$WORK/status.json"
set -e
[[ $rc -eq 1 ]] || fail "dm-remap status exited $rc for a Degraded device"
grep -Eq '^a +active +True +degraded ' "$WORK/status.txt" || fail "status table: $(cat "$WORK/status.txt")"
grep -q '^a: Degraded/SpareUsageHigh: spare ' "$WORK/status.txt" || fail "no SpareUsageHigh line in the table"
node -e '
  const { devices } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const degraded = devices[0].conditions.find((c) => c.type === "Degraded");
  if (degraded.status !== "True" || degraded.reason !== "SpareUsageHigh") process.exit(1);
' "$WORK/status.json" || fail "status JSON: $(cat "$WORK/status.json")"
wait_for "metrics equal to dmsetup status (after remaps)" metrics_match_status a

step "the transition was logged once, and the hook ran once, over several resyncs"
mark_log
wait_for "two resync passes" resynced_twice
[[ $(grep -c '"operation":"health".*"reason":"SpareUsageHigh"' "$DAEMON_LOG") -eq 1 ]] ||
  fail "SpareUsageHigh logged $(grep -c '"reason":"SpareUsageHigh"' "$DAEMON_LOG") times"
[[ $(cat "$HOOK_CALLS") == "a Degraded True SpareUsageHigh" ]] || fail "hook calls: $(cat "$HOOK_CALLS")"

step "a block of main that cannot be read: PendingBlocks"
bad=$((blocks + 100))
start=$((bad * 8))
printf '%s\n' "0 $start linear $MAIN_LOOP 0" "$start 8 error" \
  "$((start + 8)) $((MAIN_SECTORS - start - 8)) linear $MAIN_LOOP $((start + 8))" | dmsetup load hmain
dmsetup suspend hmain && dmsetup resume hmain
if dd if=/dev/mapper/a of=/dev/null bs=4096 skip="$bad" count=1 iflag=direct 2>/dev/null; then
  fail "reading block $bad of a succeeded"
fi
[[ $(status_key a pending) -ge 1 ]] || fail "no pending block: $(status_of a)"
wait_for "PendingBlocks in the metrics" \
  metric_is 'dm_remap_device_condition_reason{device="a",type="Degraded",reason="PendingBlocks"}' 1
set +e
dm-remap status --config-dir "$CONFIG_DIR" --output json >"$WORK/status.json"
set -e
node -e '
  const { devices } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const degraded = devices[0].conditions.find((c) => c.type === "Degraded");
  if (degraded.reason !== "PendingBlocks" || !/spare \d+% used/.test(degraded.message)) process.exit(1);
' "$WORK/status.json" || fail "status JSON: $(cat "$WORK/status.json")"
wait_for "metrics equal to dmsetup status (after the read error)" metrics_match_status a
grep -q '^a Degraded True PendingBlocks$' "$HOOK_CALLS" || fail "hook calls: $(cat "$HOOK_CALLS")"
set +e
dm-remap status --config-dir "$CONFIG_DIR" >"$WORK/status-pending.txt"
set -e
grep -q '^a: Degraded/PendingBlocks: 1 pending block: ' "$WORK/status-pending.txt" ||
  fail "status table: $(cat "$WORK/status-pending.txt")"

step "metrics --textfile, without the daemon's help, says the same"
dm-remap metrics --config-dir "$CONFIG_DIR" --textfile "$WORK/dm_remap.prom"
grep -qxF "dm_remap_pending_blocks{device=\"a\"} $(status_key a pending)" "$WORK/dm_remap.prom" ||
  fail "textfile: $(grep pending "$WORK/dm_remap.prom")"

step "stop"
stop_daemon
echo "--- status tables of this run: past the threshold, then after the read error"
cat "$WORK/status.txt" "$WORK/status-pending.txt"
echo "PASS"
