# shellcheck shell=bash
# Helpers for the guest tests that drive `dm-remap apply` (and `run`) over the
# real remap target and real block devices, one `apply` per step, checking
# the kernel's state with dmsetup and dd only (reconciler-safety.sh,
# reconciler-strand.sh). Source it after `set -euo pipefail`; it brings in
# reconciler-e2e.sh's helpers (fail, step, wait_for, write_spec, new_loop,
# device_*, table_has, ...).
#
# Checks come in two strengths. `fail` ends the test at once: for the rig
# itself (a loop device that cannot be made). `check WHAT COMMAND...` records
# a broken promise and goes on, so one guest run shows every scenario's
# verdict; `finish_checks` then fails the test when any check failed. A
# predicate given to `check` prints what it saw when it does not hold.

# shellcheck source=tests/guest/reconciler-e2e.sh
RECONCILER_HELPERS_ONLY=1 source "$(dirname "${BASH_SOURCE[0]}")/../reconciler-e2e.sh"

# The kind of main (scripts/guest-tests.sh sets it from "# guest-kinds:"):
# dmstack, a dm-linear device with its own dm uuid over the backing device
# (a main with a stable identity, so the reconciler passes main_id), or loop,
# the backing device itself (a main without one).
RECONCILER_MAIN_KIND="${DM_REMAP_MAIN_KIND:-dmstack}"
case "$RECONCILER_MAIN_KIND" in
dmstack | loop) ;;
*) fail "DM_REMAP_MAIN_KIND '$RECONCILER_MAIN_KIND': the reconciler tests take dmstack or loop" ;;
esac

CHECK_FAILURES=()

# rc_init [CONFIG_DIR]: a work dir, the config dir (default WORK/dm-remap.d),
# the daemon log; the module present but not loaded (the reconciler loads it).
# shellcheck disable=SC2120 # CONFIG_DIR is optional
rc_init() {
  WORK=$(mktemp -d)
  CONFIG_DIR=${1:-$WORK/dm-remap.d}
  DAEMON_LOG=$WORK/daemon.log
  : >"$DAEMON_LOG"
  mkdir -p "$CONFIG_DIR"
  chmod 0755 "$CONFIG_DIR"
  modprobe dm-remap 2>/dev/null || fail "the dm-remap module is not available in this guest"
  modprobe -r dm-remap 2>/dev/null || true
  trap rc_exit EXIT
}

# On the way out, whatever happened: stop a daemon we started and resume
# every suspended device, so no process is left waiting on one and the guest
# powers off cleanly.
rc_exit() {
  local status=$?
  [[ -z ${DAEMON_PID:-} ]] || kill -9 "$DAEMON_PID" 2>/dev/null || true
  local uuid
  while IFS= read -r uuid; do
    [[ -n $uuid ]] || continue
    if dmsetup info -u "$uuid" 2>/dev/null | grep -q '^State: *SUSPENDED'; then
      dmsetup resume -u "$uuid" 2>/dev/null || true
    fi
  done < <(dmsetup info -c --noheadings -o uuid 2>/dev/null)
  exit "$status"
}

# spec_doc NAME MAIN SPARE [SPEC_LINES...]: one RemapDevice document on
# stdout; metadata.name is on its line 4.
spec_doc() {
  local name=$1 main=$2 spare=$3 line
  shift 3
  printf 'apiVersion: dm-remap/v1alpha1\nkind: RemapDevice\nmetadata:\n  name: %s\nspec:\n' "$name"
  printf '  mainDevice: %s\n  spareDevice: %s\n' "$main" "$spare"
  for line in "$@"; do printf '  %s\n' "$line"; done
}

# put_file FILE: stdin becomes CONFIG_DIR/FILE, atomically (temp + rename).
put_file() {
  cat >"$CONFIG_DIR/.$1.tmp"
  mv "$CONFIG_DIR/.$1.tmp" "$CONFIG_DIR/$1"
}

# cli VERB [ARGS...]: run `dm-remap VERB --config-dir CONFIG_DIR ARGS...`;
# its output (stdout and stderr) in $OUT, shown indented, its status in $STATUS.
cli() {
  local verb=$1
  shift
  echo "    \$ dm-remap $verb $*"
  set +e
  OUT=$(dm-remap "$verb" --config-dir "$CONFIG_DIR" --log-format text "$@" 2>&1)
  STATUS=$?
  set -e
  printf '%s\n' "$OUT" | sed 's/^/    | /'
  echo "    (exit $STATUS)"
}

