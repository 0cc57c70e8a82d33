#!/bin/sh
# The README's two commands, `make demo` then `make test`, run once each as a
# newcomer runs them: on a fresh Debian 12 with only git, gcc and make, in a
# private checkout.  Exits non-zero when either fails.
#
#   scripts/fresh-machine-check.sh [root|user|private]
#
#   root     (the default) a fresh bookworm root made by mmdebstrap (minbase with
#            git, gcc, make, ca-certificates, libc6-dev); the tree is copied into
#            a directory made there by mktemp -d (mode 0700) and both commands
#            run in it as root, through chroot, in a clean environment.
#   user     the same as a user with passwordless sudo (the root gets sudo too):
#            scripts/deps.sh installs through sudo.
#   private  no fresh root: the tree in a directory made by mktemp -d on this
#            machine, both commands run there as the calling user.
#
# What is checked is the committed tree (git archive HEAD): commit first.
# root and user need root on this machine (mmdebstrap, mounts, chroot) and
# install mmdebstrap with apt when it is missing.  This machine's trust store,
# /etc/npmrc and /etc/apt/apt.conf.d/ are copied into the root, so that apt and
# npm reach their registries the way they do here.  Whatever the outcome, the
# root (or the private directory) is removed at the end: what runs in the root
# is stopped, all under it is unmounted (/proc, /sys, /dev), and nothing is
# deleted while anything is still mounted there.
set -eu
mode=${1:-root}
case "$mode" in
root | user | private) ;;
*) echo "usage: $0 [root|user|private]" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
t0=$start

# step NAME: ends the previous step, printing its time, and names the next.
step() {
    now=$(date +%s)
    [ -z "${step_name:-}" ] || echo "== fresh-machine-check ($mode): $step_name: $((now - t0)) s"
    t0=$now
    step_name=$1
    [ -z "$step_name" ] || echo "== fresh-machine-check ($mode): $step_name"
}

ROOT=""
PRIV=""

# Every process whose root directory is the fresh root: the ones this script
# started in it.  Left running, they keep its mounts busy.
in_root_pids() {
    for p in /proc/[0-9]*; do
        if [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ]; then echo "${p#/proc/}"; fi
    done
}
kill_in_root() {
    for pid in $(in_root_pids); do kill -KILL "$pid" 2>/dev/null; done
    n=0
    while [ -n "$(in_root_pids)" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
}

# Mount points at or under the fresh root.
mounted_in_root() {
    findmnt -rn -o TARGET | awk -v r="$ROOT" '$0 == r || index($0, r "/") == 1'
}

cleanup() {
    if [ -n "$PRIV" ]; then
        rm -rf --one-file-system "$PRIV"
    fi
    [ -n "$ROOT" ] && [ -d "$ROOT" ] || return 0
    kill_in_root
    # /proc, /sys, /dev and what a test may have left mounted: deepest first
    for m in $(mounted_in_root | sort -r); do
        umount -R "$m" || echo "fresh-machine-check: cannot unmount $m" >&2
    done
    if [ -n "$(mounted_in_root)" ]; then
        echo "fresh-machine-check: still mounted, so $ROOT is left in place:" >&2
        mounted_in_root >&2
        return 1
    fi
    rm -rf --one-file-system "$ROOT"
}
on_exit() {
    rc=$?
    step ""
    cleanup || rc=1
    if [ $rc -eq 0 ]; then
        echo "== fresh-machine-check ($mode): passed in $(($(date +%s) - start)) s"
    else
        echo "== fresh-machine-check ($mode): FAILED (exit $rc) after $(($(date +%s) - start)) s"
    fi
    exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- private: this machine, a private directory ------------------------------------------
if [ "$mode" = private ]; then
    step "copy the committed tree into a private directory"
    PRIV=$(mktemp -d)
    mkdir "$PRIV/hedgehog"
    git -C "$repo" archive --format=tar HEAD | tar -x -C "$PRIV/hedgehog"
    echo "checkout: $PRIV/hedgehog ($(stat -c %a "$PRIV"))"
    step "make demo"
    (cd "$PRIV/hedgehog" && make demo)
    step "make test"
    (cd "$PRIV/hedgehog" && make test)
    exit 0
fi

# ---- root and user: a fresh Debian 12 root ----------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
    echo "fresh-machine-check: '$mode' needs root (mmdebstrap, mounts, chroot); 'private' does not" >&2
    exit 2
fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
    step "install mmdebstrap"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
fi

step "fresh bookworm root (mmdebstrap)"
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/hh-fresh.XXXXXX")
include=git,gcc,make,ca-certificates,libc6-dev
if [ "$mode" = user ]; then include=$include,sudo; fi
mmdebstrap --quiet --variant=minbase --include="$include" bookworm "$ROOT"

step "network configuration and mounts"
for c in /usr/local/share/ca-certificates/*; do
    if [ -e "$c" ]; then cp -r "$c" "$ROOT/usr/local/share/ca-certificates/"; fi
done
cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/"
[ ! -f /etc/npmrc ] || cp /etc/npmrc "$ROOT/etc/"
cp -r /etc/apt/apt.conf.d/. "$ROOT/etc/apt/apt.conf.d/"
# as an installed system has it (else sudo warns it cannot resolve the host name)
printf '127.0.1.1\t%s\n' "$(uname -n)" >> "$ROOT/etc/hosts"
mount -t proc proc "$ROOT/proc"
# rslave: unmounting them later never reaches this machine's own /sys and /dev
mount --rbind /sys "$ROOT/sys" && mount --make-rslave "$ROOT/sys"
mount --rbind /dev "$ROOT/dev" && mount --make-rslave "$ROOT/dev"

PATH_IN=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME_IN=/root
AS=""
if [ "$mode" = user ]; then
    step "a user with passwordless sudo"
    chroot "$ROOT" useradd --create-home --shell /bin/bash newcomer
    echo "newcomer ALL=(ALL:ALL) NOPASSWD: ALL" > "$ROOT/etc/sudoers.d/newcomer"
    chmod 0440 "$ROOT/etc/sudoers.d/newcomer"
    PATH_IN=/usr/local/bin:/usr/bin:/bin
    HOME_IN=/home/newcomer
    AS="runuser -u newcomer --"
fi

# in_root SCRIPT [ARG...]: sh -c SCRIPT in the root, as root or the user, with only
# the environment a login there has (and Node.js trusting this network's CAs).
in_root() {
    script=$1; shift
    # shellcheck disable=SC2086
    chroot "$ROOT" $AS /usr/bin/env -i HOME="$HOME_IN" PATH="$PATH_IN" \
        NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
        /bin/sh -c "$script" sh "$@"
}

step "copy the committed tree into a private directory"
dir=$(git -C "$repo" archive --format=tar HEAD |
      in_root 'd=$(mktemp -d) && mkdir "$d/hedgehog" && tar -x -C "$d/hedgehog" && echo "$d"')
in_root 'echo "checkout: $1/hedgehog as $(id -un) ($(stat -c %a "$1"))"' "$dir"

step "make demo"
in_root 'cd "$1/hedgehog" && make demo' "$dir"
step "make test"
in_root 'cd "$1/hedgehog" && make test' "$dir"
