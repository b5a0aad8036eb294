#!/usr/bin/env bash
# The whole test suite: unit tests, lit golden tests and the bundled-policy check, first in the normal build and
# then under AddressSanitizer + UndefinedBehaviorSanitizer (clang), then a bounded run of every libFuzzer target
# from that same sanitizer build.
# Run scripts/setup.sh first on a fresh machine. Exits non-zero if anything fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

run_suite() {
    local build=$1
    shift
    cmake -S "$root" -B "$build" -G Ninja "$@" >/dev/null
    cmake --build "$build"
    ctest --test-dir "$build" --output-on-failure -j "$jobs"
}

echo "== test: normal build"
run_suite "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo

echo "== test: AddressSanitizer + UndefinedBehaviorSanitizer (clang), with the libFuzzer targets"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The generated-policy tests repeat one code path over many programs: fewer programs under the sanitizers keep the
# suite's time in bounds and still run every code path of the tests; the normal build runs them all. The analysis
# tests are mostly Z3 time, which the sanitizers do not instrument but slow down several times (Z3 allocates through
# ASan's allocator): 60 of analysis_gen_test's 1200 programs and 30 of diff_test's 120 generated programs here, and
# analysis_bundled (Z3 on the bundled policies) runs in the normal build only (tests/CMakeLists.txt).
export OMEGA_ANALYSIS_PROGRAMS=${OMEGA_ANALYSIS_PROGRAMS:-60}
export OMEGA_DIFF_PROGRAMS=${OMEGA_DIFF_PROGRAMS:-30}
export OMEGA_GEN_PROGRAMS=${OMEGA_GEN_PROGRAMS:-300}
export OMEGA_DIFF_CASES=${OMEGA_DIFF_CASES:-30000}
# One clang build for the sanitizer tests and the fuzzers (-DOMEGA_FUZZ=ON: the libraries carry libFuzzer's coverage
# instrumentation, the tests do not): clang compiles the sanitized tests about twice as fast as GCC, and the third
# build the fuzzers had of their own is gone. Assertions on (no NDEBUG), -O0 with line tables (-g1: every report
# still carries file:line), linked by lld. Measured on the 2-core machine: -O1 doubles the compile time of a file.
clangxx=$(command -v clang++-14 || command -v clang++)
# A build-asan/ of GCC's (before this script used clang) is configured afresh: CMake cannot switch compilers in place.
if [ -f "$root/build-asan/CMakeCache.txt" ] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang' "$root/build-asan/CMakeCache.txt"
then
    echo "test: build-asan was configured with another compiler; configuring it afresh"
    rm -rf "$root/build-asan/CMakeCache.txt" "$root/build-asan/CMakeFiles"
fi
run_suite "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O0 -g1" \
    -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DCMAKE_C_COMPILER="${clangxx/clang++/clang}" -DCMAKE_CXX_COMPILER="$clangxx" \
    -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld \
    -DOMEGA_SANITIZE=ON -DOMEGA_FUZZ=ON -DOMEGA_BENCHMARKS=OFF

echo "== test: fuzzing (bounded), the sanitizer build's fuzzers"
OMEGA_FUZZ_BUILD_DIR="$root/build-asan" "$root/scripts/fuzz.sh" "${OMEGA_FUZZ_SECONDS:-15}"
echo "== test: all passed"
