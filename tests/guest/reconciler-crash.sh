#!/bin/bash
# Crash safety: the daemon is frozen right after each kernel step of a
# device's lifecycle (DM_REMAP_PAUSE_AFTER), killed with SIGKILL there, and
# restarted; the restart must converge with no leaked, half-created or
# suspended device, and the foreign device untouched.
# Run: npm run guest -- tests/guest/reconciler-crash.sh
# guest: --timeout 2400
# guest-cost: 150
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/guest/reconciler-e2e.sh
RECONCILER_HELPERS_ONLY=1 source tests/guest/reconciler-e2e.sh

setup_rig
trap 'kill -9 "${DAEMON_PID:-0}" 2>/dev/null || true' EXIT
MARKER=$WORK/paused

# crash_after STEP: run the daemon until it has done STEP on device a, then kill -9 it there.
crash_after() {
  rm -f "$MARKER"
  export DM_REMAP_PAUSE_AFTER="$1:a" DM_REMAP_PAUSE_MARKER="$MARKER"
  start_daemon
  unset DM_REMAP_PAUSE_AFTER DM_REMAP_PAUSE_MARKER
  wait_for "daemon paused after $1" test -e "$MARKER"
  kill -9 "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
}

# converge CHECK...: restart the daemon normally and wait until CHECK holds and nothing is suspended.
converge() {
  start_daemon
  wait_for "convergence after restart ($*)" "$@"
  wait_for "no device suspended or half-loaded" no_suspended_or_inactive
  stop_daemon
  foreign_untouched
}

step "crash right after create"
write_spec a "$MAIN_A" "$SPARE_A" "readRetries: 3" "removalPolicy: Delete"
crash_after create
converge table_has a "read_retries 3"

# Each reload must change the table, or no reload happens and the daemon
# never reaches the step it should pause after: every step gets its own
# readRetries value, all different from the 3 the device was created with.
retries=3
for crash_step in load suspend resume; do
  step "crash in a reload, right after $crash_step"
  retries=$((retries + 1))
  write_spec a "$MAIN_A" "$SPARE_A" "readRetries: $retries" "removalPolicy: Delete"
  crash_after "$crash_step"
  converge table_has a "read_retries $retries"
done

step "crash right after presuspend: the suspended device is removed on restart"
write_spec a "$MAIN_A" "$SPARE_A" "state: absent"
crash_after presuspend
dmsetup info a | grep -q 'State: *SUSPENDED' || fail "a is not suspended after presuspend"
converge device_absent a

step "crash right after remove"
write_spec a "$MAIN_A" "$SPARE_A" "readRetries: 3"
converge device_active a
write_spec a "$MAIN_A" "$SPARE_A" "state: absent"
crash_after remove
converge device_absent a

step "a half-created device (inactive table only) is completed"
write_spec a "$MAIN_A" "$SPARE_A" "readRetries: 3"
dmsetup create a --uuid DMREMAP-a --notable
dmsetup load a --table "$(printf '0 %s remap %s %s 4 block_size 8 read_retries 3' \
  "$(blockdev --getsz "$MAIN_A")" "$MAIN_A" "$SPARE_A")"
converge device_active a

echo "PASS: reconciler crash recovery"