# apply [ARGS...]: one `dm-remap apply`, a broken device given up on quickly.
apply() { cli apply --timeout 3m --retries 1 "$@"; }

# check WHAT COMMAND...: the promise WHAT holds when COMMAND succeeds; a
# failure is recorded and the test goes on.
check() {
  local what=$1
  shift
  if "$@"; then
    echo "  ok: $what"
  else
    echo "FAIL: $what" >&2
    CHECK_FAILURES+=("$what")
  fi
}

# finish_checks TEST: the verdict over every check.
finish_checks() {
  if ((${#CHECK_FAILURES[@]} > 0)); then
    echo "$1: ${#CHECK_FAILURES[@]} check(s) failed:" >&2
    printf '  - %s\n' "${CHECK_FAILURES[@]}" >&2
    exit 1
  fi
  echo "PASS: $1"
}

# ---- predicates for check (each says what it saw when it does not hold) ----

status_is() { # EXPECTED: the last cli's exit status
  [[ $STATUS == "$1" ]] || { echo "    expected exit $1, got $STATUS" >&2 && return 1; }
}
status_nonzero() {
  [[ $STATUS != 0 ]] || { echo "    expected a non-zero exit" >&2 && return 1; }
}
# out_has REGEX: a line of the last cli's output matches the extended regex.
out_has() {
  grep -Eq -- "$1" <<<"$OUT" || { echo "    no output line matches /$1/" >&2 && return 1; }
}
# out_line_has LINE_REGEX REGEX...: some output line matches LINE_REGEX and every REGEX.
out_line_has() {
  local first=$1 line regex ok
  shift
  while IFS= read -r line; do
    [[ $line =~ $first ]] || continue
    ok=1
    for regex in "$@"; do [[ $line =~ $regex ]] || ok=0; done
    ((ok)) && return 0
  done <<<"$OUT"
  echo "    no output line matches /$first/ and each of: $*" >&2
  return 1
}
is_present() { # NAME
  dmsetup info -- "$1" >/dev/null 2>&1 || { echo "    device $1 does not exist" >&2 && return 1; }
}
is_gone() { # NAME
  ! dmsetup info -- "$1" >/dev/null 2>&1 || { echo "    device $1 exists: $(dmsetup table -- "$1" 2>&1)" >&2 && return 1; }
}
is_resumed() { # NAME: exists, live table, not suspended
  local info
  info=$(dmsetup info -- "$1" 2>&1) || { echo "    device $1 does not exist" >&2 && return 1; }
  grep -q '^State: *ACTIVE' <<<"$info" || { echo "    $1: $(grep '^State' <<<"$info")" >&2 && return 1; }
}
no_inactive_table() { # NAME
  local info
  info=$(dmsetup info -- "$1" 2>&1) || { echo "    device $1 does not exist" >&2 && return 1; }
  ! grep -q INACTIVE <<<"$info" || { echo "    $1: $(grep '^Tables present' <<<"$info")" >&2 && return 1; }
}
table_is() { # NAME EXPECTED_TABLE
  local live
  live=$(dmsetup table -- "$1" 2>&1) || { echo "    device $1 has no table: $live" >&2 && return 1; }
  [[ $live == "$2" ]] || { echo "    $1's table is '$live', expected '$2'" >&2 && return 1; }
}
# reads_ok NAME: a direct read of the device completes (within 60 s). Never
# started on a suspended device: the read would wait uninterruptibly.
reads_ok() {
  is_resumed "$1" || return 1
  timeout 60 dd if="/dev/mapper/$1" of=/dev/null bs=4096 count=16 iflag=direct status=none ||
    { echo "    a direct read of /dev/mapper/$1 failed or hung" >&2 && return 1; }
}
remapped_is() { # NAME COUNT
  local got
  got=$(status_field "$1" remapped) || { echo "    no status for $1" >&2 && return 1; }
  [[ $got == "$2" ]] || { echo "    $1: remapped=$got, expected $2 ($(dmsetup status "$1"))" >&2 && return 1; }
}
# runs_on_spare NAME SPARE_DEV: the live table names SPARE_DEV (by major:minor).
runs_on_spare() {
  local spare fields
  spare=$(majmin "$2")
  read -r -a fields <<<"$(dmsetup table "$1" 2>/dev/null)" || true
  [[ ${fields[2]:-} == remap && ${fields[4]:-} == "$spare" ]] ||
    { echo "    $1's table is '${fields[*]:-none}', expected spare $spare ($2)" >&2 && return 1; }
}
# blank_head DEV: the first MiB of DEV is all zero (nothing formatted it).
blank_head() {
  cmp -s -n 1048576 "$1" /dev/zero || { echo "    $1 is no longer blank: $(od -A d -t x1 -N 48 "$1" | head -n 3)" >&2 && return 1; }
}
# block_is DEV BLOCK SHA256: the 4 KiB block BLOCK of DEV hashes to SHA256.
block_is() {
  local got
  got=$(block_sum "$1" "$2") || return 1
  [[ $got == "$3" ]] || { echo "    block $2 of $1 is not the expected data (sha256 $got, expected $3)" >&2 && return 1; }
}

# ---- small tools ----

status_field() { # NAME KEY
  local token
  for token in $(dmsetup status "$1"); do
    [[ $token != "$2="* ]] || { echo "${token#*=}" && return 0; }
  done
  return 1
}
majmin() { echo "$((0x$(stat -Lc %t "$1"))):$((0x$(stat -Lc %T "$1")))"; }
block_sum() { dd if="$1" bs=4096 skip="$2" count=1 iflag=direct status=none | sha256sum | cut -d' ' -f1; }
# write_block DEV BLOCK FILE: FILE (4 KiB) becomes block BLOCK of DEV, O_DIRECT.
write_block() { dd if="$3" of="$1" bs=4096 seek="$2" count=1 oflag=direct conv=notrunc status=none; }

# make_main TAG BACKING: the main device of kind RECONCILER_MAIN_KIND over
# BACKING (a block device); prints its path.
make_main() {
  local tag=$1 backing=$2
  case "$RECONCILER_MAIN_KIND" in
  loop) echo "$backing" ;;
  dmstack)
    dmsetup create "main-$tag" --uuid "TEST-main-$tag" \
      --table "0 $(blockdev --getsz "$backing") linear $backing 0" >/dev/null ||
      fail "cannot create the dm-linear main main-$tag over $backing"
    echo "/dev/mapper/main-$tag"
    ;;
  esac
}

# start_daemon_with ARGS...: `dm-remap run` with extra options, JSON logs in DAEMON_LOG.
# It logs at debug: a routine resync pass is logged only there, and tests count
# those passes (log_has leaves debug lines out, so they never read as news).
start_daemon_with() {
  mark_log
  dm-remap run --config-dir "$CONFIG_DIR" --resync-interval "${RESYNC:-3s}" --log-format json \
    --log-level debug "$@" \
    >>"$DAEMON_LOG" 2>&1 &
  DAEMON_PID=$!
  wait_for "the daemon to start" log_has '"operation":"reconcileAll"'
}

# owned_devices_are NAME...: the devices with a dm-remap UUID are exactly these.
owned_devices_are() {
  local got want
  got=$(dmsetup info -c --noheadings -o uuid 2>/dev/null | sed -n 's/^DMREMAP-//p' | sort | tr '\n' ' ')
  want=""
  (($# == 0)) || want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  [[ $got == "$want" ]] || { echo "    owned devices: ${got:-none}; expected: $want" >&2 && return 1; }
}

# remove_owned_devices [KEEP...]: remove (resuming first) every device with a
# dm-remap UUID but these, by UUID: a scenario's leftovers, whatever their names.
remove_owned_devices() {
  local uuid keep skip
  while IFS= read -r uuid; do
    [[ $uuid == DMREMAP-* ]] || continue
    skip=0
    for keep in "$@"; do [[ $uuid != "DMREMAP-$keep" ]] || skip=1; done
    ((skip)) && continue
    dmsetup clear -u "$uuid" 2>/dev/null || true
    dmsetup resume -u "$uuid" 2>/dev/null || true
    dmsetup remove -u "$uuid" || fail "cannot remove leftover device $uuid"
  done < <(dmsetup info -c --noheadings -o uuid 2>/dev/null)
}
