#!/usr/bin/env bash
# Set-up on a fresh Debian 12 machine: installs what is missing (apt-get), configures and builds Omega, then runs
# `omegac check` on the bundled multi-principal clinic example. Run as root (or with sudo available).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${OMEGA_BUILD_DIR:-"$root/build"}

packages=(build-essential cmake ninja-build python3 antlr4 libantlr4-runtime-dev libcli11-dev libgtest-dev
          libbenchmark-dev llvm-14-tools llvm-14 clang-14 libclang-rt-14-dev lld libssl-dev
          nlohmann-json3-dev libz3-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js and npm run the gateway's tests with MCP and A2A software from npm (tests/gateway, exact versions in its
# package-lock.json). Debian's packages when the machine has no Node.js of its own.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "setup: installing nodejs npm"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if [ ! -d "$root/tests/gateway/node_modules" ] ||
   [ "$root/tests/gateway/package-lock.json" -nt "$root/tests/gateway/node_modules/.package-lock.json" ]; then
    echo "setup: npm ci in tests/gateway"
    (cd "$root/tests/gateway" && npm ci --no-audit --no-fund --loglevel=error)
fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build"

echo
echo "setup: omegac check examples/clinic/*.omega"
"$build/compiler/tools/omegac/omegac" check "$root"/examples/clinic/*.omega
echo "setup: omegac test examples/clinic/*.omega"
"$build/compiler/tools/omegac/omegac" test "$root"/examples/clinic/*.omega
echo "setup: omegac compile examples/clinic/clinic.omega -o $build/clinic.omb"
"$build/compiler/tools/omegac/omegac" compile "$root"/examples/clinic/clinic.omega -o "$build/clinic.omb"
echo "setup: omegac eval --bundle $build/clinic.omb (a triage agent reads a chart for treatment)"
echo '{"action":"tool","target":"ehr.lookup_patient","agent":"triage","args":{"mrn":"p-1042","sections":["vitals"]},"request":{"purpose":"treatment"},"tool":{"server":"ehr","description_changed":false}}' |
    "$build/compiler/tools/omegac/omegac" eval --bundle "$build/clinic.omb" --request -
