# shellcheck shell=bash
# Shared paths and helpers for the guest-kernel rig. Sourced, never run.
#
# Layout of the cache (everything downloaded or built, gitignored, reusable):
#   .cache/vm/debs/                 downloaded Debian packages
#   .cache/vm/kernels/<kver>/       one unpacked kernel: root/, vmlinuz, vmlinux (PVH), headers, release
#   .cache/vm/kernels/<alias>       symlink 6.1 / 6.12 -> <kver>
#   .cache/vm/build/<kver>/         out-of-tree copy of kmod/ built against <kver>
#   .cache/vm/initramfs/<kver>.gz   the guest's base initramfs for <kver>
#   .cache/vm/tools/                checkpatch.pl and its data files

RIG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RIG_CACHE="${DM_REMAP_CACHE:-$RIG_ROOT/.cache/vm}"
RIG_DEBS="$RIG_CACHE/debs"
RIG_KERNELS="$RIG_CACHE/kernels"
RIG_BUILD="$RIG_CACHE/build"
RIG_INITRAMFS="$RIG_CACHE/initramfs"
RIG_TOOLS="$RIG_CACHE/tools"

# The two kernels the project is tested on: Debian 12's default and the newest
# Debian 12 offers. Each maps an alias to the metapackage that names it.
RIG_KERNEL_ALIASES=(6.1 6.12)
declare -A RIG_KERNEL_META=([6.1]=amd64 [6.12]=6.12-amd64)
RIG_DEFAULT_KERNEL=6.1

rig_log() { printf '%s: %s\n' "${RIG_LOG_PREFIX:-rig}" "$*" >&2; }
rig_die() {
	rig_log "error: $*"
	exit 1
}

# rig_kernel_release ALIAS_OR_RELEASE -> prints the release string of a fetched
# kernel (e.g. 6.1.0-56-amd64); fails when it has not been fetched.
rig_kernel_release() {
	local sel="$1" dir
	dir="$RIG_KERNELS/$sel"
	[[ -f "$dir/release" ]] || return 1
	cat "$dir/release"
}

# rig_kernel_dir RELEASE -> the unpacked kernel's directory.
rig_kernel_dir() { printf '%s\n' "$RIG_KERNELS/$1"; }

# rig_boot_image KDIR -> the image qemu's -kernel should get: the uncompressed
# vmlinux (PVH entry, staged by fetch-kernels.sh) when there is one, else the
# bzImage.
rig_boot_image() {
	if [[ -f "$1/vmlinux" ]]; then
		printf '%s\n' "$1/vmlinux"
	else
		printf '%s\n' "$1/vmlinuz"
	fi
}
