#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debootstrap-check.sh [--keep] [--root DIR] [COMMAND...]
#
# Prove that the README's commands set everything up on a stock Debian 12:
# build a new root with `debootstrap --variant=minbase bookworm`, give it the
# sources of a standard install (bookworm, bookworm-updates,
# bookworm-security), install git and make and nothing else, clone this
# checkout's committed HEAD into it and run COMMAND there, by default
# `make check` (`make check && make run` runs both).  Prints each phase
# with its wall time.  Runs as root (debootstrap, chroot, mounts); not part
# of make check (`make check-debian` runs it).
#
# The root, and the build cache inside it (/root/.cache/kvm-coalesced-pio
# there, a cold build), live in DIR, default $KCP_CACHE/debootstrap/root;
# an old one is removed first.  The mounts inside it (proc, sys, an rbind
# of /dev) are always undone on exit.  On success the root is removed
# (its console logs are kept beside it) unless --keep; on failure it is
# kept for a look (chroot DIR).  Needs network to Debian's mirror,
# crates.io and about 15 GB in DIR.  The root gets this machine's
# resolv.conf and its own CA certificates of /usr/local/share/ca-certificates
# (a network whose proxy inspects TLS needs them for crates.io).

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/versions.mk"
. "$here/lib.sh"

keep=0
root=$KCP_CACHE/debootstrap/root
while [ $# -gt 0 ]; do
	case "$1" in
	--keep) keep=1; shift ;;
	--root) root=${2:?--root DIR}; shift 2 ;;
	-h | --help) sed -n '4,21s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) die "usage: debootstrap-check.sh [--keep] [--root DIR] [COMMAND...]" ;;
	*) break ;;
	esac
done
command=${*:-make check}
[ "$(id -u)" = 0 ] || die "debootstrap-check.sh needs root (debootstrap, chroot, mount)"
mkdir -p "$root"
root=$(cd "$root" && pwd -P)
[ "$root" != / ] || die "--root / would be the host itself"
mirror=http://deb.debian.org/debian
t0=$(date +%s)
phase() {
	printf '=== [%5ss] %s\n' "$(($(date +%s) - t0))" "$*"
}

# Anything mounted under the root (or at it)?
mounted_under() {
	awk -v r="$root" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts
}

cleanup() {
	local rc=$? p m
	# An interrupted run leaves processes inside the root: end them, by id.
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null
	done
	for m in dev sys proc; do
		if mountpoint -q "$root/$m"; then
			umount -R "$root/$m" 2>/dev/null || umount -R -l "$root/$m"
		fi
	done
	m=$(mounted_under)
	[ -z "$m" ] || echo "warning: still mounted: $m" >&2
	if [ $rc = 0 ] && [ $keep = 0 ] && [ -z "$m" ]; then
		rm -rf --one-file-system "$root"
	elif [ -d "$root" ]; then
		echo "the Debian root is kept in $root (chroot $root bash)"
	fi
	phase "finished with status $rc"
	exit $rc
}

head=$(git -C "$top" rev-parse HEAD)
if [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
	echo "note: $top has uncommitted changes; they are not part of this check (HEAD only)"
fi
phase "Debian 12 check of $(git -C "$top" log -1 --format='%h %s' "$head"), in $root: $command"

if ! command -v debootstrap >/dev/null; then
	phase "apt-get install debootstrap=$DEBOOTSTRAP_VERSION"
	apt-get -q -o DPkg::Lock::Timeout=600 update >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 install -y \
		--no-install-recommends --no-remove "debootstrap=$DEBOOTSTRAP_VERSION" >/dev/null
fi

# A new root: never remove one with something still mounted in it.
[ -z "$(mounted_under)" ] || die "something is mounted under $root: $(mounted_under | tr '\n' ' ')"
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf --one-file-system "$root"
mkdir -p "$root"
log=$root.debootstrap.log
phase "debootstrap --variant=minbase bookworm (log: $log)"
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$log" 2>&1; then
	tail -20 "$log"
	die "debootstrap failed, log: $log"
fi
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The site's own CA certificates (a TLS-inspecting proxy's, say), which
# this machine trusts for crates.io: the root's ca-certificates picks them
# up when set-up installs it.  Nothing else of this machine goes in.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
	mkdir -p "$root/usr/local/share/ca-certificates"
	cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
	echo "the site's CA certificates: $(cd /usr/local/share/ca-certificates && echo *.crt)"
fi

mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"

# The root's own environment, not this one's (PATH, pyenv, rustup...).
in_root() {
	chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive \
		${KCP_TIMEOUT:+KCP_TIMEOUT=$KCP_TIMEOUT} \
		${http_proxy:+http_proxy=$http_proxy} ${https_proxy:+https_proxy=$https_proxy} \
		bash -c "$1"
}

phase "apt-get install git make (nothing else)"
in_root 'apt-get -q update >/dev/null && apt-get -q install -y --no-install-recommends git make >/dev/null'
echo "packages in the root: $(in_root 'dpkg-query -W | wc -l')"

phase "git clone $top ($head) into /root/kvm-coalesced-pio"
git clone -q --no-hardlinks "$top" "$root/root/kvm-coalesced-pio"
git -C "$root/root/kvm-coalesced-pio" checkout -q --detach "$head"

phase "$command (in the root, /root/kvm-coalesced-pio)"
t1=$(date +%s)
set +e
in_root "cd /root/kvm-coalesced-pio && $command"
rc=$?
set -e
t2=$(date +%s)
cache=$root/root/.cache/kvm-coalesced-pio
if [ -d "$cache/logs" ]; then
	mkdir -p "$root.logs"
	cp -a "$cache/logs/." "$root.logs/"
	echo "console logs copied to $root.logs/"
fi
echo "$command: status $rc after $((t2 - t1))s; cache $(du -sh "$cache" 2>/dev/null | cut -f1), root $(du -sh --one-file-system "$root" | cut -f1)"
[ $rc = 0 ] || die "'$command' failed in the Debian root (status $rc)"
phase "a stock Debian 12 root with git and make went to a green '$command' in $(($(date +%s) - t0))s"
