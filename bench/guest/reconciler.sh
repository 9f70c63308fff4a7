#!/usr/bin/env bash
# guest: --mem 1536 --timeout 3000
# The reconciler's figures with the real kernel, real dmsetup and the real
# remap target over loop devices (issue 11's P1, P2 and P3 in the guest).
# Every figure that can be is a ratio against a baseline measured in the
# same guest, interleaved with it: TCG on a shared host is noisy.
#
#   P2   boot activation: `dm-remap apply` of P2_DEVICES devices from none ÷
#        a sequential shell loop of `dmsetup create` with the same tables,
#        and ÷ one `dmsetup create --concise` of all of them (the floor).
#        The runs rotate their order each round; everything is removed
#        between runs. Also the CLI's start-up (`dm-remap --help`) and
#        `dm-remap validate` of those files, each ÷ `node -e 0`.
#   P1   with DEVICES converged devices: processes (dmsetup, modprobe,
#        flock, counted by shims first in PATH) and CPU per steady
#        `dm-remap apply`, and per daemon pass (`dm-remap run`, each pass
#        started by SIGHUP once the previous one went quiet).
#   P3   the same daemon: a spec file edited (readRetries toggled, written
#        as editors do: temp file + rename) until the device's live table
#        shows the change (`dmsetup table` polled every 50 ms); p50, p99, max.
#
# CPU figures are the guest's own accounting. Under TCG on a busy host the
# guest's clock runs on while its vCPU waits for a host core, and that time
# is charged to whatever guest process was running: with the host loaded,
# guest CPU approaches guest wall time. Read them beside the host's load.
#
# Run: bash bench/guest.sh (builds, boots, re-prints the figures), or
#   npm run guest -- --mem 1536 --timeout 1500 bench/guest/reconciler.sh
# Env: BENCH_QUICK=1 (fewer repetitions), BENCH_DEVICES (200),
#   BENCH_P2_DEVICES (100), BENCH_ROUNDS, BENCH_EDITS, BENCH_STAGES (a
#   subset of "startup boot steady daemon edits", in that order),
#   BENCH_PROFILE_DIR (a directory on the shared checkout: after its timed
#   rounds, P2 runs one more apply under `node --cpu-prof` into DIR/apply/,
#   and P1 one more steady apply into DIR/steady/; read them with
#   bench/lib/cpuprofile.ts. The daemon is not profiled: the
#   profiler's own sampling keeps its CPU clock moving, and the daemon
#   stages wait for it to stand still).
set -euo pipefail
# shellcheck source=bench/guest/lib.sh
. "$(dirname "$0")/lib.sh"

DEVICES="${BENCH_DEVICES:-200}"
STAGES="${BENCH_STAGES:-startup boot steady daemon edits}"
P2_DEVICES="${BENCH_P2_DEVICES:-100}"
# Each stage repeats within a time budget: at least MIN times, at most MAX
# (lib.sh's another_round). Budgets in seconds.
if ((BENCH_QUICK)); then
	ROUNDS_MAX="${BENCH_ROUNDS:-3}" EDITS_MAX="${BENCH_EDITS:-8}" BUDGET_SCALE=1
else
	ROUNDS_MAX="${BENCH_ROUNDS:-5}" EDITS_MAX="${BENCH_EDITS:-20}" BUDGET_SCALE=2
fi
STARTUP_BUDGET=$((30 * BUDGET_SCALE)) P2_BUDGET=$((90 * BUDGET_SCALE))
STEADY_BUDGET=$((45 * BUDGET_SCALE)) PASSES_BUDGET=$((30 * BUDGET_SCALE)) EDIT_BUDGET=$((60 * BUDGET_SCALE))
((P2_DEVICES <= DEVICES)) || fail "BENCH_P2_DEVICES ($P2_DEVICES) exceeds BENCH_DEVICES ($DEVICES)"

WORK=/tmp/bench-reconciler
CONFIG="$WORK/all.d"    # DEVICES spec files (P1, P3)
CONFIG_P2="$WORK/p2.d"  # the first P2_DEVICES of them (P2)
STATE="$WORK/state"     # --state-dir: applied state, kept across runs as across boots
SHIMS="$WORK/shims"     # counting wrappers, first in PATH where processes are counted
SPAWNED="$WORK/spawned" # one line per process the shims saw
DAEMON_LOG="$WORK/daemon.log"
DAEMON_PID=""
mkdir -p "$WORK" "$CONFIG" "$CONFIG_P2" "$STATE" "$SHIMS"
chmod 0755 "$WORK" "$CONFIG" "$CONFIG_P2"

