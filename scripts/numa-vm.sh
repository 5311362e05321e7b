#!/usr/bin/env bash
# Runs static test programs in a qemu VM (TCG) with emulated NUMA nodes, so
# the multi-node tests of libpgcache run on a real multi-node kernel although
# the build machines have one node. ctest calls it (cmake/pgcacheVmTests.cmake).
#
#   bash scripts/numa-vm.sh --topology 2node|4node [--timeout SECS]
#        [--env NAME=VALUE]... -- BINARY [BINARY...]
#
# 2node: 2 CPUs; nodes 0 and 1 with a CPU and 512M each. 4node: the same plus
# nodes 2 and 3, 512M and no CPU (a far tier); distances 10 local, 20 for 0-1
# and 2-3, 30 from 0/1 to 2/3. The static binaries (pgc_add_static_test) go
# into an initramfs with busybox-static, whose init runs each in /tmp and
# writes `PGC-VM-RESULT <name> rc=<n>` to the console and to a second serial
# port that the kernel never writes to, so its messages cannot garble results.
# The VM sees PGC_VM_TOPOLOGY, PGC_VM_NODES and CK_DEFAULT_TIMEOUT=600 (for
# test cases without a limit of their own; --env CK_TIMEOUT_MULTIPLIER=<n>
# scales the others); --env overrides. --timeout (default 1200 s) bounds the
# whole VM run. Kernel: the newest /boot/vmlinuz-* or $PGC_VM_KERNEL;
# PGC_VM_KEEP=1 keeps the temp dir; PGC_VM_ACCEL=kvm|tcg picks the
# accelerator (default: KVM if a probe boot shows it works, see below). Exit status 0 if every binary reported
# rc=0; 1 on a failure, a timeout or a missing tool (never 77: CI installs
# them, see scripts/setup.sh); 2 on bad usage.
# shellcheck disable=SC2028,SC2054,SC2317 # escapes are for the init script,
# commas are inside qemu arguments, cleanup is a trap
set -euo pipefail

prog=pgc-numa-vm

