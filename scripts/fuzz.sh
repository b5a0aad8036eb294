#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time over its seed corpus:
# the parser over the bundled policies, the request decoder over tests/fuzz/seeds/request, and the bundle loader
# when it is built. Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
# Environment: OMEGA_FUZZ_BUILD_DIR, a build tree already configured with -DOMEGA_FUZZ=ON to take the fuzzers from
# (scripts/test.sh passes its sanitizer build, Debug -O0); without it, build-fuzz (RelWithDebInfo, so more executions
# per second: the choice for long runs). OMEGA_FUZZ_JOBS: fuzzers run at once (default: the number of CPUs); each
# still gets SECONDS_PER_TARGET, the whole run takes about SECONDS_PER_TARGET x targets / jobs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
jobs=${OMEGA_FUZZ_JOBS:-$(nproc)}
build=${OMEGA_FUZZ_BUILD_DIR:-"$root/build-fuzz"}
if [ -n "${OMEGA_FUZZ_BUILD_DIR:-}" ]; then
    if ! grep -q '^OMEGA_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
        echo "fuzz: $build is not a build tree configured with -DOMEGA_FUZZ=ON" >&2
        exit 1
    fi
else
    clangxx=$(command -v clang++-14 || command -v clang++ || true)
    if [ -z "$clangxx" ]; then
        echo "fuzz: clang++ not found; skipping the fuzzers" >&2
        exit 0
    fi
    clangc=${clangxx/clang++/clang}
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$clangc" \
        -DCMAKE_CXX_COMPILER="$clangxx" -DOMEGA_FUZZ=ON -DOMEGA_TESTS=OFF -DOMEGA_BENCHMARKS=OFF >/dev/null
fi
targets=$(ninja -C "$build" -t targets all | grep -oE '^[a-z_]+_fuzzer(:| )' | tr -d ': ' | sort -u)
cmake --build "$build" --target $targets

# Up to $jobs fuzzers run at once, each into its own log; the logs are printed whole, in the order the runs started.
pids=()
names=()
failed=()
finish_oldest() {
    local pid=${pids[0]} name=${names[0]}
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
    if wait "$pid"; then
        cat "$build/$name.log"
    else
        cat "$build/$name.log"
        echo "fuzz: $name FAILED (log: $build/$name.log)"
        failed+=("$name")
    fi
}
run() {
    local name=$1 corpus=$2
    shift 2
    while [ ${#pids[@]} -ge "$jobs" ]; do finish_oldest; done
    local exe
    exe=$(find "$build" -name "$name" -type f -perm -u+x | head -n 1)
    echo "fuzz: running $name for ${seconds}s over $(ls "$corpus" | wc -l) seeds" > "$build/$name.log"
    # Crash reproducers land in the build tree, never in the working tree.
    "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$build/$name-" "$@" "$corpus" >> "$build/$name.log" 2>&1 &
    pids+=($!)
    names+=("$name")
}

corpus="$build/corpus/parser"
mkdir -p "$corpus"
# Seeds: the bundled policies and the golden tests' inputs, not what lit generated into Output/ directories.
find "$root/examples" "$root/stdlib-policies" "$root/tests/lit" -name Output -prune -o -name '*.omega' \
    -exec cp {} "$corpus/" \; 2>/dev/null || true
run parser_fuzzer "$corpus" -max_len=65536

corpus="$build/corpus/request"
mkdir -p "$corpus"
cp "$root"/tests/fuzz/seeds/request/* "$corpus/"
run request_fuzzer "$corpus" -max_len=8192

corpus="$build/corpus/policy-request"; mkdir -p "$corpus"; cp "$root"/tests/fuzz/seeds/policy-request/* "$corpus/"
run policy_request_fuzzer "$corpus" -max_len=8192

if echo "$targets" | grep -q bundle_fuzzer; then
    corpus="$build/corpus/bundle"
    mkdir -p "$corpus"
    [ -d "$root/tests/fuzz/seeds/bundle" ] && cp "$root"/tests/fuzz/seeds/bundle/* "$corpus/"
    run bundle_fuzzer "$corpus" -max_len=65536
fi
if echo "$targets" | grep -q policy_image_fuzzer; then
    corpus="$build/corpus/policy-image"; mkdir -p "$corpus"; cp "$root"/tests/fuzz/seeds/policy-image/* "$corpus/"
    # Real programs too, so the verifier and the engine behind the decoder see code that passes: each example
    # compiled by the normal build's omegac (when there is one), behind the fuzzer's "whole bundle" mode byte.
    omegac="$root/build/compiler/tools/omegac/omegac"
    if [ -x "$omegac" ]; then
        for dir in "$root"/examples/*/; do
            name=$(basename "$dir")
            if "$omegac" compile -q "$dir"*.omega -o "$build/$name.omb" 2>/dev/null; then
                { printf '\000'; cat "$build/$name.omb"; } > "$corpus/example-$name"
            fi
        done
    fi
    run policy_image_fuzzer "$corpus" -max_len=65536
fi
if echo "$targets" | grep -q vm_fuzzer; then
    corpus="$build/corpus/vm"; mkdir -p "$corpus"; cp "$root"/tests/fuzz/seeds/vm/* "$corpus/"
    run vm_fuzzer "$corpus" -max_len=4096
fi
if echo "$targets" | grep -q log_reader_fuzzer; then
    corpus="$build/corpus/log"; mkdir -p "$corpus"; cp "$root"/tests/fuzz/seeds/log/* "$corpus/"
    run log_reader_fuzzer "$corpus" -max_len=16384
fi
if echo "$targets" | grep -q omegad_wire_fuzzer; then
    corpus="$build/corpus/wire"; mkdir -p "$corpus"; cp "$root"/tests/fuzz/seeds/wire/* "$corpus/"
    run omegad_wire_fuzzer "$corpus" -max_len=8192
fi
if echo "$targets" | grep -q attest_report_fuzzer; then
    corpus="$build/corpus/attest"; mkdir -p "$corpus"; cp "$root"/tests/fuzz/seeds/attest/* "$corpus/"
    run attest_report_fuzzer "$corpus" -max_len=8192
fi
if echo "$targets" | grep -q gate_http_fuzzer; then
    corpus="$build/corpus/http"; mkdir -p "$corpus"; cp "$root"/tests/fuzz/seeds/http/* "$corpus/"
    run gate_http_fuzzer "$corpus" -max_len=8192
fi
if echo "$targets" | grep -q gate_message_fuzzer; then
    corpus="$build/corpus/gate"; mkdir -p "$corpus"; cp "$root"/tests/fuzz/seeds/gate/* "$corpus/"
    run gate_message_fuzzer "$corpus" -max_len=16384
fi
while [ ${#pids[@]} -gt 0 ]; do finish_oldest; done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failed: ${failed[*]}"
    exit 1
fi
