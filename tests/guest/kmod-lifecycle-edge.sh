#!/usr/bin/env bash
# guest: (no disks: loop devices, dm stacks and null_blk made in the guest)
# guest-kernels: 6.1 6.12
# guest-cost: 40
# Lifecycle edges a kernel review found, each once broken:
#  1. a table with two remap targets on one spare is refused (both used to
#     hand out the same slots);
#  2. a remap message to an instance that never resumed fails with EBUSY (it
#     used to append at a slot it never read);
#  3. a suspend while a proactive remap salvages unreadable blocks returns
#     within a block's time (it used to wait for the whole step), and the
#     message stops with EBUSY;
#  4. a suspend that is cancelled leaves the device taking remap messages
#     (they used to fail with EBUSY until the next resume);
#  5. the mapped device shows main's limits, not the spare's: an HDD spare
#     does not make it rotational, a spare without discard does not hide
#     main's; flushes still reach the spare when main has no write cache;
#  6. words after the feature arguments are refused.
# Arguments pick sections (default: all), e.g. `kmod-lifecycle-edge.sh 4`.
set -eu
. "$(dirname "$0")/lib/kmod.sh"
. "$(dirname "$0")/lib/mains.sh"

load_remap_module
modprobe dm-delay || fail "cannot load dm-delay"
modprobe dm-flakey || fail "cannot load dm-flakey"
dd if=/dev/urandom of=/tmp/a bs=1M count=16 status=none
SECTIONS="${*:-1 2 3 4 5 6}"
want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
m1="$(make_loop 4)"
m2="$(make_loop 4)"
s1="$(make_loop 8)"
s2="$(make_loop 8)"

queue_attr() { # DM_NAME ATTR
	cat "/sys/block/dm-$(dmsetup info -c --noheadings -o minor "$1" | tr -d ' ')/queue/$2"
}

# --- 1. two targets of one table on one spare ---------------------------------
if want 1; then
	printf '0 8192 remap %s %s\n8192 8192 remap %s %s\n' "$m1" "$s1" "$m2" "$s1" >/tmp/two
	expect_failure dmsetup create two --uuid DMREMAP-test-two /tmp/two
	dmesg | tail -n 5 | grep -q "Spare device is used twice in one table" ||
		fail "1: no 'used twice in one table' in the kernel log"
	printf '0 8192 remap %s %s\n8192 8192 remap %s %s\n' "$m1" "$s1" "$m2" "$s2" >/tmp/two
	dm_create two "$(cat /tmp/two)"
	dm_remove two
	kmod_log "1: one spare twice in one table refused; two spares accepted"
fi

# --- 2. a message to an instance that never resumed ---------------------------
if want 2; then
	# Every write to the spare fails, so formatting it in preresume fails: the
	# table is live but was never resumed.
	blank="$(make_loop 8)"
	dm_create noformat "0 $(sectors_of "$blank") flakey $blank 0 0 1 1 error_writes"
	dmsetup create never --uuid DMREMAP-test-never --notable
	KMOD_DM_DEVICES+=(never)
	dmsetup load never --table "0 8192 remap $m1 /dev/mapper/noformat"
	expect_failure dmsetup resume never
	expect_failure dmsetup message never 0 remap 5
	case "$KMOD_LAST_ERR" in
	*"Device or resource busy"*) ;;
	*) fail "2: expected EBUSY, got: $KMOD_LAST_ERR" ;;
	esac
	dm_remove never
	dm_remove noformat
	kmod_log "2: remap message to a never-resumed instance refused with EBUSY"
fi