on_exit() {
	local status=$?
	[[ -z "$DAEMON_PID" ]] || kill -9 "$DAEMON_PID" 2>/dev/null || true
	exit "$status"
}
trap on_exit EXIT

# ---- devices and specs ----

name_of() { printf 'bench%03d' "$1"; }

# spec_doc NAME MAIN SPARE READ_RETRIES: one spec document on stdout.
spec_doc() {
	printf 'apiVersion: dm-remap/v1alpha1\nkind: RemapDevice\nmetadata:\n  name: %s\nspec:\n  mainDevice: %s\n  spareDevice: %s\n  readRetries: %s\n' "$@"
}

# edit_spec NAME MAIN SPARE READ_RETRIES: rewrites NAME.yaml in CONFIG
# atomically (temp file + rename, as editors and config management do).
edit_spec() {
	local tmp="$CONFIG/.$1.yaml.tmp"
	spec_doc "$@" >"$tmp"
	mv "$tmp" "$CONFIG/$1.yaml"
}

# Every main (64 MiB) and spare (16 MiB) is a loop device over its own
# slice of one sparse image: two processes per device to set up, not six.
MAINS=() SPARES=() RETRIES=()
make_devices() {
	local i t0 name slice=$((80 * 1048576))
	t0="$(now_us)"
	truncate -s $((DEVICES * slice)) "$WORK/disks.img"
	for ((i = 1; i <= DEVICES; i++)); do
		MAINS[i]="$(losetup -f --show -o $(((i - 1) * slice)) --sizelimit $((64 * 1048576)) "$WORK/disks.img")"
		SPARES[i]="$(losetup -f --show -o $(((i - 1) * slice + 64 * 1048576)) --sizelimit $((16 * 1048576)) "$WORK/disks.img")"
		RETRIES[i]=3
		# Written in place, by the shell: nothing watches yet.
		printf -v name 'bench%03d' "$i"
		spec_doc "$name" "${MAINS[i]}" "${SPARES[i]}" 3 >"$CONFIG/$name.yaml"
		((i > P2_DEVICES)) || spec_doc "$name" "${MAINS[i]}" "${SPARES[i]}" 3 >"$CONFIG_P2/$name.yaml"
	done
	say "$DEVICES loop pairs and spec files in $(seconds $(($(now_us) - t0))) s"
}

owned_count() { dmsetup info -c --noheadings -o uuid 2>/dev/null | grep -c '^DMREMAP-' || true; }

# Removes every device of this guest (all are ours, named bench*) in one
# process, and checks none is left.
remove_all() {
	dmsetup remove_all >/dev/null 2>&1 || dmsetup remove_all --force >/dev/null
	[[ "$(owned_count)" == 0 ]] || fail "devices left after remove_all: $(dmsetup ls)"
}

expect_owned() { # COUNT WHAT
	local got
	got="$(owned_count)"
	[[ "$got" == "$1" ]] || fail "$2: $got devices, expected $1"
}

apply_cli() { # CONFIG_DIR [extra args]: prints nothing, fails on a non-zero exit
	local dir="$1" status=0
	shift
	"${DM_REMAP[@]}" apply --config-dir "$dir" --state-dir "$STATE" --log-format json "$@" >"$WORK/apply.log" 2>&1 || status=$?
	((status == 0)) || { tail -n 30 "$WORK/apply.log" >&2 && fail "dm-remap apply exited $status"; }
}

