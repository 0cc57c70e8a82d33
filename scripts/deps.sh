#!/bin/sh
# Install the Debian packages hedgehog needs to build, test and run its demo.
# Idempotent: only what is missing is installed; a quick no-op otherwise.
# Front-end libraries for the HTML report come from npm (package.json and its
# lock file) and land in node_modules/, never committed.
set -eu

BUILD_PKGS="gcc make pkg-config libjson-c-dev libyaml-dev libsqlite3-dev libssl-dev \
            libmicrohttpd-dev libcurl4-openssl-dev libwebsockets-dev librdkafka-dev"
TEST_PKGS="libcmocka-dev clang libclang-rt-14-dev sqlite3 chromium nodejs npm prometheus wrk curl \
           openssl kcat"

missing=""
for p in $BUILD_PKGS $TEST_PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

# A machine may carry Node.js and npm outside Debian's packages; accept those.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    missing=$(echo "$missing" | tr ' ' '\n' | grep -vx -e nodejs -e npm | tr '\n' ' ' || true)
fi
missing=$(echo "$missing" | xargs 2>/dev/null || true)

if [ -n "$missing" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "deps: missing Debian packages: $missing; install them as root" \
                 "(apt-get install $missing), or install sudo" >&2
            exit 1
        fi
        SUDO="sudo"
    fi
    echo "deps: installing Debian packages: $missing" >&2
    # env: sudo does not pass the caller's environment on
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# npm packages for the report (lightweight-charts), pinned by package-lock.json.
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$root/package.json" ]; then
    if [ ! -d "$root/node_modules" ] || [ "$root/package-lock.json" -nt "$root/node_modules" ]; then
        echo "deps: installing npm packages (npm ci)" >&2
        (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
        touch "$root/node_modules"
    fi
fi
