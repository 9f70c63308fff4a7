#!/usr/bin/env bash
# Captures real dmsetup output for the parser tests (tests/kernel/dmsetup-parse.test.ts):
# no devices at all, then a mix of an owned remap device, devices with odd
# names (spaces, ": ", a comma, a semicolon, a backslash), a device with no
# table, one with only an inactive table, a suspended one and a two-target one.
# Run in the guest: npm run guest -- tests/kernel/capture-dmsetup.sh
set -euo pipefail
cd "$(dirname "$0")"
out=fixtures/dmsetup
mkdir -p "$out"
SEP=$'\x1f'
info() { dmsetup info -c --noheadings --separator "$SEP" -o uuid,major,minor,attr,open,name; }

capture() { # SUFFIX: writes every output the adapter parses
	info >"$out/info-$1.txt"
	dmsetup table --concise >"$out/table-concise-$1.txt"
	dmsetup table >"$out/table-$1.txt"
	dmsetup status >"$out/status-$1.txt"
	dmsetup targets >"$out/targets-$1.txt"
}

modprobe dm-remap || echo "capture: dm-remap did not load; remap samples will be missing" >&2
capture empty

work=$(mktemp -d)
truncate -s 4M "$work/main.img" "$work/spare.img"
main=$(losetup -f --show "$work/main.img")
spare=$(losetup -f --show "$work/spare.img")

if dmsetup targets | grep -q '^remap'; then
	dmsetup create disk0 -u DMREMAP-disk0 --table "0 8192 remap $main $spare 4 block_size 8 read_retries 3"
fi
dmsetup create 'odd: name, with; chars\ and spaces' -u 'DMREMAP-odd' --table "0 100 linear $main 0"
dmsetup create 'odd' -u 'FOREIGN-odd' --table "0 100 linear $main 100"
dmsetup create notable -u DMREMAP-notable --notable
dmsetup create halfdone -u DMREMAP-halfdone --notable
dmsetup load halfdone --table "0 100 zero"
dmsetup create suspended --table "0 100 error"
dmsetup suspend suspended
dmsetup create twolines --table $'0 100 linear '"$spare"$' 0\n100 100 zero'
exec 3</dev/mapper/twolines
capture devices
exec 3<&-

dmsetup remove_all --force
losetup -d "$main" "$spare"
rm -rf "$work"
ls -l "$out"
