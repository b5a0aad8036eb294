#!/usr/bin/env bash
# The gateway tests (tests/gateway): omega-gate in front of real MCP servers and A2A agents, driven by the official
# MCP and A2A SDK clients under Node's test runner. Installs the pinned npm packages when they are missing.
# Usage: check-gateway.sh BUILD_DIR SOURCE_DIR
set -u
if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd) || { echo "check-gateway: no build directory $1" >&2; exit 1; }
dir="$2/tests/gateway"

# Never pass without running: a missing Node is a failure with the reason, not a skip.
if ! command -v node > /dev/null; then
    echo "check-gateway: node is not installed; the gateway tests need Node.js 18 or newer (and npm)" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
    echo "check-gateway: node $(node --version) is too old; the gateway tests need Node.js 18 or newer" >&2
    exit 1
fi
for binary in runtime/gate/omega-gate compiler/tools/omegac/omegac; do
    [ -x "$build/$binary" ] || { echo "check-gateway: $build/$binary is not built" >&2; exit 1; }
done

cd "$dir" || exit 1
if [ ! -d node_modules ]; then
    command -v npm > /dev/null || { echo "check-gateway: npm is needed to install tests/gateway/node_modules" >&2; exit 1; }
    echo "check-gateway: installing the pinned packages (npm ci)"
    npm ci --no-audit --no-fund || { echo "check-gateway: npm ci failed" >&2; exit 1; }
fi
# In a sanitizer build the gates and omegac report into files, not onto the stderr the tests keep or drop: any report
# fails the run, leaks found when a gate exits after SIGTERM included.
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$reports/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$reports/ubsan"
OMEGA_BUILD=$build npm test
status=$?
if [ -n "$(ls -A "$reports")" ]; then
    echo "check-gateway: sanitizer reports:" >&2
    cat "$reports"/* >&2
    status=1
fi
exit $status
