#!/bin/busybox sh
# The lab guest's /init (PID 1, busybox sh), the same for both arches: load the modules, mount the
# shares, show that /dev/kvm is real KVM, run the command, hand its exit status to the host
# (control share), power off. Lines meant for the lab's own log start with "[lab] ".
/bin/busybox --install -s
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts pts /dev/pts
mount -t tmpfs shm /dev/shm
mount -t tmpfs tmp /tmp

up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "[lab] $*"; }
off() { sync; poweroff -f; sleep 10; }
fail() {  # lab failure: the host reports 125 and this message
  say "ERROR (guest): $*"
  [ -d /run/lab ] && echo 125 > /run/lab/rc
  off
}

for m in $(cat /lib/modules/order); do
  insmod "/lib/modules/$m.ko" || say "insmod $m failed"
done

# Control share: conf (DIR, HOSTROOT, TTY) and cmd.sh from the host; ready and rc back to it.
O=trans=virtio,version=9p2000.L,msize=512000
mkdir -p /run/lab
mount -t 9p -o "$O" labctl /run/lab || fail "cannot mount the control share"
. /run/lab/conf

# x86_64: the host's own / (read-only) becomes the command's root, so it runs the host's Node and
# addon; aarch64: the initramfs itself is the root (it carries an arm64 Node).
NEWROOT=/
if [ "$HOSTROOT" = 1 ]; then
  NEWROOT=/mnt/host
  mkdir -p "$NEWROOT"
  # cache=loose: the share is read-only and nothing in it is expected to change during a run
  mount -t 9p -o "$O,ro,cache=loose" hostroot "$NEWROOT" || fail "cannot mount the host's / (9p)"
  mount -o rbind /dev "$NEWROOT/dev" && mount -o bind /proc "$NEWROOT/proc" &&
    mount -o bind /sys "$NEWROOT/sys" && mount -t tmpfs tmp "$NEWROOT/tmp" || fail "cannot set up the chroot"
fi
# The project directory, read-write at its host path (recreated if a tmpfs hides it).
mkdir -p "$NEWROOT$DIR" 2>/dev/null
mount -t 9p -o "$O" host0 "$NEWROOT$DIR" || fail "cannot mount the project directory $DIR (9p)"
mkdir -p "$NEWROOT/tmp/.lab"
cp -a /run/lab/cmd.sh /run/lab/bin "$NEWROOT/tmp/.lab/" || fail "cannot copy the command"

# Evidence that this is real KVM: the kernel's own KVM lines and the device node.
[ -c /dev/kvm ] || { dmesg | grep -i kvm | sed 's/^/[lab] dmesg: /'; fail "no /dev/kvm in the guest"; }
KVM=$(dmesg | sed 's/^\[[ 0-9.]*\] //' | grep -iE 'kvm' |
      grep -iE 'initialized successfully|nested paging|nested virtualization' )
[ -n "$KVM" ] || KVM=$(dmesg | sed 's/^\[[ 0-9.]*\] //' | grep -i kvm | tail -3)
echo "$KVM" | while IFS= read -r l; do say "$l"; done
say "$(ls -l /dev/kvm)"
say "guest $(uname -r) $(uname -m), $(nproc) vCPU, ready at $(up)s"
touch /run/lab/ready

# The command: stdin from /dev/null (the console never sends EOF); piped through cat when the
# host's stdout is not a terminal, so the command sees what it would see on the host.
cd /
# A process killed by a fault gets a kernel line (debug.exception-trace): with it, a test file that
# died shows how in the lab's log, where `node --test` says only 'test failed'.
echo 1 > /proc/sys/debug/exception-trace 2>/dev/null
T0=$(up)
if [ "$TTY" = 1 ]; then
  chroot "$NEWROOT" /bin/sh /tmp/.lab/cmd.sh < /dev/null
  rc=$?
else
  { chroot "$NEWROOT" /bin/sh /tmp/.lab/cmd.sh < /dev/null 2>&1; echo $? > /tmp/rc; } | cat
  rc=$(cat /tmp/rc)
fi
say "command exit status $rc after $(awk "BEGIN { print $(up) - $T0 }")s (guest uptime $(up)s)"
if [ "$rc" != 0 ]; then  # what the kernel saw: a fault, the OOM killer, an oops
  dmesg | grep -iE 'segfault|unhandled|killed process|out of memory|oops|bug:|call trace|hung task' |
    tail -20 | while IFS= read -r l; do say "dmesg: $l"; done
fi
umount "$NEWROOT$DIR" 2>/dev/null
echo "$rc" > /run/lab/rc
off
