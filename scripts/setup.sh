#!/usr/bin/env bash
# Prepares a Debian 12 machine (run as root; CI runs it on a fresh one) for
# everything the project does: host packages, npm dependencies, the two guest
# kernels, their initramfs images, dm-remap.ko for both kernels and the
# checkpatch tool, then boots one guest to prove the rig works. Idempotent:
# a second run only checks and takes seconds (plus one short guest boot).
#
# Usage: bash scripts/setup.sh   (as root; as another user it re-runs itself
#        through sudo, so the same command works in a root shell with no sudo)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
STARTED=$SECONDS

# What each package is for:
#   qemu-system-x86             runs the guest kernels (TCG: no KVM here)
#   busybox-static cpio         the guest's userland and its initramfs
#   kmod xz-utils               depmod/modprobe for the guest's module tree (6.12 ships .ko.xz)
#   zstd                        unpacking 6.12's vmlinuz (xz: 6.1's) to boot it through PVH
#   dmsetup util-linux e2fsprogs  tools copied into the guest (dmsetup, losetup, mke2fs...)
#   make gcc libc6-dev          building dm-remap.ko against the unpacked kernel headers
#   dwarves libelf1             pahole (6.12's module build makes BTF with it); objtool's libelf
#   sparse                      `npm run lint:kmod` (make C=2)
#   perl                        checkpatch.pl
#   dpkg-dev lintian            `npm run package` (dpkg-deb) and its lintian check
#   debootstrap                 the Debian 12 userspace the package is booted in
#                               (tests/guest/package-boot.host.sh, scripts/vm/debian-root.sh)
PACKAGES=(
	qemu-system-x86 busybox-static cpio kmod xz-utils
	dmsetup util-linux e2fsprogs
	make gcc libc6-dev dwarves libelf1 sparse perl
	dpkg-dev lintian debootstrap
	zstd
	prometheus
	ca-certificates
)

step() { printf 'setup: [%3ds] %s\n' "$((SECONDS - STARTED))" "$*"; }
die() {
	printf 'setup: error: %s\n' "$*" >&2
	exit 1
}

# npm ci waits mostly on the network: it runs beside the other steps, and
# writes to its own log, shown when it ends. (The debootstrap root is left
# building after setup ends: see below.)
background_dir="$(mktemp -d)"
declare -A background_pids=()
stop_background() {
	local pid
	for pid in "${background_pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait
	rm -rf "$background_dir"
}
trap stop_background EXIT
# in_background NAME COMMAND...: start it; its stdout goes to NAME.out, its
# stderr to NAME.log.
in_background() {
	local name="$1"
	shift
	"$@" >"$background_dir/$name.out" 2>"$background_dir/$name.log" &
	background_pids[$name]=$!
}
# finish NAME: wait for it, show what it printed, die when it failed.
finish() {
	local name="$1" status=0
	wait "${background_pids[$name]}" || status=$?
	unset "background_pids[$name]"
	cat "$background_dir/$name.log" "$background_dir/$name.out"
	((status == 0)) || die "$name failed (exit $status; its output is above)"
}

if [[ $EUID -ne 0 ]]; then
	command -v sudo >/dev/null || die "run as root: it installs Debian packages (and there is no sudo here)"
	exec sudo bash "$0" "$@"
fi
[[ -r /etc/debian_version ]] || die "needs Debian 12 (apt, Debian's kernel packages)"
command -v node >/dev/null || die "Node.js 20 or newer must be installed first (Debian 12's own nodejs is 18)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "Node.js 20 or newer is needed, found $(node --version)"
export DEBIAN_FRONTEND=noninteractive

step "apt-get update"
apt-get update -q >/dev/null

step "installing host packages: ${PACKAGES[*]}"
apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >/dev/null

# npm ci wipes node_modules; skip it when the installed tree already matches
# the lockfile (npm writes node_modules/.package-lock.json on install).
npm_ci=0
if [[ node_modules/.package-lock.json -nt package-lock.json ]]; then
	step "npm dependencies already installed"
else
	step "npm ci (in the background)"
	npm_ci=1
	in_background npm-ci npm ci --no-audit --no-fund
fi

step "fetching guest kernels"
bash scripts/vm/fetch-kernels.sh | while read -r alias release; do
	step "  kernel $alias: $release"
done

step "initramfs for 6.1: $(bash scripts/vm/build-initramfs.sh 6.1)"
# debootstrap + the package's dependencies, once (3-8 min), then cached in
# .cache/vm/debian/. It reads 6.1's unpacked modules, prepared just above.
# It is left running when setup ends (at the lowest CPU priority, so it
# takes only what the unit tests leave idle): only the package boot test needs
# it, and its own call to debian-root.sh waits for this one to finish.
debian_root_log="$ROOT/.cache/vm/debian/build.log"
mkdir -p "$(dirname "$debian_root_log")"
step "Debian 12 root for the package boot test (in the background; log: ${debian_root_log#"$ROOT"/})"
# Started from a subshell that exits at once: not setup's child, so setup's
# own waits never wait for it.
(setsid nice -n 19 bash scripts/vm/debian-root.sh 6.1 >"$debian_root_log" 2>&1 </dev/null &)
step "initramfs for 6.12: $(bash scripts/vm/build-initramfs.sh 6.12)"

if compgen -G "kmod/*.c" >/dev/null; then
	step "building dm-remap.ko for both kernels"
	bash scripts/kmod-build.sh --quiet --allow-warnings | while read -r release ko; do
		step "  $release: ${ko#"$ROOT"/}"
	done
else
	step "kmod/ has no sources yet: module build skipped"
fi

step "fetching checkpatch.pl"
bash scripts/vm/fetch-checkpatch.sh >/dev/null

if ((npm_ci)); then
	step "npm ci: waiting for it"
	finish npm-ci
fi

step "booting a guest to check the rig"
bash scripts/vm/guest.sh --no-module --timeout 120 true >/dev/null 2>&1 ||
	die "the guest rig does not boot: run 'npm run guest -- --no-module true' to see why"

# Done, or still building (exit 3); or failed, and then this call builds it
# and a failure stops setup here.
root_status=0
root_tarball="$(bash scripts/vm/debian-root.sh --no-wait 6.1 | sed -n 1p)" || root_status=$?
case "$root_status" in
0) step "Debian 12 root: ${root_tarball#"$ROOT"/}" ;;
3) step "Debian 12 root: still being built in the background (the package boot test waits for it)" ;;
*) die "the Debian 12 root could not be built (log above; the background attempt's: ${debian_root_log#"$ROOT"/})" ;;
esac

step "done"
