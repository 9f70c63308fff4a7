#!/usr/bin/env bash
# Boots a fresh Debian kernel under qemu and runs one command in it as root,
# with the checkout mounted at its host path (cwd), dm-remap.ko built from the
# current kmod/ and loadable with `modprobe dm-remap`, node and the dm-remap
# CLI on PATH. Prints the guest's console live and exits with the command's
# status. A guest that panics, oopses, warns, hangs or never reports is a
# failure, never a pass.
#
# Usage: npm run guest -- [OPTIONS] COMMAND [ARGS...]
#   --kernel K        6.1 (default, Debian 12's), 6.12, or a fetched release;
#                     env DM_REMAP_GUEST_KERNEL
#   --disk NAME=SIZE  attach a raw virtio disk NAME of SIZE (K/M/G suffixes),
#                     created if missing; repeatable, attached in order as
#                     /dev/vda, /dev/vdb...; the guest gets DISK_NAME=/dev/vdX
#                     and DM_REMAP_DISKS="NAME=/dev/vdX ..."
#   --env NAME=VALUE  export NAME=VALUE in the guest before the command runs
#                     (NAME a shell identifier; VALUE passed verbatim, any
#                     characters); repeatable, a later NAME wins
#   --state-dir DIR   keep disk images (and the last run's console.log and
#                     dmesg) in DIR; pass the same DIR again to "reboot"
#                     (default: a temporary dir, removed afterwards)
#   --keep            keep the temporary state dir and print its path
#   --mem MB          guest memory (default 1024)
#   --timeout S       fail when the guest has not finished after S seconds
#                     (default 600)
#   --no-module       do not build or install dm-remap.ko
#   -h, --help        this text
# A COMMAND that is an existing non-executable file is run with bash.
# Exit status: the command's; 124 on timeout; 125 when the rig failed (no
# result from the guest, kernel BUG/Oops/WARNING/hung task while the command
# passed, module build failure).
set -euo pipefail
RIG_LOG_PREFIX=guest
# shellcheck source=scripts/vm/lib.sh
source "$(dirname "$0")/lib.sh"

readonly EXIT_TIMEOUT=124 EXIT_RIG_FAILURE=125

# Console lines that mean the kernel itself went wrong, whatever the command
# said. Kernel lines carry a printk timestamp, which keeps a test that merely
# prints the word "WARNING:" from tripping this.
readonly KERNEL_TROUBLE='^\[ *[0-9]+\.[0-9]+\] .*(BUG:|Oops|WARNING:|KASAN|UBSAN|Kernel panic|kernel BUG at|general protection fault|INFO: task .* blocked for more than|soft lockup|hard LOCKUP|rcu: INFO: .*detected stall)'

# panic=-1 + qemu's -no-reboot: a panic ends the run at once (no result file);
# oops=panic: an oops cannot leave a half-dead kernel running to the timeout.
# no_timer_check: under TCG on a busy host the IO-APIC timer check can time
# out and panic at boot ("IO-APIC + timer doesn't work!"); it checks the
# emulator, not our code. A starved TCG vCPU must not pass for an RCU stall
# either, hence the longer stall timeout (real stalls still show within it).
readonly KERNEL_CMDLINE="console=ttyS0 panic=-1 oops=panic quiet no_timer_check rcupdate.rcu_cpu_stall_timeout=60"

kernel="${DM_REMAP_GUEST_KERNEL:-$RIG_DEFAULT_KERNEL}"
mem=1024
timeout_s=600
state_dir=""
keep=0
with_module=1
disk_names=()
disk_sizes=()
env_exports=""
command_argv=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

