#!/bin/sh
# boot.sh turns a fresh process into a simulated machine's PID 1.
#   boot.sh outer: joins the machine's cgroups (SB_CGROUPS: cgroup.procs files,
#     one a line), then becomes unshare, which starts "boot.sh inner" as PID 1
#     of new pid, mount, uts, ipc, net and cgroup namespaces.
#   boot.sh inner: builds the machine's private view of the file system,
#     says so (a line "mounted" on fd 4: only then may the harness touch
#     /proc/PID/root), waits for the harness to plug in its network (a line
#     "go" on fd 3), then execs systemd booting the harness's own target.
# Every value comes from the environment the harness sets (SB_*), never
# spliced into this text.
set -eu

outer() {
	printf '%s\n' "$SB_CGROUPS" | while IFS= read -r procs; do
		[ -n "$procs" ] || continue
		echo $$ > "$procs"
	done
	# --kill-child: if unshare dies (the test process died), PID 1 is killed,
	# and with it every process of the machine.
	exec unshare --pid --fork --kill-child --mount --propagation private --mount-proc \
		--cgroup --uts --ipc --net -- /bin/sh "$0" inner
}

inner() {
	R=$SB_ROOT
	F=$R/fs
	# host-wide sysctls stay read-only; /proc/sys/net belongs to the machine's
	# own network namespace (dockerd sets forwarding there)
	mount -n --bind /proc/sys/net /proc/sys/net
	mount -n --rbind /proc/sys /proc/sys
	mount -n -o remount,bind,ro /proc/sys
	if [ -e /proc/sysrq-trigger ]; then
		mount -n --bind /proc/sysrq-trigger /proc/sysrq-trigger
		mount -n -o remount,bind,ro /proc/sysrq-trigger
	fi

	# keep handles on the host's /dev and /dev/pts before hiding them
	mkdir -p "$R/hostdev" "$R/hostpts"
	mount -n --bind /dev "$R/hostdev"
	mount -n --bind /dev/pts "$R/hostpts"

	mount -n -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys
	mount -n -t tmpfs -o mode=755,nosuid,nodev,noexec tmpfs /sys/fs/cgroup
	mkdir /sys/fs/cgroup/unified
	mount -n -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup/unified
	printf '%s\n' "$SB_CONTROLLERS" | while IFS= read -r c; do
		[ -n "$c" ] || continue
		mkdir "/sys/fs/cgroup/$c"
		if [ "$c" = systemd ]; then
			mount -n -t cgroup -o none,name=systemd,nosuid,nodev,noexec cgroup /sys/fs/cgroup/systemd
		else
			mount -n -t cgroup -o "$c,nosuid,nodev,noexec" cgroup "/sys/fs/cgroup/$c"
		fi
	done

	mount -n -t tmpfs -o mode=755,nosuid tmpfs /dev
	for n in null zero full random urandom tty; do
		touch "/dev/$n"
		mount -n --bind "$R/hostdev/$n" "/dev/$n"
	done
	touch /dev/console
	mount -n --bind "$R/hostpts/$SB_CONSOLE" /dev/console
	mkdir /dev/pts /dev/shm /dev/mqueue
	mount -n -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
	ln -s pts/ptmx /dev/ptmx
	mount -n -t tmpfs -o nosuid,nodev tmpfs /dev/shm
	mount -n -t mqueue mqueue /dev/mqueue
	ln -s /proc/self/fd /dev/fd
	ln -s /proc/self/fd/0 /dev/stdin
	ln -s /proc/self/fd/1 /dev/stdout
	ln -s /proc/self/fd/2 /dev/stderr
	umount -n "$R/hostdev" "$R/hostpts"

	# /run: the host's /tmp stays reachable under /run/nap-sandbox/host-tmp so
	# the harness can share test directories (SB_SHARES: paths below /tmp, one
	# a line) at their own path inside the machine's private /tmp.
	mount -n -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
	mkdir -p /run/systemd /run/nap-sandbox/host-tmp
	echo nap-sandbox > /run/systemd/container
	mount -n --bind /tmp /run/nap-sandbox/host-tmp
	mount -n --bind "$F/tmp" /tmp
	printf '%s\n' "$SB_SHARES" | while IFS= read -r s; do
		[ -n "$s" ] || continue
		mkdir -p "/tmp/$s"
		mount -n --bind "/run/nap-sandbox/host-tmp/$s" "/tmp/$s"
	done

	mount -n -t overlay -o "lowerdir=/etc,upperdir=$F/etc,workdir=$F/etc-work" overlay /etc
	for d in home root opt srv var/lib var/log var/tmp; do
		mount -n --bind "$F/$d" "/$d"
	done
	# the harness rewrites the hosts file in place as machines come and go
	mount -n --bind "$R/hosts" /etc/hosts

	hostname "$SB_HOSTNAME"
	ip link set lo up
	echo mounted >&4
	exec 4>&-
	IFS= read -r go <&3 || { echo "boot.sh: the harness went away" >&2; exit 1; }
	exec 3<&-
	[ "$go" = go ] || { echo "boot.sh: unexpected go-ahead" >&2; exit 1; }
	if [ -n "$SB_ADDR" ]; then
		ip addr add "$SB_ADDR" dev eth0
		ip link set eth0 up
	fi

	exec env -i container=nap-sandbox \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin \
		SYSTEMD_UNIT_PATH="$SB_UNIT_PATH" \
		SYSTEMD_GENERATOR_PATH="$R/empty" SYSTEMD_ENVIRONMENT_GENERATOR_PATH="$R/empty" \
		/lib/systemd/systemd --system --unit=nap-sandbox.target \
		--log-target=journal-or-kmsg --log-level=info --show-status=no --default-standard-output=journal
}

case "${1:-}" in
outer) outer ;;
inner) inner ;;
*) echo "usage: boot.sh outer|inner" >&2; exit 2 ;;
esac
