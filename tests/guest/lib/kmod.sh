# shellcheck shell=bash
# Helpers for the dm-remap guest tests (tests/guest/kmod-*.sh). Source it
# after `set -eu`. Every check prints what it expected and what it saw, and
# fails the whole test.

KMOD_TEST_NAME="$(basename "$0" .sh)"
# Devices and loop files this test created, removed by kmod_cleanup.
KMOD_DM_DEVICES=()
KMOD_LOOPS=()

kmod_log() { echo "[$KMOD_TEST_NAME] $*"; }

fail() {
	echo "[$KMOD_TEST_NAME] FAIL: $*" >&2
	dmesg | tail -n 30 >&2 || true
	exit 1
}

assert_eq() { # DESCRIPTION EXPECTED ACTUAL
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

assert_ge() { # DESCRIPTION MIN ACTUAL
	[ "$3" -ge "$2" ] || fail "$1: expected >= $2, got $3"
}

# Runs a command that must fail; its stderr is kept in $KMOD_LAST_ERR.
expect_failure() {
	if KMOD_LAST_ERR="$("$@" 2>&1)"; then
		fail "expected failure of: $*"
	fi
}

# A loop device over a fresh zeroed file of SIZE_MB in /tmp, with logical
# sectors of SECTOR_BYTES (default 512); prints its path.
make_loop() { # SIZE_MB [SECTOR_BYTES]
	local file dev
	file="$(mktemp /tmp/kmod-loop.XXXXXX)"
	truncate -s "${1}M" "$file"
	dev="$(losetup --find --show --sector-size "${2:-512}" "$file")"
	KMOD_LOOPS+=("$dev")
	echo "$dev"
}

sectors_of() { blockdev --getsz "$1"; }

# Value of KEY in the INFO status of dm device NAME.
status_field() { # NAME KEY
	local token
	for token in $(dmsetup status "$1"); do
		case "$token" in "$2="*) echo "${token#*=}" && return 0 ;; esac
	done
	fail "status of $1 has no $2: $(dmsetup status "$1")"
}

# Creates dm device NAME with TABLE and remembers it for cleanup. Fails
# (status) when dmsetup does, also where set -e is off (`dm_create ... ||`).
dm_create() { # NAME TABLE
	dmsetup create "$1" --uuid "DMREMAP-test-$1" --table "$2" || return
	KMOD_DM_DEVICES+=("$1")
}

dm_remove() { # NAME
	dmsetup remove "$1"
	local kept=() d
	for d in "${KMOD_DM_DEVICES[@]}"; do [ "$d" = "$1" ] || kept+=("$d"); done
	KMOD_DM_DEVICES=("${kept[@]+"${kept[@]}"}")
}

# Replaces the live table of NAME (suspend, load, resume).
dm_swap_table() { # NAME TABLE
	dmsetup suspend "$1"
	dmsetup load "$1" --table "$2"
	dmsetup resume "$1"
}

# A lower device over DEV whose sectors in "FIRST:COUNT ..." return I/O errors
# (linear + error segments); called again to change the bad ranges live.
# Ranges may come in any order but must not overlap.
error_table() { # DEV BAD_RANGES...
	local dev="$1" size pos=0 first count range
	shift
	size="$(sectors_of "$dev")"
	for range in $(printf '%s\n' "$@" | sort -t: -k1,1n); do
		first="${range%%:*}"
		count="${range##*:}"
		if [ "$first" -gt "$pos" ]; then
			echo "$pos $((first - pos)) linear $dev $pos"
		fi
		echo "$first $count error"
		pos=$((first + count))
	done
	if [ "$pos" -lt "$size" ]; then
		echo "$pos $((size - pos)) linear $dev $pos"
	fi
}

set_errors() { # NAME DEV BAD_RANGES...
	local name="$1"
	shift
	dm_swap_table "$name" "$(error_table "$@")"
}

# Writes COUNT sectors of SRC (a file, from SRC_SECTOR) at SECTOR of DEV as
# one O_DIRECT write (one bio, unless the kernel splits it).
write_at() { # DEV SECTOR COUNT SRC [SRC_SECTOR]
	dd if="$4" of="$1" bs=$(($3 * 512)) count=1 seek=$(($2 * 512)) skip=$((${5:-0} * 512)) \
		iflag=skip_bytes oflag=direct,seek_bytes conv=notrunc status=none
}

# Reads COUNT sectors at SECTOR of DEV as one O_DIRECT read into file DST.
read_at() { # DEV SECTOR COUNT DST
	dd if="$1" of="$4" bs=$(($3 * 512)) count=1 skip=$(($2 * 512)) iflag=direct,skip_bytes status=none
}

kmod_cleanup() {
	local i
	for ((i = ${#KMOD_DM_DEVICES[@]} - 1; i >= 0; i--)); do
		dmsetup remove --retry "${KMOD_DM_DEVICES[$i]}" 2>/dev/null || true
	done
	for i in "${KMOD_LOOPS[@]+"${KMOD_LOOPS[@]}"}"; do
		losetup -d "$i" 2>/dev/null || true
	done
}
trap kmod_cleanup EXIT

# Loads dm-remap (and dm-mod). insmod is the fallback for an image whose
# modprobe index does not list out-of-tree modules.
load_remap_module() {
	modprobe dm-remap 2>/dev/null ||
		insmod "/lib/modules/$(uname -r)/extra/dm-remap.ko" ||
		fail "cannot load dm-remap"
	grep -q '^dm_remap ' /proc/modules || fail "dm_remap not in /proc/modules"
}
