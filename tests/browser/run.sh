#!/bin/sh
# run.sh — runs the browser tests (tests/browser/*.test.mjs, or the files
# given) in a private network namespace that holds only loopback, so neither
# Chromium nor tribune can reach, or be reached from, any other network.
#   tests/browser/run.sh                       every browser test
#   tests/browser/run.sh harness.test.mjs      one file (relative to here)
#   NODE_TEST_ARGS="--test-reporter=spec" tests/browser/run.sh
#   TRIBUNE_BIN=/tmp/tribune tests/browser/run.sh   another binary than build/tribune
# Needs: chromium, sox, iproute2, nftables (ice_tcp.test.mjs), and for
# aiortc.test.mjs python3-aiortc, python3-protobuf, protobuf-compiler,
# python3-websockets, python3-numpy (all: scripts/install-deps --test), the
# npm packages (npm ci here, done before entering the namespace, which has no
# network), and the right to make a network namespace (root, or else
# unprivileged user namespaces: then it runs under `unshare -r -n`).
# Bounds: 90 s per test, 600 s for the whole run.
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --silent --no-audit --no-fund >/dev/null
  touch node_modules
fi
# the debate room page (web/, served at /app/ in web_page.test.mjs): its npm
# packages and bundle are made here too, the namespace has no network
make -s -C ../.. web >/dev/null
[ $# -gt 0 ] || set -- *.test.mjs
for tool in "${CHROMIUM_BIN:-/usr/bin/chromium}" sox ip; do
  command -v "$tool" >/dev/null ||
    { echo "run.sh: $tool is missing (scripts/install-deps --test)" >&2; exit 2; }
done
ns="unshare -n"
[ "$(id -u)" = 0 ] || ns="unshare -r -n"
# shellcheck disable=SC2086
exec timeout 600 $ns sh -c 'ip link set lo up && exec node --test --test-concurrency=1 \
  --test-timeout=90000 ${NODE_TEST_ARGS:-} "$@"' run.sh "$@"