parse_args() {
	while (($#)); do
		case "$1" in
		--kernel) kernel="${2:?--kernel needs a value}" && shift ;;
		--kernel=*) kernel="${1#*=}" ;;
		--disk) add_disk "${2:?--disk needs NAME=SIZE}" && shift ;;
		--disk=*) add_disk "${1#*=}" ;;
		--env) add_env "${2:?--env needs NAME=VALUE}" && shift ;;
		--env=*) add_env "${1#*=}" ;;
		--state-dir) state_dir="${2:?--state-dir needs a directory}" && shift ;;
		--state-dir=*) state_dir="${1#*=}" ;;
		--keep) keep=1 ;;
		--mem) mem="${2:?--mem needs a value}" && shift ;;
		--mem=*) mem="${1#*=}" ;;
		--timeout) timeout_s="${2:?--timeout needs a value}" && shift ;;
		--timeout=*) timeout_s="${1#*=}" ;;
		--no-module) with_module=0 ;;
		-h | --help) usage && exit 0 ;;
		--) shift && break ;;
		-*) rig_die "unknown option $1 (see --help)" ;;
		*) break ;;
		esac
		shift
	done
	(($#)) || rig_die "no command given (see --help)"
	command_argv=("$@")
	[[ "$mem" =~ ^[0-9]+$ ]] || rig_die "--mem takes megabytes, got '$mem'"
	[[ "$timeout_s" =~ ^[0-9]+$ && "$timeout_s" -gt 0 ]] || rig_die "--timeout takes seconds, got '$timeout_s'"
}

add_disk() {
	local spec="$1" name size
	name="${spec%%=*}"
	size="${spec#*=}"
	[[ "$spec" == *=* && "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
		rig_die "--disk wants NAME=SIZE with NAME a shell identifier, got '$spec'"
	[[ "$size" =~ ^[0-9]+[KMGT]?$ ]] || rig_die "--disk $name: size '$size' is not N[K|M|G|T]"
	local existing
	for existing in "${disk_names[@]}"; do
		[[ "$existing" != "$name" ]] || rig_die "--disk $name given twice"
	done
	((${#disk_names[@]} < 20)) || rig_die "at most 20 disks"
	disk_names+=("$name")
	disk_sizes+=("$size")
}

# Queues `export NAME='VALUE'` for the guest's init, which runs it (eval)
# just before the command, after everything of its own: a test's settings
# cannot change how the guest boots.
add_env() {
	local spec="$1" name
	name="${spec%%=*}"
	[[ "$spec" == *=* && "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
		rig_die "--env wants NAME=VALUE with NAME a shell identifier, got '$spec'"
	env_exports+="export $name=$(sh_quote "${spec#*=}"); "
}

# Quotes each argument for the guest's POSIX sh: '...' with ' as '\''.
sh_quote() {
	local arg out=""
	for arg in "$@"; do
		out+="'${arg//\'/\'\\\'\'}' "
	done
	printf '%s' "${out% }"
}

# KVM only when it really works: on these machines /dev/kvm exists but stock
# kernels hang under it. One short probe boot decides; the answer is cached
# per host kernel. DM_REMAP_GUEST_ACCEL=tcg|kvm overrides.
choose_accel() {
	local image="$1" initrd="$2" key cache="$RIG_CACHE/accel"
	if [[ -n "${DM_REMAP_GUEST_ACCEL:-}" ]]; then
		printf '%s\n' "$DM_REMAP_GUEST_ACCEL"
		return
	fi
	if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
		printf 'tcg\n'
		return
	fi
	key="$(uname -srv)"
	if [[ -f "$cache" && "$(head -n1 "$cache")" == "$key" ]]; then
		sed -n 2p "$cache"
		return
	fi
	rig_log "probing whether KVM works (once per host kernel, up to 10 s)"
	local accel=tcg
	# The init script reaches its first message (no control share: it gives
	# up and powers off) within seconds when KVM works.
	if timeout -k 2 10 qemu-system-x86_64 -accel kvm -m 512 -nographic -no-reboot -nic none \
		-kernel "$image" -initrd "$initrd" -append 'console=ttyS0 panic=-1 quiet' </dev/null 2>&1 |
		grep -q 'guest-init:'; then
		accel=kvm
	fi
	printf '%s\n%s\n' "$key" "$accel" >"$cache"
	rig_log "KVM probe: using $accel"
	printf '%s\n' "$accel"
}

# Builds dm-remap.ko for RELEASE from the current kmod/ (a no-op when nothing
# changed) and puts it where the guest installs modules from.
stage_module() {
	local release="$1" control="$2" line ko
	if ! compgen -G "$RIG_ROOT/kmod/*.c" >/dev/null; then
		rig_log "kmod/ has no sources yet: booting without dm-remap.ko"
		return
	fi
	mkdir -p "$control/modules"
	line="$("$RIG_ROOT/scripts/kmod-build.sh" --quiet --allow-warnings "$release")" ||
		{
			rig_log "dm-remap.ko does not build for $release"
			exit "$EXIT_RIG_FAILURE"
		}
	while read -r _ ko; do
		cp "$ko" "$control/modules/"
	done <<<"$line"
}

# Creates missing disk images and fills qemu_args and disk_exports (globals:
# the caller's locals are visible here, bash scoping is dynamic).
prepare_disks() {
	local i image dev letters=abcdefghijklmnopqrst summary=""
	for i in "${!disk_names[@]}"; do
		image="$state_dir/${disk_names[$i]}.img"
		# An existing image is this state dir's persistent disk: keep it,
		# even when asked for another size (a reboot test must see the same
		# disk), but say so.
		if [[ ! -f "$image" ]]; then
			truncate -s "${disk_sizes[$i]}" "$image"
		elif [[ "$(stat -c %s "$image")" != "$(numfmt --from=iec "${disk_sizes[$i]}")" ]]; then
			rig_log "warning: keeping $image at $(stat -c %s "$image") bytes, not ${disk_sizes[$i]}"
		fi
		qemu_args+=(-drive "file=$image,format=raw,if=virtio")
		dev="/dev/vd${letters:$i:1}"
		disk_exports+="export DISK_${disk_names[$i]}=$dev; "
		summary+="${disk_names[$i]}=$dev "
	done
	disk_exports+="export DM_REMAP_DISKS='${summary% }'"
}

main() {
	parse_args "$@"
	local release kdir initrd node started
	started=$(date +%s.%N)
	release="$(rig_kernel_release "$kernel")" || {
		rig_log "kernel $kernel not fetched yet: fetching"
		"$RIG_ROOT/scripts/vm/fetch-kernels.sh" "$kernel" >/dev/null
		release="$(rig_kernel_release "$kernel")" || rig_die "unknown kernel '$kernel'"
	}
	kdir="$(rig_kernel_dir "$release")"
	initrd="$("$RIG_ROOT/scripts/vm/build-initramfs.sh" "$release")"
	node="$(readlink -f "$(command -v node)")" || rig_die "node not found on the host"

	if [[ -z "$state_dir" ]]; then
		state_dir="$(mktemp -d "${TMPDIR:-/tmp}/dm-remap-guest.XXXXXX")"
		((keep)) || trap 'rm -rf "$state_dir"' EXIT
	else
		mkdir -p "$state_dir"
		state_dir="$(cd "$state_dir" && pwd)"
	fi
	# The control share: what the guest is told, and where it answers. It is
	# recreated per run so a stale result can never be read as this run's.
	local control="$state_dir/guest"
	rm -rf "$control"
	mkdir -p "$control"
	((with_module)) && stage_module "$release" "$control"

	local -a qemu_args=()
	local disk_exports=""
	prepare_disks

	{
		printf 'DM_REMAP_CHECKOUT=%s\n' "$(sh_quote "$RIG_ROOT")"
		printf 'RIG_NODE_NAME=%s\n' "$(sh_quote "$(basename "$node")")"
		printf 'RIG_DISK_EXPORTS=%s\n' "$(sh_quote "$disk_exports")"
		printf 'RIG_ENV_EXPORTS=%s\n' "$(sh_quote "$env_exports")"
		printf 'RIG_COMMAND=%s\n' "$(sh_quote "$(sh_quote "${command_argv[@]}")")"
		printf 'RIG_COMMAND_TEXT=%s\n' "$(sh_quote "${command_argv[*]}")"
	} >"$control/env"

	local accel
	accel="$(choose_accel "$(rig_boot_image "$kdir")" "$initrd")"
	rig_log "booting $release ($accel, ${mem} MiB${disk_names[*]:+, disks: ${disk_names[*]}})"

	local -a qemu=(
		qemu-system-x86_64 -accel "$accel" -m "$mem" -smp 1
		-nographic -no-reboot -nic none
		# Keeps SeaBIOS's banner and screen-clearing codes off the console.
		-fw_cfg name=etc/sercon-port,string=0
		-kernel "$(rig_boot_image "$kdir")" -initrd "$initrd"
		-append "$KERNEL_CMDLINE"
		-virtfs "local,path=$control,mount_tag=rig,security_model=none"
		-virtfs "local,path=$RIG_ROOT,mount_tag=host0,security_model=none"
		-virtfs "local,path=$(dirname "$node"),mount_tag=hostnode,security_model=none,readonly=on"
		"${qemu_args[@]}"
	)
	local qemu_status=0
	set +e
	# qemu warns that the SeaBIOS setting above lacks an "opt/" prefix, which
	# SeaBIOS does not read: drop that one line from its stderr.
	timeout -k 5 "$timeout_s" "${qemu[@]}" </dev/null 2> >(grep -v 'externally provided fw_cfg item names' >&2) |
		sed -u 's/\r$//' | tee "$control/console.log"
	qemu_status=${PIPESTATUS[0]}
	set -e
	local elapsed
	elapsed="$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"

	finish "$control" "$qemu_status" "$elapsed"
}

# Turns what the guest left behind into this run's exit status.
finish() {
	local control="$1" qemu_status="$2" elapsed="$3" trouble status
	trouble="$(cat "$control/console.log" "$control/dmesg" 2>/dev/null | grep -aE "$KERNEL_TROUBLE" | sort -u || true)"
	if [[ -n "$trouble" ]]; then
		rig_log "the kernel reported problems:"
		printf '%s\n' "$trouble" >&2
	fi
	((keep)) && rig_log "state kept in $state_dir"
	if ((qemu_status == 124)); then
		rig_log "FAILED: timed out after ${timeout_s} s (no poweroff)"
		exit "$EXIT_TIMEOUT"
	fi
	if [[ ! -f "$control/result" ]]; then
		rig_log "FAILED: the guest never reported a result (qemu status $qemu_status; panic or crash? see the console above) after $elapsed s"
		exit "$EXIT_RIG_FAILURE"
	fi
	status="$(cat "$control/result")"
	[[ "$status" =~ ^[0-9]+$ ]] || {
		rig_log "FAILED: unreadable result '$status'"
		exit "$EXIT_RIG_FAILURE"
	}
	if [[ -n "$trouble" ]] && ((status == 0)); then
		rig_log "FAILED: the command passed but the kernel reported problems ($elapsed s)"
		exit "$EXIT_RIG_FAILURE"
	fi
	rig_log "exit status $status ($elapsed s)"
	exit "$status"
}

main "$@"