usage() {
	echo "usage: bash scripts/numa-vm.sh --topology 2node|4node [--timeout SECS]" \
		"[--env NAME=VALUE]... -- BINARY [BINARY...]" >&2
	exit 2
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

# --- Arguments ---------------------------------------------------------------

topology=
# Twice Check's longest limit, so that Check, not the VM timeout, names a
# test that hangs.
vm_timeout=1200
user_env=()
while (($#)); do
	case $1 in
	--topology)
		(($# >= 2)) || usage
		topology=$2
		shift 2
		;;
	--timeout)
		(($# >= 2)) || usage
		vm_timeout=$2
		shift 2
		;;
	--env)
		(($# >= 2)) || usage
		[[ $2 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] ||
			{ echo "$prog: --env wants NAME=VALUE, got '$2'" >&2; usage; }
		user_env+=("$2")
		shift 2
		;;
	--)
		shift
		break
		;;
	*)
		echo "$prog: unknown argument '$1'" >&2
		usage
		;;
	esac
done
binaries=("$@")
((${#binaries[@]})) || { echo "$prog: no binary given" >&2; usage; }
[[ $vm_timeout =~ ^[1-9][0-9]*$ ]] || { echo "$prog: bad --timeout '$vm_timeout'" >&2; usage; }

mem_args=()
case $topology in
2node)
	nodes=2
	mem_args=(-smp 2 -m 1024
		-object memory-backend-ram,size=512M,id=m0
		-object memory-backend-ram,size=512M,id=m1
		-numa node,nodeid=0,cpus=0,memdev=m0
		-numa node,nodeid=1,cpus=1,memdev=m1
		-numa dist,src=0,dst=1,val=20)
	;;
4node)
	nodes=4
	mem_args=(-smp 2 -m 2048
		-object memory-backend-ram,size=512M,id=m0
		-object memory-backend-ram,size=512M,id=m1
		-object memory-backend-ram,size=512M,id=m2
		-object memory-backend-ram,size=512M,id=m3
		-numa node,nodeid=0,cpus=0,memdev=m0
		-numa node,nodeid=1,cpus=1,memdev=m1
		-numa node,nodeid=2,memdev=m2
		-numa node,nodeid=3,memdev=m3
		-numa dist,src=0,dst=1,val=20
		-numa dist,src=0,dst=2,val=30
		-numa dist,src=0,dst=3,val=30
		-numa dist,src=1,dst=2,val=30
		-numa dist,src=1,dst=3,val=30
		-numa dist,src=2,dst=3,val=20)
	;;
*)
	echo "$prog: --topology must be 2node or 4node, got '$topology'" >&2
	usage
	;;
esac

# --- Tools ---------------------------------------------------------------------
#
# Everything missing is listed at once, with the Debian package to install.

missing=()
qemu=$(command -v qemu-system-x86_64 || true)
[[ -n $qemu ]] || missing+=("qemu-system-x86_64 (Debian package qemu-system-x86)")

kernel=${PGC_VM_KERNEL:-}
if [[ -z $kernel ]]; then
	kernels=(/boot/vmlinuz-*)
	[[ ! -e ${kernels[0]} ]] || kernel=$(printf '%s\n' "${kernels[@]}" | sort -V | tail -n 1)
fi
if [[ -z $kernel ]]; then
	missing+=("a kernel image /boot/vmlinuz-* (Debian package linux-image-amd64)")
elif [[ ! -e $kernel ]]; then
	missing+=("the kernel image $kernel (PGC_VM_KERNEL)")
elif [[ ! -r $kernel ]]; then
	missing+=("read access to the kernel image $kernel (run as root or chmod a+r it)")
fi

busybox=
for b in /bin/busybox /usr/bin/busybox /usr/lib/busybox/busybox; do
	[[ -x $b ]] && { busybox=$b; break; }
done
if [[ -z $busybox ]]; then
	missing+=("busybox (Debian package busybox-static)")
elif command -v readelf >/dev/null 2>&1 && readelf -l "$busybox" 2>/dev/null | grep -q INTERP; then
	missing+=("a static busybox: $busybox is dynamically linked (Debian package busybox-static)")
fi

for t in cpio gzip timeout; do
	command -v "$t" >/dev/null 2>&1 || missing+=("$t (Debian package ${t/timeout/coreutils})")
done

if ((${#missing[@]})); then
	echo "$prog: cannot run the NUMA VM tests; missing:" >&2
	printf '  - %s\n' "${missing[@]}" >&2
	echo "$prog: install with: apt-get install --no-install-recommends" \
		"qemu-system-x86 linux-image-amd64 busybox-static cpio" \
		"(scripts/setup.sh does this)" >&2
	exit 1
fi

# --- The binaries --------------------------------------------------------------

names=()
for b in "${binaries[@]}"; do
	[[ -f $b && -x $b ]] || die "not an executable file: $b"
	name=${b##*/}
	[[ $name =~ ^[A-Za-z0-9._+-]+$ ]] || die "unsupported characters in the name of $b"
	for n in "${names[@]}"; do
		[[ $n != "$name" ]] || die "two binaries named $name"
	done
	# A dynamic program would fail inside the VM with a bare "not found".
	if command -v readelf >/dev/null 2>&1 && readelf -l "$b" 2>/dev/null | grep -q INTERP; then
		die "$b is dynamically linked; build it with pgc_add_static_test"
	fi
	names+=("$name")
done

# --- The initramfs -------------------------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgc-numa-vm.XXXXXX")
vm_pid=
cleanup() {
	# timeout passes the signal on to qemu (and kills it 10 s later if need
	# be); then the pipeline that runs it ends.
	if [[ -s $tmp/timeout.pid ]]; then
		kill -TERM "$(cat "$tmp/timeout.pid")" 2>/dev/null || true
		[[ -z $vm_pid ]] || wait "$vm_pid" 2>/dev/null || true
	fi
	if [[ -n ${PGC_VM_KEEP:-} ]]; then
		echo "$prog: kept $tmp (PGC_VM_KEEP)"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

root=$tmp/root
mkdir -p "$root"/{bin,proc,sys,dev,tmp}
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for i in "${!binaries[@]}"; do
	cp "${binaries[$i]}" "$root/bin/${names[$i]}"
done

# Single-quotes a value for the init script.
shquote() {
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}

{
	echo '#!/bin/busybox sh'
	echo '# Generated by scripts/numa-vm.sh.'
	echo '/bin/busybox --install -s /bin'
	echo 'export PATH=/bin'
	echo 'mount -t proc proc /proc'
	echo 'mount -t sysfs sys /sys'
	echo 'mount -t devtmpfs dev /dev'
	# Automatic NUMA balancing samples pages by unmapping them: move_pages(2)
	# then answers -ENOENT for such a page, and the kernel may move memory on
	# its own. Placement tests need the nodes to change only when asked.
	echo 'echo 0 > /proc/sys/kernel/numa_balancing 2>/dev/null'
	# fd 3: the result channel, the second serial port. The kernel's console
	# is ttyS0 only, so nothing else writes there.
	echo 'exec 3>/dev/ttyS1 || exec 3>/dev/console'
	echo 'report() { printf "\n%s\n" "$*"; printf "%s\n" "$*" >&3; }'
	echo "export PGC_VM_TOPOLOGY=$topology PGC_VM_NODES=$nodes"
	# Only for test cases that set no limit of their own.
	echo 'export CK_DEFAULT_TIMEOUT=600'
	for e in "${user_env[@]}"; do
		echo "export ${e%%=*}=$(shquote "${e#*=}")"
	done
	echo 'cd /tmp'
	echo 'report PGC-VM-BEGIN'
	for n in "${names[@]}"; do
		echo "printf '\\n=== %s: running %s\\n' '$prog' '$n'"
		echo "/bin/$n; report PGC-VM-RESULT $n rc=\$?"
	done
	echo 'report PGC-VM-END'
	echo 'poweroff -f'
} >"$root/init"
chmod 755 "$root/init"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/initramfs.gz" ||
	die "could not build the initramfs"

# --- Boot ----------------------------------------------------------------------

# KVM when it works, else TCG. A writable /dev/kvm is not enough: on some
# machines of this kind (nested virtualisation, qemu warning that the host
# lacks CPUID.01H:ECX.pni) a KVM guest spins at 100% and never prints a line
# of its kernel, while the same kernel boots under TCG in seconds. So the
# kernel is booted once under KVM with no initramfs (it panics at once, and
# panic=-1 with -no-reboot ends qemu): KVM is used only if the kernel's
# first line appears within 15 s. The answer is kept per boot of the host
# (in $TMPDIR), so the VM tests of one run probe once. PGC_VM_ACCEL=kvm or
# tcg skips the probe.
kvm_works() {
	local boot_id cache out pid i
	boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
	cache="${TMPDIR:-/tmp}/pgc-numa-vm-kvm.$boot_id.$(basename "$kernel")"
	if [[ -f $cache ]]; then
		[[ $(cat "$cache") == yes ]]
		return
	fi
	out=$(mktemp "${TMPDIR:-/tmp}/pgc-numa-vm-probe.XXXXXX")
	"$qemu" -nodefaults -nographic -no-reboot -accel kvm -m 256 -serial "file:$out" \
		-kernel "$kernel" -append "console=ttyS0 panic=-1" >/dev/null 2>&1 &
	pid=$!
	local ok=no
	for ((i = 0; i < 75; i++)); do
		if grep -q "Linux version" "$out" 2>/dev/null; then
			ok=yes
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$out"
	echo "$ok" >"$cache.$$" && mv -f "$cache.$$" "$cache"
	[[ $ok == yes ]]
}

case ${PGC_VM_ACCEL:-} in
kvm) accel=(-accel kvm) ;;
tcg) accel=(-accel tcg) ;;
'')
	accel=(-accel tcg)
	if [[ -w /dev/kvm ]]; then
		if kvm_works; then
			accel=(-accel kvm)
		else
			echo "$prog: /dev/kvm is there but a KVM guest printed nothing in 15 s: using TCG"
		fi
	fi
	;;
*) die "PGC_VM_ACCEL must be kvm or tcg, got '$PGC_VM_ACCEL'" ;;
esac

echo "$prog: topology $topology, kernel $kernel, timeout ${vm_timeout}s: ${names[*]}"
start=$SECONDS
# The console (ttyS0) goes to console.log and, through a filter that drops
# the firmware's terminal control sequences (a screen reset, line wrap off),
# to our stdout; ttyS1 goes to results.
(
	timeout --kill-after=10 "$vm_timeout" "$qemu" \
		-nodefaults -nographic -no-reboot "${accel[@]}" \
		-chardev "stdio,id=con,logfile=$tmp/console.log,signal=off" \
		-serial chardev:con \
		-chardev "file,id=res,path=$tmp/results" \
		-serial chardev:res \
		"${mem_args[@]}" \
		-kernel "$kernel" -initrd "$tmp/initramfs.gz" \
		-append "console=ttyS0 quiet panic=-1" </dev/null 2>&1 &
	echo $! >"$tmp/timeout.pid"
	r=0
	wait $! || r=$?
	echo "$r" >"$tmp/qemu.rc"
) | sed -u -e 's/\x1b\(\[[0-9;?]*[A-Za-z]\|c\)//g' -e 's/\r$//' &
vm_pid=$!
wait "$vm_pid" || true
rc=$(cat "$tmp/qemu.rc" 2>/dev/null || echo 1)
rm -f "$tmp/timeout.pid"
elapsed=$((SECONDS - start))
echo

# --- Verdict -------------------------------------------------------------------

results=$tmp/results
if ! grep -q '^PGC-VM-BEGIN' "$results" 2>/dev/null; then
	# ttyS1 was not usable: fall back to the markers on the console.
	results=$tmp/console.log
fi

status=0
for n in "${names[@]}"; do
	line=$(tr -d '\r' <"$results" 2>/dev/null |
		grep -E "PGC-VM-RESULT $n rc=[0-9]+\$" | tail -n 1 || true)
	if [[ $line =~ rc=([0-9]+)$ ]]; then
		r=${BASH_REMATCH[1]}
		if ((r == 0)); then
			echo "$prog: $n: passed"
		else
			echo "$prog: $n: FAILED (exit status $r)"
			status=1
		fi
	else
		if ((rc == 124 || rc == 137)); then
			echo "$prog: $n: NO RESULT: the VM timed out after ${vm_timeout}s"
		elif grep -q 'Kernel panic' "$tmp/console.log" 2>/dev/null; then
			echo "$prog: $n: NO RESULT: the kernel panicked"
		elif ((rc != 0)); then
			echo "$prog: $n: NO RESULT: qemu exited with status $rc"
		else
			echo "$prog: $n: NO RESULT: the VM never reported it"
		fi
		status=1
	fi
done
if ((status == 0)) && ! grep -q '^PGC-VM-END' "$results"; then
	echo "$prog: the VM did not reach the end of its init script"
	status=1
fi

if ((status == 0)); then
	echo "$prog: PASS: ${#names[@]} binaries on $topology in ${elapsed}s"
else
	echo "$prog: FAIL on $topology after ${elapsed}s (qemu status $rc)"
fi
exit "$status"
