#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time over a seed corpus made
# from the bundled policies. Usage: scripts/fuzz.sh [SECONDS]   (default 60)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build="$root/build-fuzz"
clangxx=$(command -v clang++-14 || command -v clang++ || true)
if [ -z "$clangxx" ]; then
    echo "fuzz: clang++ not found; skipping the fuzzer" >&2
    exit 0
fi
clangc=${clangxx/clang++/clang}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$clangc" \
    -DCMAKE_CXX_COMPILER="$clangxx" -DOMEGA_FUZZ=ON -DOMEGA_TESTS=OFF -DOMEGA_BENCHMARKS=OFF >/dev/null
cmake --build "$build" --target parser_fuzzer
corpus="$build/corpus"
mkdir -p "$corpus"
find "$root/examples" "$root/stdlib-policies" "$root/tests/lit" -name '*.omega' -exec cp {} "$corpus/" \; 2>/dev/null || true
echo "fuzz: running parser_fuzzer for ${seconds}s over $(ls "$corpus" | wc -l) seeds"
"$build/tests/fuzz/parser_fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 "$corpus"