# --- 3. suspend during a proactive remap that salvages -----------------------
if want 3; then
	# Every block of 0..1023 has one unreadable sector, and every read of main
	# takes 100 ms: the step's salvage reads one sector at a time, ~1 s per block.
	main="$(make_loop 16)"
	size="$(sectors_of "$main")"
	ranges=()
	for ((b = 0; b < 1024; b++)); do ranges+=("$((b * 8 + 3)):1"); done
	dm_create lower "$(error_table "$main" "${ranges[@]}")"
	dm_create slow "0 $size delay /dev/mapper/lower 0 100 /dev/mapper/lower 0 0"
	spare="$(make_loop 16)"
	dm_create r "0 $size remap /dev/mapper/slow $spare"
	dmsetup message r 0 remap 2000 # a remapped block: "remap 2000" is a no-op while live
	dmsetup message r 0 remap 0 1024 2>/tmp/salvage &
	salvage=$!
	sleep 5
	started=$SECONDS
	timeout 60 dmsetup suspend r || fail "3: suspend did not return within 60 s of a salvaging step"
	kmod_log "3: suspend returned after $((SECONDS - started)) s while a step was salvaging"
	if wait "$salvage"; then
		fail "3: the interrupted proactive remap reported success"
	fi
	grep -q "Device or resource busy" /tmp/salvage || fail "3: expected EBUSY, got: $(cat /tmp/salvage)"
	assert_eq "3: remapped (the interrupted step moved nothing)" 1 "$(status_field r remapped)"
	dmsetup resume r
	dmsetup message r 0 remap 1500 || fail "3: remap after resume failed"
	dm_remove r
	dm_remove slow
	dm_remove lower
fi

# --- 4. a cancelled suspend ----------------------------------------------------
if want 4; then
	# Writes to main take 20 s: a suspend waits for one in flight, and is killed.
	main="$(make_loop 16)"
	size="$(sectors_of "$main")"
	dm_create slow "0 $size delay $main 0 0 $main 0 20000"
	spare="$(make_loop 16)"
	dm_create r "0 $size remap /dev/mapper/slow $spare"
	dmsetup message r 0 remap 2000
	write_at /dev/mapper/r 800 8 /tmp/a &
	writer=$!
	sleep 2
	dmsetup suspend r &
	suspender=$!
	# presuspend ran once a no-op remap message fails with EBUSY.
	for ((i = 0; i < 100; i++)); do
		dmsetup message r 0 remap 2000 2>/dev/null || break
		sleep 0.1
	done
	((i < 100)) || fail "4: the suspend never started"
	kill -TERM "$suspender"
	wait "$suspender" 2>/dev/null || true
	dmsetup info r | grep -q "State: *ACTIVE" || fail "4: device not active after the cancelled suspend"
	dmsetup message r 0 remap 2000 || fail "4: remap message refused after a cancelled suspend"
	wait "$writer" || fail "4: the delayed write failed"
	dm_remove r
	dm_remove slow
	kmod_log "4: a cancelled suspend left the device taking remap messages"
fi

# --- 5. main's limits ------------------------------------------------------------
if want 5; then
	limits_main="$(make_loop 16)"
	limits_spare="$(make_disk nullb ls 16)"
	echo 0 >"/sys/block/$(basename "$limits_main")/queue/rotational"
	echo 1 >"/sys/block/$(basename "$limits_spare")/queue/rotational"
	assert_eq "5: the spare has no discard" 0 "$(cat "/sys/block/$(basename "$limits_spare")/queue/discard_max_bytes")"
	dm_create r "0 $(sectors_of "$limits_main") remap $limits_main $limits_spare"
	assert_eq "5: rotational (main's)" 0 "$(queue_attr r rotational)"
	[ "$(queue_attr r discard_max_bytes)" -gt 0 ] || fail "5: main's discard hidden by the spare"
	dm_remove r
	# null_blk as main has no write cache; the loop spare has one.
	nocache="$(make_disk nullb nc 16)"
	cached="$(make_loop 16)"
	assert_eq "5: main without a write cache" "write through" "$(cat "/sys/block/$(basename "$nocache")/queue/write_cache")"
	dm_create r "0 $(sectors_of "$nocache") remap $nocache $cached"
	assert_eq "5: flushes are taken (for the spare)" "write back" "$(queue_attr r write_cache)"
	dm_remove r
	kmod_log "5: the device shows main's rotational and discard, and takes flushes"
fi

# --- 6. trailing words -------------------------------------------------------------
if want 6; then
	expect_failure dmsetup create t --uuid DMREMAP-test-t --table "0 8192 remap $m1 $s2 2 block_size 8 extra"
	dmesg | tail -n 5 | grep -q "Unexpected words after the feature arguments" ||
		fail "6: no 'Unexpected words' in the kernel log"
	kmod_log "6: words after the feature arguments refused"
fi

kmod_log "PASS ($SECTIONS)"
