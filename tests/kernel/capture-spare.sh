#!/usr/bin/env bash
# Captures spare superblocks written by the real module, for the parser tests
# (tests/kernel/spare-superblock.test.ts): the first 8 KiB of a spare formatted
# by a table with `main_id` and of one formatted by a table without it.
# Run in the guest: npm run guest -- tests/kernel/capture-spare.sh
set -euo pipefail
cd "$(dirname "$0")"
out=fixtures/spare
mkdir -p "$out"
modprobe dm-remap

work=$(mktemp -d)
truncate -s 4M "$work/main.img" "$work/spare.img"
main=$(losetup -f --show "$work/main.img")
spare=$(losetup -f --show "$work/spare.img")

capture() { # FILE FEATURES...: format a blank spare with this table, then copy its first 8 KiB out
	local file=$1
	shift
	dd if=/dev/zero of="$spare" bs=4096 count=2 oflag=direct status=none
	dmsetup create capture --table "0 8192 remap $main $spare $# $*"
	dmsetup remove capture
	dd if="$spare" of="$out/$file" bs=4096 count=2 iflag=direct status=none
}

capture main-id.bin block_size 8 read_retries 3 main_id naa.5000c500a1b2c3d4
capture legacy.bin block_size 16 read_retries 3
losetup -d "$main" "$spare"
ls -l "$out"
