#!/bin/bash
# End-to-end: `dm-remap run` against real dmsetup and the real remap target.
# Specs are added, edited, broken, fixed and removed on disk; devices are
# changed behind the daemon's back; after each step the live dmsetup state is
# checked (with a bounded wait). A foreign dm-linear device must survive all of it.
# Run: npm run guest -- tests/guest/reconciler-e2e.sh
# guest: --timeout 1500
# guest-cost: 55
set -euo pipefail

# Helpers (reconciler-crash.sh sources this file with RECONCILER_HELPERS_ONLY=1 to get only these).
# They drive `dm-remap run` against real dmsetup and the real `remap` target
# over loop devices, and read the kernel's state back with dmsetup only.

# Generous: under TCG emulation one start of node takes 10-15 s.
WAIT_SECONDS=${WAIT_SECONDS:-120}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

step() {
  echo "=== $*"
}

# wait_for DESCRIPTION COMMAND...: retry COMMAND until it succeeds or WAIT_SECONDS pass.
wait_for() {
  local description=$1
  shift
  local deadline=$((SECONDS + WAIT_SECONDS))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "--- daemon log (tail)" >&2
      tail -n 40 "$DAEMON_LOG" >&2 || true
      fail "timed out waiting for: $description"
    fi
    sleep 0.3
  done
}

# mark_log: remember where the daemon log ends, so wait_log only looks at what comes after.
mark_log() { LOG_MARK=$(wc -l <"$DAEMON_LOG"); }

# log_has PATTERN: a daemon log line after the mark, debug lines aside, matches the (extended) regex.
# (The daemon logs at debug so that its resync passes can be counted; a device's
# unchanged state is repeated at debug on every pass and must not read as news.)
log_has() { tail -n "+$((LOG_MARK + 1))" "$DAEMON_LOG" | grep -v '"level":"debug"' | grep -Eq "$1"; }

# wait_state DEVICE STATE: the daemon logged DEVICE settling in STATE since the mark.
wait_state() { wait_for "$1 $2" log_has "\"device\":\"$1\".*\"state\":\"$2\""; }

resynced_twice() { (($(tail -n "+$((LOG_MARK + 1))" "$DAEMON_LOG" | grep -c 'reconciling all devices (resync)') >= 2)); }

device_exists() { dmsetup info "$1" >/dev/null 2>&1; }
device_absent() { ! device_exists "$1"; }
device_uuid() { dmsetup info -c --noheadings -o uuid "$1"; }
device_table() { dmsetup table "$1"; }
device_active() { dmsetup info "$1" | grep -q '^State: *ACTIVE'; }
table_has() { dmsetup table "$1" | grep -q -- "$2"; }

# Every device-mapper device is resumed and none has a table waiting in the inactive slot.
no_suspended_or_inactive() {
  local name
  for name in $(dmsetup info -c --noheadings -o name 2>/dev/null); do
    dmsetup info "$name" | grep -q '^State: *ACTIVE' || return 1
    dmsetup info "$name" | grep -q 'INACTIVE' && return 1
  done
  return 0
}

# write_spec NAME MAIN SPARE [EXTRA_SPEC_LINES...]: write a spec atomically (temp file + rename, as editors do).
write_spec() {
  local name=$1 main=$2 spare=$3
  shift 3
  local tmp="$CONFIG_DIR/.$name.yaml.tmp"
  {
    echo "apiVersion: dm-remap/v1alpha1"
    echo "kind: RemapDevice"
    echo "metadata:"
    echo "  name: $name"
    echo "spec:"
    echo "  mainDevice: $main"
    echo "  spareDevice: $spare"
    local line
    for line in "$@"; do echo "  $line"; done
  } >"$tmp"
  mv "$tmp" "$CONFIG_DIR/$name.yaml"
}

start_daemon() {
  mark_log
  dm-remap run --config-dir "$CONFIG_DIR" --resync-interval "${RESYNC:-3s}" --log-format json \
    --log-level debug >>"$DAEMON_LOG" 2>&1 &
  DAEMON_PID=$!
  wait_for "the daemon to start" log_has '"operation":"reconcileAll"'
}

stop_daemon() {
  kill -TERM "$DAEMON_PID"
  local deadline=$((SECONDS + WAIT_SECONDS))
  while kill -0 "$DAEMON_PID" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "daemon did not stop on SIGTERM"
    sleep 0.2
  done
  wait "$DAEMON_PID" || fail "daemon exited non-zero on SIGTERM"
}

# new_loop FILE SIZE_MB: create a sparse image and print its loop device.
new_loop() {
  truncate -s "${2}M" "$1"
  losetup -f --show "$1"
}

