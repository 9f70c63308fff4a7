#!/usr/bin/env bash
# The remap index's own test (kmod/dm-remap-index-test.c), which has no
# user-space interface: load dm-remap with index_selftest=1 and require the
# PASS line it logs (on FAIL the module refuses to load). Prints the memory
# and timing figures the test logs. Run it on each kernel:
#   npm run guest -- [--kernel 6.12] tests/guest/kmod-index-selftest.sh
# guest: (no disks: the test runs inside the kernel, at module load)
set -eu
. "$(dirname "$0")/lib/kmod.sh"

selftest_lines() { dmesg | grep 'dm-remap: index selftest: ' || true; }

grep -q '^dm_remap ' /proc/modules && fail "dm_remap is already loaded"
[ -z "$(selftest_lines)" ] || fail "index selftest lines logged before the test"
if ! modprobe dm-remap index_selftest=1; then
	insmod "/lib/modules/$(uname -r)/extra/dm-remap.ko" index_selftest=1 ||
		{ selftest_lines; fail "dm-remap refused to load with index_selftest=1"; }
fi
selftest_lines | sed 's/^\[[ 0-9.]*\] //'
selftest_lines | grep -q 'index selftest: PASS' || fail "no PASS from the index selftest"
selftest_lines | grep -q 'FAIL' && fail "the index selftest logged FAIL"
assert_eq "parameter" "Y" "$(cat /sys/module/dm_remap/parameters/index_selftest)"

# The module works as usual afterwards, and unloads (the index's memory goes
# through kvfree_rcu, which must not call back into the unloaded module).
dmsetup targets | grep -q '^remap ' || fail "remap target not registered"
before="$(selftest_lines | wc -l)"
rmmod dm_remap
load_remap_module
assert_eq "selftest lines without the parameter" "$before" "$(selftest_lines | wc -l)"
assert_eq "parameter" "N" "$(cat /sys/module/dm_remap/parameters/index_selftest)"
rmmod dm_remap
kmod_log "PASS on $(uname -r)"
