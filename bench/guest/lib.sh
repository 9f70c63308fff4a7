# shellcheck shell=bash
# Helpers of the guest benchmarks (bench/guest/*.sh, run by bench/guest.sh
# through the qemu rig). Self-contained on purpose: bench/guest.sh --tree DIR
# runs these scripts against another checkout, whose tests/guest/lib may
# differ. Source it after `set -euo pipefail`.
#
# Figures are printed as `BENCH_RESULT <one-line JSON>` on the console and
# appended to $BENCH_RESULTS (a file on the checkout's share), which
# bench/guest.sh reads back: the console can interleave kernel messages
# with a line, the file cannot.

BENCH_NAME="$(basename "$0" .sh)"
BENCH_RESULTS="${BENCH_RESULTS:-/tmp/bench-results.jsonl}"
# Fewer repetitions (bench/guest.sh --quick).
BENCH_QUICK="${BENCH_QUICK:-0}"

say() { echo "[$BENCH_NAME] $*"; }

fail() {
	echo "[$BENCH_NAME] FAIL: $*" >&2
	exit 1
}

# Wall clock in microseconds from bash 5's EPOCHREALTIME. `stamp VAR` sets
# VAR without a process (a command substitution forks): timing a step, or
# counting the processes it starts, must not add one.
stamp() { local _stamp="${EPOCHREALTIME/./}" && printf -v "$1" "%s" "$((10#$_stamp))"; }
now_us() { local t && stamp t && echo "$t"; }

# timed COMMAND...: runs it; its wall time in microseconds lands in TOOK
# (a variable, so the command's own output may be redirected freely).
timed() {
	local t0 t1
	stamp t0
	"$@"
	stamp t1
	# shellcheck disable=SC2034 # read by the scripts that source this
	TOOK=$((t1 - t0))
}

# Sleeps SECONDS (fractions allowed) without a process: a read that times
# out on a FIFO nobody writes. Polling loops then cost the guest's one vCPU
# only what they poll with.
exec {BENCH_NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$BENCH_NAP_FD" _ || true; }

# Repetitions within a time budget: the code before an optimisation can be
# a hundred times slower than after it, and the guest part has to finish in
# minutes either way. `budget_start SECONDS` starts one; `another_round DONE
# MIN MAX` then holds while fewer than MIN rounds are done, or fewer than
# MAX and the budget is not spent.
budget_start() {
	stamp BENCH_BUDGET_END
	BENCH_BUDGET_END=$((BENCH_BUDGET_END + $1 * 1000000))
}
another_round() { # DONE MIN MAX
	local now
	stamp now
	(($1 < $2 || ($1 < $3 && now < BENCH_BUDGET_END)))
}

# seconds US: microseconds as seconds with 3 decimals.
seconds() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1e6 }'; }

# Statistics over the numbers on stdin, one per line.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minimum() { sort -g | head -n 1; }
maximum() { sort -g | tail -n 1; }
# Nearest-rank percentile P (0-100).
percentile() { sort -g | awk -v p="$1" '{ v[NR] = $1 } END { r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR; print v[r] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b == 0) ? 0 : a / b }'; }

# "lo..hi" of the numbers on stdin (the spread a median hides).
spread() {
	local values
	values="$(cat)"
	echo "$(minimum <<<"$values")..$(maximum <<<"$values")"
}

# Whether VALUE meets TARGET ("<= 0.25", ">= 0.97"): true or false.
meets() { # VALUE TARGET
	awk -v v="$1" -v op="${2%% *}" -v t="${2#* }" \
		'BEGIN { print ((op == "<=" && v <= t) || (op == ">=" && v >= t)) ? "true" : "false" }'
}

json_string() {
	local s="${1//\\/\\\\}"
	printf '"%s"' "${s//\"/\\\"}"
}

# A JSON number, or null for an empty value.
json_number() { if [[ -n "$1" ]]; then printf '%s' "$1"; else printf 'null'; fi; }

# emit_result ID LABEL VALUE UNIT BASELINE_LABEL BASELINE RATIO TARGET SPREAD EXTRA_JSON
# One figure. With a baseline, TARGET applies to RATIO; without one
# (BASELINE and RATIO empty) it applies to VALUE. An empty TARGET: a
# figure reported for reading, with "target" and "met" null.
emit_result() {
	local id="$1" label="$2" value="$3" unit="$4" base_label="$5" base="$6" rat="$7"
	local target="$8" spr="$9" extra="${10:-}" met="null" line
	if [[ -n "$target" ]]; then
		met="$(meets "${rat:-$value}" "$target")"
	fi
	line="{\"id\":$(json_string "$id"),\"label\":$(json_string "$label"),\"value\":$(json_number "$value")"
	line+=",\"unit\":$(json_string "$unit")"
	line+=",\"baselineLabel\":$(if [[ -n "$base_label" ]]; then json_string "$base_label"; else printf null; fi)"
	line+=",\"baseline\":$(json_number "$base"),\"ratio\":$(json_number "$rat")"
	line+=",\"target\":$(if [[ -n "$target" ]]; then json_string "$target"; else printf null; fi),\"met\":$met"
	[[ -z "$spr" ]] || line+=",\"spread\":$(json_string "$spr")"
	[[ -z "$extra" ]] || line+=",\"extra\":$extra"
	line+="}"
	echo "BENCH_RESULT $line"
	echo "$line" >>"$BENCH_RESULTS"
	sync "$BENCH_RESULTS" 2>/dev/null || sync
}
