#!/bin/sh
# /init of the guest (run by dash as PID 1; busybox provides mount, poweroff
# and the other basics). Mounts the shares the runner set up, installs the
# dm-remap.ko it was handed, runs the requested command as root in the
# checkout and reports its exit status back through the control share.
# The kernel cannot tell the host how a test went, and qemu exits 0 even after
# a panic, so a missing /rig/result is what the host treats as failure.
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp TERM=dumb LANG=C.UTF-8
# No udev in the guest: dmsetup must create /dev/mapper nodes itself.
export DM_DISABLE_UDEV=1

say() { echo "guest-init: $*" >/dev/console; }

# Anything going wrong before the command ran: report and power off; the host
# sees no result file and fails the run.
fatal() {
	say "error: $*"
	poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
# bash process substitution (<(...)) and /dev/stdin need these.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777,size=50% tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
echo 60 >/proc/sys/kernel/hung_task_timeout_secs
# No address space randomization for user processes: TCG keys its translated
# code by virtual address, so with ASLR every exec maps ld.so and libc
# elsewhere and translates them again. Tests start thousands of dd, cmp and
# dmsetup processes: without ASLR each starts 4-5x faster (dd 44 -> 9 ms).
echo 0 >/proc/sys/kernel/randomize_va_space

modprobe virtio_pci 2>/dev/null # built in on 6.12
modprobe 9pnet_virtio && modprobe 9p || fatal "cannot load 9p"
# The control share: no caching, so the result file reaches the host at once.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 rig /rig || fatal "cannot mount the control share"
[ -f /rig/env ] || fatal "no /rig/env"
. /rig/env
# Tests may want the checkout's path (it is also their cwd).
export DM_REMAP_CHECKOUT

mkdir -p "$DM_REMAP_CHECKOUT"
# cache=loose: the checkout is read-mostly and nobody changes it under a run;
# it makes node's module loading several times faster than uncached 9p.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose host0 "$DM_REMAP_CHECKOUT" ||
	fatal "cannot mount the checkout"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro hostnode /opt/hostnode ||
	fatal "cannot mount node's directory"
ln -s "/opt/hostnode/$RIG_NODE_NAME" /usr/local/bin/node
printf '#!/bin/sh\nexec node "%s/dist/reconciler/cli/main.js" "$@"\n' "$DM_REMAP_CHECKOUT" >/usr/local/bin/dm-remap
chmod 0755 /usr/local/bin/dm-remap

for module in virtio_blk loop dm-mod; do
	modprobe "$module" || fatal "cannot load $module"
done
release="$(uname -r)"
if ls /rig/modules/*.ko >/dev/null 2>&1; then
	cp /rig/modules/*.ko "/lib/modules/$release/extra/"
	depmod -a "$release" || fatal "depmod failed"
fi

# Hand the command its disks: the host attached them in this order.
eval "$RIG_DISK_EXPORTS"
# The runner's --env settings, last: they are the caller's word.
eval "${RIG_ENV_EXPORTS:-}"

cd "$DM_REMAP_CHECKOUT" || fatal "cannot enter $DM_REMAP_CHECKOUT"
say "running $RIG_COMMAND_TEXT"
# Not exec: PID 1 must survive to report the status. stdin is /dev/null so a
# command that reads the terminal fails instead of hanging until the timeout.
eval "set -- $RIG_COMMAND"
if [ -f "$1" ] && [ ! -x "$1" ]; then
	bash "$@" </dev/null >/dev/console 2>&1
else
	"$@" </dev/null >/dev/console 2>&1
fi
status=$?

dmesg >/rig/dmesg 2>/dev/null
sync
echo "$status" >/rig/result.tmp && mv /rig/result.tmp /rig/result
sync
say "exit status $status"
poweroff -f
