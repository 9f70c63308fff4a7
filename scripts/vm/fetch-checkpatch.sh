#!/usr/bin/env bash
# Extracts the kernel's checkpatch.pl (and the data files it reads next to
# itself) from Debian's linux-source-6.1 package into .cache/vm/tools/, the
# same kernel series the module is tested on. Only those members are taken
# out of the 138 MB source tarball; the .deb is deleted afterwards. Nothing is
# installed into the host. Idempotent.
#
# Usage: scripts/vm/fetch-checkpatch.sh   Prints the path of checkpatch.pl.
set -euo pipefail
RIG_LOG_PREFIX=fetch-checkpatch
# shellcheck source=scripts/vm/lib.sh
source "$(dirname "$0")/lib.sh"

SOURCE_PACKAGE=linux-source-6.1
# checkpatch.pl looks for these relative to its own directory ($D).
MEMBERS=(
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
	Documentation/dev-tools/checkpatch.rst
)

main() {
	local dest="$RIG_TOOLS/checkpatch" checkpatch
	checkpatch="$dest/scripts/checkpatch.pl"
	if [[ -x "$checkpatch" ]]; then
		printf '%s\n' "$checkpatch"
		return
	fi
	command -v perl >/dev/null || rig_die "perl is needed (apt-get install perl)"
	local work
	mkdir -p "$RIG_CACHE"
	work="$(mktemp -d "$RIG_CACHE/checkpatch.XXXXXX")"
	# shellcheck disable=SC2064 # expand now
	trap "rm -rf '$work'" EXIT
	rig_log "downloading $SOURCE_PACKAGE (once)"
	(cd "$work" && apt-get download -q "$SOURCE_PACKAGE" 2>&1 | { grep -v 'unsandboxed as root' || true; } >&2) ||
		rig_die "apt-get download $SOURCE_PACKAGE failed (run apt-get update?)"
	local deb tarball top
	deb="$(find "$work" -maxdepth 1 -name "${SOURCE_PACKAGE}_*.deb" -print -quit)"
	[[ -n "$deb" ]] || rig_die "no .deb downloaded"
	tarball="./usr/src/$SOURCE_PACKAGE.tar.xz"
	top="$SOURCE_PACKAGE"
	rig_log "extracting checkpatch from the source tarball"
	mkdir -p "$work/out"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "$tarball" |
		tar -xJ -C "$work/out" "${MEMBERS[@]/#/$top/}"
	local member
	for member in "${MEMBERS[@]}"; do
		[[ -f "$work/out/$top/$member" ]] || rig_die "$member missing from $SOURCE_PACKAGE"
	done
	rm -rf "$dest"
	mkdir -p "$RIG_TOOLS"
	mv "$work/out/$top" "$dest"
	chmod +x "$checkpatch"
	printf '%s\n' "$checkpatch"
}

main "$@"