setup_rig() {
  WORK=$(mktemp -d)
  CONFIG_DIR=$WORK/dm-remap.d
  DAEMON_LOG=$WORK/daemon.log
  : >"$DAEMON_LOG"
  mkdir -m 0755 "$CONFIG_DIR"
  modprobe dm-remap 2>/dev/null || fail "the dm-remap module is not available in this guest"
  modprobe -r dm-remap 2>/dev/null || true # the daemon loads it itself
  MAIN_A=$(new_loop "$WORK/a-main.img" 64)
  SPARE_A=$(new_loop "$WORK/a-spare.img" 16)
  SPARE_A2=$(new_loop "$WORK/a-spare2.img" 16)
  MAIN_B=$(new_loop "$WORK/b-main.img" 64)
  SPARE_B=$(new_loop "$WORK/b-spare.img" 16)
  FOREIGN_LOOP=$(new_loop "$WORK/foreign.img" 8)
  dmsetup create foreign-linear --table "0 16384 linear $FOREIGN_LOOP 0"
  FOREIGN_TABLE=$(device_table foreign-linear)
}

foreign_untouched() {
  device_active foreign-linear || fail "foreign device foreign-linear is not active"
  [[ "$(device_table foreign-linear)" == "$FOREIGN_TABLE" ]] || fail "foreign device foreign-linear was changed"
  [[ -z "$(device_uuid foreign-linear)" ]] || fail "foreign device foreign-linear gained a uuid"
}

if [[ -n "${RECONCILER_HELPERS_ONLY:-}" ]]; then return 0; fi

cd "$(dirname "$0")/../.."

setup_rig
trap 'kill -9 "${DAEMON_PID:-0}" 2>/dev/null || true' EXIT

step "start the daemon with an empty config dir"
start_daemon
kill -0 "$DAEMON_PID" || fail "daemon died at start"
foreign_untouched

step "add a spec: the device is created, owned, resumed, with the spec's features"
write_spec a "$MAIN_A" "$SPARE_A" "blockSize: 4096" "readRetries: 3"
wait_for "a created" device_active a
[[ "$(device_uuid a)" == "DMREMAP-a" ]] || fail "a has uuid $(device_uuid a)"
table_has a " remap " || fail "a is not a remap target: $(device_table a)"
table_has a "block_size 8" || fail "a lacks block_size 8: $(device_table a)"
table_has a "read_retries 3" || fail "a lacks read_retries 3: $(device_table a)"
foreign_untouched

step "edit the spec: the table is reloaded in place"
write_spec a "$MAIN_A" "$SPARE_A" "blockSize: 4096" "readRetries: 5"
wait_for "a reloaded with read_retries 5" table_has a "read_retries 5"
device_active a || fail "a left suspended after reload"

step "swap the spare while it holds nothing: accepted"
write_spec a "$MAIN_A" "$SPARE_A2" "blockSize: 4096" "readRetries: 5"
spare2=$(cat "/sys/class/block/$(basename "$SPARE_A2")/dev")
wait_for "a moved to the second spare" table_has a "$spare2"

step "break the spec file: the running device is held exactly as it is"
before=$(device_table a)
mark_log
printf 'apiVersion: dm-remap/v1alpha1\nkind: RemapDevice\nmetadata: {name: a\n' >"$CONFIG_DIR/a.yaml"
wait_state a held
# Quiet resyncs log nothing per device: give two full passes the chance to misbehave.
mark_log
wait_for "two resync passes while held" resynced_twice
[[ "$(device_table a)" == "$before" ]] || fail "a changed while its spec was invalid"
device_active a || fail "a suspended while its spec was invalid"

step "fix the spec file"
write_spec a "$MAIN_A" "$SPARE_A2" "blockSize: 4096" "readRetries: 2"
wait_for "a reloaded with read_retries 2" table_has a "read_retries 2"

step "a second device, then removed out of band: recreated by the resync"
write_spec b "$MAIN_B" "$SPARE_B" "removalPolicy: Delete"
wait_for "b created" device_active b
dmsetup remove b
wait_for "b recreated" device_active b

step "a device suspended out of band is resumed"
dmsetup suspend a
wait_for "a resumed" device_active a

step "a table changed out of band is reloaded back to the spec"
dmsetup table a | sed 's/read_retries 2/read_retries 7/' | dmsetup load a
dmsetup suspend a && dmsetup resume a
table_has a "read_retries 7" || fail "could not change a's table out of band"
wait_for "a reloaded back to read_retries 2" table_has a "read_retries 2"

step "delete a's spec (removalPolicy Retain): a is an orphan and keeps running"
mark_log
rm "$CONFIG_DIR/a.yaml"
wait_state a orphaned
device_active a || fail "a was touched after its spec was deleted with removalPolicy Retain"

step "delete b's spec (removalPolicy Delete): b is removed"
rm "$CONFIG_DIR/b.yaml"
wait_for "b removed" device_absent b

step "an open device is never removed"
write_spec b "$MAIN_B" "$SPARE_B" "removalPolicy: Delete"
wait_for "b created again" device_active b
exec 7</dev/mapper/b
mark_log
write_spec b "$MAIN_B" "$SPARE_B" "state: absent"
wait_state b removalBlocked
device_active b || fail "b was removed or suspended while open"
exec 7<&-
wait_for "b removed once closed" device_absent b

step "SIGTERM: the daemon stops cleanly and leaves nothing suspended"
stop_daemon
no_suspended_or_inactive || fail "a device was left suspended or with an inactive table"
foreign_untouched
dmsetup remove a
echo "PASS: reconciler e2e"