# How apply_cli runs dm-remap: the rig's wrapper (sh: exec node BUNDLE), or
# after profiled_command, node with --cpu-prof and that bundle (node refuses
# --cpu-prof in NODE_OPTIONS).
DM_REMAP=(dm-remap)
profiled_command() { # DIR: prints nothing, sets DM_REMAP to profile into DIR
	local bundle
	bundle="$(sed -n 's/^exec node "\([^"]*\)" "\$@"$/\1/p' "$(command -v dm-remap)")"
	[[ -f "$bundle" ]] || fail "cannot find the bundle the dm-remap wrapper runs"
	DM_REMAP=(node --cpu-prof "--cpu-prof-dir=$1" "$bundle")
}

# ---- shims: count the processes dm-remap starts ----

make_shims() {
	local tool real
	for tool in dmsetup modprobe flock; do
		real="$(command -v "$tool")" || fail "no $tool in the guest"
		printf '#!/bin/sh\necho "%s $*" >>%s\nexec %s "$@"\n' "$tool" "$SPAWNED" "$real" >"$SHIMS/$tool"
		chmod 0755 "$SHIMS/$tool"
	done
	: >"$SPAWNED"
}
spawned_count() { wc -l <"$SPAWNED"; }
spawned_of() { grep -c "^$1 " "$SPAWNED" || true; }
# Forks (processes and threads) since boot, the kernel's own count.
forks_total() { awk '$1 == "processes" { print $2 }' /proc/stat; }

# CPU of the shell's reaped children: `save_times FILE` in this shell (not
# in a command substitution: a forked subshell starts its counts at zero),
# then `children_ticks FILE`, in ticks (1/100 s) of user + system time.
# Around a foreground command: its CPU and that of its own processes.
save_times() { times >"$1"; }
children_ticks() {
	awk 'END { s = 0
		for (i = 1; i <= NF; i++) { split($i, p, "m"); sub("s", "", p[2]); s += p[1] * 60 + p[2] }
		printf "%d", s * 100 + 0.5 }' "$1"
}

# ---- P2: boot activation ----

TABLES="$WORK/tables" # NAME UUID TABLE, one device a line
CONCISE="$WORK/concise"

# Records the tables apply made, for the two baselines.
record_tables() {
	local name uuid
	: >"$TABLES"
	while read -r name uuid; do
		[[ "$uuid" == DMREMAP-* ]] || continue
		printf '%s %s %s\n' "$name" "$uuid" "$(dmsetup table "$name")" >>"$TABLES"
	done < <(dmsetup info -c --noheadings -o name,uuid --separator ' ')
	[[ "$(wc -l <"$TABLES")" == "$P2_DEVICES" ]] || fail "recorded $(wc -l <"$TABLES") tables, expected $P2_DEVICES"
	awk '{ t = $3; for (i = 4; i <= NF; i++) t = t " " $i; printf "%s%s,%s,,rw,%s", sep, $1, $2, t; sep = ";" }' \
		"$TABLES" >"$CONCISE"
}

run_apply() { apply_cli "$CONFIG_P2"; }
run_loop() {
	local name uuid table
	while read -r name uuid table; do
		dmsetup create "$name" --uuid "$uuid" --table "$table"
	done <"$TABLES"
}
run_concise() { dmsetup create --concise "$(cat "$CONCISE")"; }

bench_startup() {
	local r=0 node=() help=() validate=() t
	# Untimed first runs: the first read of node and of the checkout over
	# 9p fills the guest's page cache, which a booted host has long done.
	node -e 0 && dm-remap --help >/dev/null
	budget_start "$STARTUP_BUDGET"
	while another_round "$r" 2 "$ROUNDS_MAX"; do
		r=$((r + 1))
		timed node -e 0 && node+=("$TOOK")
		timed dm-remap --help >/dev/null && help+=("$TOOK")
		timed dm-remap validate --config-dir "$CONFIG_P2" >"$WORK/validate.log" 2>&1 ||
			{ cat "$WORK/validate.log" >&2 && fail "dm-remap validate failed"; }
		validate+=("$TOOK")
	done
	local node_s help_s validate_s
	node_s="$(seconds "$(printf '%s\n' "${node[@]}" | median)")"
	help_s="$(seconds "$(printf '%s\n' "${help[@]}" | median)")"
	validate_s="$(seconds "$(printf '%s\n' "${validate[@]}" | median)")"
	say "node -e 0 ${node[*]} us; dm-remap --help ${help[*]} us; validate ${validate[*]} us"
	emit_result P2-startup "CLI start-up: dm-remap --help (guest)" "$help_s" s "node -e 0" "$node_s" \
		"$(ratio "$help_s" "$node_s")" "" \
		"$(for t in "${help[@]}"; do seconds "$t" && echo; done | spread) s" "{\"rounds\":$r}"
	emit_result P2-validate "dm-remap validate of $P2_DEVICES files (guest)" "$validate_s" s "node -e 0" \
		"$node_s" "$(ratio "$validate_s" "$node_s")" "" \
		"$(for t in "${validate[@]}"; do seconds "$t" && echo; done | spread) s" "{\"files\":$P2_DEVICES,\"rounds\":$r}"
}

bench_boot_activation() {
	local r k kind t order=(apply loop concise) apply=() loop=() concise=() per_loop=() per_concise=()
	say "P2: warm-up apply of $P2_DEVICES devices (creates them, formats the spares, records the tables)"
	remove_all
	apply_cli "$CONFIG_P2"
	expect_owned "$P2_DEVICES" "after the warm-up apply"
	record_tables
	budget_start "$P2_BUDGET"
	r=0
	while another_round "$r" 2 "$ROUNDS_MAX"; do
		declare -A took=()
		for ((k = 0; k < 3; k++)); do
			kind="${order[(r + k) % 3]}" # each round starts with another kind
			remove_all
			timed "run_$kind"
			took[$kind]="$TOOK"
			expect_owned "$P2_DEVICES" "after $kind"
		done
		apply+=("${took[apply]}") loop+=("${took[loop]}") concise+=("${took[concise]}")
		per_loop+=("$(ratio "${took[apply]}" "${took[loop]}")")
		per_concise+=("$(ratio "${took[apply]}" "${took[concise]}")")
		r=$((r + 1))
		say "round $r: apply $(seconds "${took[apply]}") s, loop $(seconds "${took[loop]}") s, concise $(seconds "${took[concise]}") s"
		unset took
	done
	local apply_s loop_s concise_s extra
	apply_s="$(seconds "$(printf '%s\n' "${apply[@]}" | median)")"
	loop_s="$(seconds "$(printf '%s\n' "${loop[@]}" | median)")"
	concise_s="$(seconds "$(printf '%s\n' "${concise[@]}" | median)")"
	extra="{\"devices\":$P2_DEVICES,\"rounds\":$r"
	extra+=",\"applySeconds\":\"$(for t in "${apply[@]}"; do seconds "$t" && echo; done | spread)\""
	extra+=",\"loopSeconds\":\"$(for t in "${loop[@]}"; do seconds "$t" && echo; done | spread)\""
	extra+=",\"conciseSeconds\":\"$(for t in "${concise[@]}"; do seconds "$t" && echo; done | spread)\"}"
	emit_result P2a "boot activation: dm-remap apply of $P2_DEVICES devices (guest)" "$apply_s" s \
		"sequential dmsetup create loop" "$loop_s" "$(ratio "$apply_s" "$loop_s")" "<= 0.25" \
		"$(printf '%s\n' "${per_loop[@]}" | spread)" "$extra"
	emit_result P2b "boot activation: dm-remap apply of $P2_DEVICES devices ÷ the floor (guest)" "$apply_s" s \
		"one dmsetup create --concise" "$concise_s" "$(ratio "$apply_s" "$concise_s")" "<= 1.5" \
		"$(printf '%s\n' "${per_concise[@]}" | spread)" "$extra"
	if [[ -n "${BENCH_PROFILE_DIR:-}" ]]; then
		say "P2: one more apply, under the CPU profiler ($BENCH_PROFILE_DIR/apply)"
		remove_all
		profiled_command "$BENCH_PROFILE_DIR/apply"
		run_apply
		DM_REMAP=(dm-remap)
		expect_owned "$P2_DEVICES" "after the profiled apply"
	fi
	# Leave the P2 devices in place: P1 starts from them.
	[[ "$(owned_count)" == "$P2_DEVICES" ]] || { remove_all && run_concise; }
}

# ---- P1: steady passes ----

bench_steady_apply() {
	local n=0 f0 wall=() cpu=() procs=() dmsetups=() forks=()
	say "P1: apply of all $DEVICES devices (creates the $((DEVICES - P2_DEVICES)) not made yet)"
	apply_cli "$CONFIG"
	expect_owned "$DEVICES" "after the first apply of all"
	budget_start "$STEADY_BUDGET"
	while another_round "$n" 2 "$ROUNDS_MAX"; do
		n=$((n + 1))
		: >"$SPAWNED"
		f0="$(forks_total)"
		save_times "$WORK/times0"
		PATH="$SHIMS:$PATH" timed apply_cli "$CONFIG"
		save_times "$WORK/times1"
		forks+=("$(($(forks_total) - f0))")
		wall+=("$TOOK")
		cpu+=("$(($(children_ticks "$WORK/times1") - $(children_ticks "$WORK/times0")))")
		procs+=("$(spawned_count)") dmsetups+=("$(spawned_of dmsetup)")
		say "steady apply $n: $(seconds "${wall[-1]}") s wall, ${cpu[-1]}0 ms CPU, ${procs[-1]} processes ($(sort "$SPAWNED" | awk '{ print $1, $2 }' | uniq -c | tr '\n' ';'))"
	done
	local procs_median
	procs_median="$(printf '%s\n' "${procs[@]}" | median)"
	emit_result P1-apply "processes per steady dm-remap apply, $DEVICES devices (guest)" "$procs_median" processes \
		"" "" "" "<= 2" "$(printf '%s\n' "${procs[@]}" | spread)" \
		"{\"devices\":$DEVICES,\"runs\":$n,\"dmsetup\":\"$(printf '%s\n' "${dmsetups[@]}" | spread)\",\"forksAndThreads\":\"$(printf '%s\n' "${forks[@]}" | spread)\",\"wallSeconds\":$(seconds "$(printf '%s\n' "${wall[@]}" | median)"),\"cpuSecondsWithChildren\":$(awk -v t="$(printf '%s\n' "${cpu[@]}" | median)" 'BEGIN { printf "%.2f", t / 100 }')}"
	emit_result P1-apply-cpu "CPU per steady dm-remap apply incl. its processes, $DEVICES devices (guest)" \
		"$(awk -v t="$(printf '%s\n' "${cpu[@]}" | median)" 'BEGIN { printf "%.2f", t / 100 }')" s "" "" "" "" \
		"$(printf '%s\n' "${cpu[@]}" | awk '{ printf "%.2f\n", $1 / 100 }' | spread) s" "{\"devices\":$DEVICES}"
	if [[ -n "${BENCH_PROFILE_DIR:-}" ]]; then
		# What a steady daemon pass does too: observe every device, plan, find nothing to do.
		say "P1: one more steady apply, under the CPU profiler ($BENCH_PROFILE_DIR/steady)"
		profiled_command "$BENCH_PROFILE_DIR/steady"
		apply_cli "$CONFIG"
		DM_REMAP=(dm-remap)
	fi
}

# CPU ticks (user + system) of process PID itself, and of its reaped children.
own_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
child_ticks() { awk '{ print $16 + $17 }' "/proc/$1/stat"; }

# Waits until the daemon's pass is over: a second in which it started no
# process and used at most one tick (10 ms) of CPU (timers of an idle node),
# up to LIMIT seconds. Prints the microseconds from START_US to the last
# activity seen.
wait_quiet() { # START_US LIMIT_S
	local quiet_cpu quiet_spawned cpu spawned polls=0 last_active="$1" now deadline
	stamp now
	deadline=$((now + $2 * 1000000))
	quiet_cpu="$(own_ticks "$DAEMON_PID")" quiet_spawned="$(spawned_count)"
	while ((polls < 5)); do
		stamp now
		((now < deadline)) || fail "the daemon did not go quiet within $2 s"
		nap 0.2
		cpu="$(own_ticks "$DAEMON_PID")" spawned="$(spawned_count)"
		if ((cpu - quiet_cpu <= 1)) && [[ "$spawned" == "$quiet_spawned" ]]; then
			polls=$((polls + 1))
		else
			polls=0 quiet_cpu="$cpu" quiet_spawned="$spawned"
			stamp last_active
		fi
	done
	echo $((last_active - $1))
}

start_daemon() {
	: >"$SPAWNED" && : >"$DAEMON_LOG"
	# No timed resync: each measured pass is one SIGHUP, and P3's edits
	# reach the daemon through its config watcher alone.
	PATH="$SHIMS:$PATH" dm-remap run --config-dir "$CONFIG" --state-dir "$STATE" \
		--resync-interval 24h --log-format json >>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	local t0
	stamp t0
	# dm-remap is a shell wrapper that execs node: same PID.
	nap 1
	wait_quiet "$t0" 600 >/dev/null
	kill -0 "$DAEMON_PID" 2>/dev/null || { tail -n 30 "$DAEMON_LOG" >&2 && fail "the daemon exited"; }
	say "daemon up and quiet after $(seconds $(($(now_us) - t0))) s"
}

bench_daemon_passes() {
	local n=0 t0 o0 c0 s0 f0 busy own=() kids=() procs=() walls=() forks=()
	budget_start "$PASSES_BUDGET"
	while another_round "$n" 2 "$ROUNDS_MAX"; do
		n=$((n + 1))
		o0="$(own_ticks "$DAEMON_PID")" c0="$(child_ticks "$DAEMON_PID")" s0="$(spawned_count)" f0="$(forks_total)"
		stamp t0
		kill -HUP "$DAEMON_PID"
		busy="$(wait_quiet "$t0" 300)"
		own+=("$(($(own_ticks "$DAEMON_PID") - o0))") kids+=("$(($(child_ticks "$DAEMON_PID") - c0))")
		procs+=("$(($(spawned_count) - s0))") walls+=("$busy") forks+=("$(($(forks_total) - f0))")
		say "daemon pass $n: ${own[-1]}0 ms CPU (+${kids[-1]}0 ms in its processes), ${procs[-1]} processes, busy $(seconds "$busy") s"
	done
	local procs_median own_median
	procs_median="$(printf '%s\n' "${procs[@]}" | median)"
	own_median="$(printf '%s\n' "${own[@]}" | median)"
	emit_result P1 "processes per steady daemon pass, $DEVICES devices (guest)" "$procs_median" processes \
		"" "" "" "<= 2" "$(printf '%s\n' "${procs[@]}" | spread)" \
		"{\"devices\":$DEVICES,\"passes\":$n,\"forksAndThreads\":\"$(printf '%s\n' "${forks[@]}" | spread)\",\"busySeconds\":$(seconds "$(printf '%s\n' "${walls[@]}" | median)")}"
	emit_result P1-cpu "daemon CPU per steady pass, $DEVICES devices (guest)" \
		"$(awk -v t="$own_median" 'BEGIN { printf "%.2f", t / 100 }')" s "" "" "" "" \
		"$(printf '%s\n' "${own[@]}" | awk '{ printf "%.2f\n", $1 / 100 }' | spread) s" \
		"{\"devices\":$DEVICES,\"childProcessesCpuSeconds\":$(awk -v t="$(printf '%s\n' "${kids[@]}" | median)" 'BEGIN { printf "%.2f", t / 100 }')}"
}

# ---- P3: edit → converged ----

table_shows() { # NAME READ_RETRIES
	[[ "$(dmsetup table "$1" 2>/dev/null)" == *"read_retries $2"* ]]
}

bench_edits() {
	local n=0 i name want t0 t1 took lat=()
	table_shows "$(name_of 1)" 3 || fail "the live table of $(name_of 1) does not show read_retries 3: $(dmsetup table "$(name_of 1)")"
	budget_start "$EDIT_BUDGET"
	while another_round "$n" 3 "$EDITS_MAX"; do
		n=$((n + 1))
		i=$(((n * 37) % DEVICES + 1))
		name="$(name_of "$i")"
		want=$((RETRIES[i] == 3 ? 5 : 3))
		stamp t0
		edit_spec "$name" "${MAINS[i]}" "${SPARES[i]}" "$want"
		until table_shows "$name" "$want"; do
			stamp t1
			((t1 - t0 < 180 * 1000000)) || fail "$name did not show read_retries $want within 180 s"
			nap 0.05
		done
		stamp t1
		took=$((t1 - t0))
		RETRIES[i]="$want"
		lat+=("$took")
		say "edit $n ($name -> readRetries $want): $(seconds "$took") s"
		wait_quiet "$(now_us)" 300 >/dev/null
	done
	local values p50 p99 max
	values="$(for t in "${lat[@]}"; do seconds "$t" && echo; done)"
	p50="$(percentile 50 <<<"$values")" p99="$(percentile 99 <<<"$values")" max="$(maximum <<<"$values")"
	emit_result P3-guest "spec edit -> device converged, daemon with $DEVICES devices: p99 (guest)" "$p99" s \
		"" "" "" "<= 1" "$(minimum <<<"$values")..$max s" \
		"{\"devices\":$DEVICES,\"edits\":${#lat[@]},\"p50\":$p50,\"p99\":$p99,\"max\":$max}"
}

# ---- run ----

wants() { [[ " $STAGES " == *" $1 "* ]]; }

modprobe dm-remap || fail "the dm-remap module is not available in this guest"
make_devices
make_shims
wants startup && bench_startup
wants boot && bench_boot_activation
wants steady && bench_steady_apply
if wants daemon || wants edits; then
	# Without the stages before, the daemon's first pass creates the devices.
	start_daemon
	wants daemon && bench_daemon_passes
	wants edits && bench_edits
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" || say "the daemon exited $?"
	DAEMON_PID=""
fi
say "done"
