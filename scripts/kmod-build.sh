#!/usr/bin/env bash
# Builds kmod/ out of tree against each fetched Debian kernel with W=1 and
# fails on any compiler (or, with --sparse, sparse) warning in the module's
# own files. Each kernel gets its own copy of the sources under
# .cache/vm/build/<release>/ so two kernels' objects never clash and the
# checkout stays free of build products.
#
# Usage: scripts/kmod-build.sh [--sparse] [--allow-warnings] [--quiet] [KERNEL...]
#   KERNEL          an alias (6.1, 6.12) or a fetched release; default: all
#   --sparse        also run sparse on every source file (make C=2)
#   --allow-warnings  report warnings but do not fail (the guest runner uses
#                   this so a work-in-progress module can still be tried)
#   --quiet         print the build log only when something is wrong
# Env: DM_REMAP_KMOD_SRC  the module sources (default: kmod/ of this checkout)
# Prints "RELEASE KO_PATH" for each built kernel on stdout.
set -euo pipefail
RIG_LOG_PREFIX=kmod-build
# shellcheck source=scripts/vm/lib.sh
source "$(dirname "$0")/vm/lib.sh"

KMOD_SRC="${DM_REMAP_KMOD_SRC:-$RIG_ROOT/kmod}"
SPARSE=0
ALLOW_WARNINGS=0
QUIET=0

# The files kbuild consumes; everything else in kmod/ (docs, build products
# of a manual in-tree build) stays out of the build copy.
is_source_file() {
	case "${1##*/}" in
	*.c | *.h | Kbuild | Makefile) return 0 ;;
	*) return 1 ;;
	esac
}

# Mirrors the module sources into BUILD_DIR, copying only files whose content
# changed so that kbuild's own timestamps decide what to recompile. The list
# of copied files is kept in .sources, so a file deleted from kmod/ is deleted
# from the copy too, while kbuild's generated files (*.mod.c...) are left alone.
sync_sources() {
	local build_dir="$1" manifest="$1/.sources" src dst name
	local -a copied=()
	shopt -s nullglob
	for src in "$KMOD_SRC"/*; do
		[[ -f "$src" ]] && is_source_file "$src" || continue
		name="${src##*/}"
		dst="$build_dir/$name"
		cmp -s "$src" "$dst" || cp "$src" "$dst"
		copied+=("$name")
	done
	shopt -u nullglob
	if [[ -f "$manifest" ]]; then
		while read -r name; do
			[[ -e "$KMOD_SRC/$name" ]] || rm -f "$build_dir/$name" "$build_dir/${name%.c}.o"
		done <"$manifest"
	fi
	printf '%s\n' "${copied[@]}" >"$manifest"
}

# Prints the diagnostics in LOG that make a build fail: warnings and errors
# located in the module's own files, modpost's WARNING/ERROR lines, and (for
# the compiler, not sparse) warnings in kernel headers our code triggered.
findings() {
	local log="$1" build_dir="$2"
	if ((SPARSE)); then
		grep -E "^($build_dir/|kmod/)[^:]+:[0-9]+(:[0-9]+)?: (warning|error):|^(WARNING|ERROR): " "$log" || true
	else
		grep -E "(warning|error):|^(WARNING|ERROR): " "$log" || true
	fi
}

build_one() {
	local kernel="$1" release kdir build_dir log status=0
	release="$(rig_kernel_release "$kernel")" ||
		rig_die "kernel '$kernel' not fetched: run scripts/vm/fetch-kernels.sh"
	kdir="$(rig_kernel_dir "$release")"
	build_dir="$RIG_BUILD/$release"
	mkdir -p "$build_dir"
	log="$build_dir/build.log"

	# Two runs (a guest boot and a check, say) may build the same copy at once.
	exec {lock_fd}>"$build_dir.lock"
	flock "$lock_fd"

	sync_sources "$build_dir"
	local -a make_args=(-C "$kdir/headers" M="$build_dir" W=1)
	((SPARSE)) && make_args+=(C=2)
	make "${make_args[@]}" modules >"$log" 2>&1 || status=$?
	# Show paths as kmod/FILE so editors and readers find the real source.
	sed -i "s|$build_dir/|kmod/|g" "$log"

	local found
	found="$(findings "$log" "$build_dir")"
	if [[ -n "$found" ]]; then
		# Kbuild would not recompile an unchanged file next time, and the
		# warning would silently vanish: drop the objects so it shows again
		# (the .ko stays, for --allow-warnings callers).
		find "$build_dir" -maxdepth 1 -name '*.o' -delete
	fi
	if ((status != 0)) || [[ -n "$found" ]] || ((!QUIET)); then
		grep -vE '^make(\[[0-9]+\])?: (Entering|Leaving) directory' "$log" >&2 || true
	fi
	flock -u "$lock_fd"
	exec {lock_fd}>&-

	if ((status != 0)); then
		rig_log "$release: build failed"
		return 1
	fi
	if [[ -n "$found" ]]; then
		rig_log "$release: $(printf '%s\n' "$found" | wc -l) warning(s):"
		printf '%s\n' "$found" >&2
		((ALLOW_WARNINGS)) || return 1
	fi
	local ko
	for ko in "$build_dir"/*.ko; do
		[[ -f "$ko" ]] || rig_die "$release: build produced no .ko"
		printf '%s %s\n' "$release" "$ko"
	done
}

main() {
	local -a kernels=()
	while (($#)); do
		case "$1" in
		--sparse) SPARSE=1 ;;
		--allow-warnings) ALLOW_WARNINGS=1 ;;
		--quiet) QUIET=1 ;;
		-h | --help)
			sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
			return 0
			;;
		-*) rig_die "unknown option $1" ;;
		*) kernels+=("$1") ;;
		esac
		shift
	done
	[[ ${#kernels[@]} -gt 0 ]] || kernels=("${RIG_KERNEL_ALIASES[@]}")
	[[ -d "$KMOD_SRC" ]] || rig_die "no module sources at $KMOD_SRC"

	local kernel failed=0
	for kernel in "${kernels[@]}"; do
		build_one "$kernel" || failed=1
	done
	return "$failed"
}

main "$@"
