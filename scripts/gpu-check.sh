#!/usr/bin/env bash
# The CUDA gate's device check (issue 7 item 3), in two phases because the GPU machine may have nothing installed
# (no cmake, ANTLR, Z3, nvcc or python):
#
#   scripts/gpu-check.sh prepare OUT   here, where omegac, the gate and nvcc exist: builds the CUDA programs for
#                                      sm_90 (runtime API with nvcc, driver API with cc), hashes the module images,
#                                      compiles and signs the policy, and copies everything the run needs into OUT
#   scripts/gpu-check.sh run OUT       on the H100/H200: runs allowed and denied kernels under the gate, checks the
#                                      denials (CUDA_ERROR_NOT_PERMITTED / cudaErrorNotPermitted, 800), measures the
#                                      launch throughput of an empty kernel without and with the gate (median of
#                                      GPU_CHECK_RUNS runs of GPU_CHECK_LAUNCHES launches), writes OUT/results.txt
#
# prepare takes its tools from BUILD_DIR (default: build), or OMEGAC, GATE_SO, NVCC, CUDA_HOME, CC.
# run takes GPU_CHECK_STANDIN=DIR to use the stand-in libcuda.so.1 in DIR instead of a GPU (to test this script),
# GPU_CHECK_LAUNCHES (default 200000) and GPU_CHECK_RUNS (default 5).
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
usage() {
    echo "usage: $0 prepare OUT | run OUT" >&2
    exit 2
}
[ $# -eq 2 ] || usage
mode=$1
out=$2

# ------------------------------------------------------------------------------------------------------------------
prepare() {
    local build=${BUILD_DIR:-$root/build}
    local omegac=${OMEGAC:-$build/compiler/tools/omegac/omegac}
    local gate=${GATE_SO:-$build/runtime/cudagate/libomega_cuda_gate.so}
    local cuda=${CUDA_HOME:-/usr/local/cuda}
    local nvcc=${NVCC:-$cuda/bin/nvcc}
    local cc=${CC:-cc}
    [ -x "$omegac" ] || fail "no omegac at $omegac (build it, or set BUILD_DIR or OMEGAC)"
    [ -f "$gate" ] || fail "no gate library at $gate (build omega_cuda_gate, or set BUILD_DIR or GATE_SO)"
    [ -x "$nvcc" ] || fail "no nvcc at $nvcc (set NVCC or CUDA_HOME)"
    [ -f "$cuda/lib64/stubs/libcuda.so" ] || fail "no driver stub at $cuda/lib64/stubs/libcuda.so to link against"
    for tool in "$cc" openssl sha256sum objcopy python3; do
        command -v "$tool" > /dev/null || fail "prepare needs $tool"
    done
    # OUT is ours: either new, or made by an earlier prepare.
    if [ -e "$out" ]; then
        [ -f "$out/.gpu-check" ] || fail "$out exists and was not made by gpu-check.sh prepare; choose another OUT"
        rm -rf "${out:?}"/*
    fi
    mkdir -p "$out/bin" "$out/lib" "$out/fallback-lib" || fail "cannot create $out"
    touch "$out/.gpu-check"
    local dev=$root/tests/cuda/device progs=$root/tests/cuda/programs
    local inc=(-I"$root/runtime/cudagate/include" -I"$root/tests/cuda/standin" -I"$progs")

    echo "prepare: nvcc (sm_90) ..."
    # Uncompressed (--no-compress) so that the stand-in can read them too; the driver reads either.
    "$nvcc" -cubin -arch=sm_90 -o "$out/kernels.cubin" "$dev/kernels.cu" || fail "nvcc kernels.cubin"
    "$nvcc" -cubin -arch=sm_90 -DOMEGA_IMPOSTOR -o "$out/impostor.cubin" "$dev/kernels.cu" || fail "nvcc impostor"
    "$nvcc" -fatbin -arch=sm_90 --no-compress -o "$out/kernels.fatbin" "$dev/kernels.cu" || fail "nvcc kernels.fatbin"
    # libcudart linked statically: the GPU machine needs the driver only.
    "$nvcc" -arch=sm_90 --no-compress -cudart static -O2 -o "$out/bin/runtime_check" "$dev/runtime_check.cu" ||
        fail "nvcc runtime_check"

    echo "prepare: driver-API programs ($cc, linked against the driver stub: libcuda.so.1 by soname) ..."
    # Lazy binding: on a driver older than CUDA 13 a missing entry point fails the call that needs it (with a
    # "symbol lookup error" in the log), not the program's start.
    local p lazy=-Wl,-z,lazy
    for p in launch_paths graphs memory smoke; do
        "$cc" -std=gnu11 -O2 -Wall -Wextra -Werror "${inc[@]}" -o "$out/bin/$p" "$progs/$p.c" "$progs/Common.c" \
            "$progs/Setup.c" -L"$cuda/lib64/stubs" -lcuda -ldl -Wl,--no-undefined $lazy || fail "cc $p"
    done
    "$cc" -std=gnu11 -O2 -Wall -Wextra -Werror "${inc[@]}" -o "$out/bin/launch_bench" "$dev/launch_bench.c" \
        "$progs/Common.c" "$progs/Setup.c" -L"$cuda/lib64/stubs" -lcuda -Wl,--no-undefined $lazy || fail "cc launch_bench"
    "$cc" -std=gnu11 -O2 -Wall -Wextra -Werror "${inc[@]}" -o "$out/bin/resolve" "$progs/resolve.c" "$progs/Common.c" \
        -ldl || fail "cc resolve"

    echo "prepare: module hashes ..."
    # The images the gate will hash: the module files, and each fatbin libcudart hands the driver from the runtime
    # program's .nv_fatbin section (fatbin header + fatSize bytes each, 8-byte aligned).
    objcopy -O binary --only-section=.nv_fatbin "$out/bin/runtime_check" "$out/runtime_check.nv_fatbin" ||
        fail "objcopy .nv_fatbin"
    python3 - "$out/runtime_check.nv_fatbin" "$out" > "$out/modules.txt" << 'EOF' || fail "splitting .nv_fatbin"
import hashlib, struct, sys
data = open(sys.argv[1], "rb").read()
off, n = 0, 0
while off + 16 <= len(data):
    magic, _, hsize, fsize = struct.unpack_from("<IHHQ", data, off)
    if magic != 0xBA55ED50:
        off += 8
        continue
    end = off + hsize + fsize
    name = f"runtime_check.fatbin{n}"
    open(f"{sys.argv[2]}/{name}", "wb").write(data[off:end])
    print(hashlib.sha256(data[off:end]).hexdigest(), name)
    n += 1
    off = (end + 7) // 8 * 8
if n == 0:
    sys.exit("no fatbin in .nv_fatbin")
EOF
    rm -f "$out/runtime_check.nv_fatbin"
    (cd "$out" && sha256sum kernels.cubin kernels.fatbin) >> "$out/modules.txt" || fail "sha256sum"
    local digests
    digests=$(awk '{ printf "%ssha256:\"%s\"", (NR > 1 ? ", " : ""), $1 }' "$out/modules.txt")
    local placeholder='    module sha256:"0000000000000000000000000000000000000000000000000000000000000000";'
    grep -qxF "$placeholder" "$dev/gpu-check.omega" || fail "gpu-check.omega lost its module placeholder"
    awk -v line="$placeholder" -v with="    modules {$digests};" '$0 == line { print with; next } { print }' \
        "$dev/gpu-check.omega" > "$out/gpu-check.omega"

    echo "prepare: policy ..."
    local keys
    keys=$(mktemp -d) || fail "mktemp"
    openssl genpkey -algorithm ed25519 -out "$keys/publisher.pem" 2> /dev/null || fail "openssl genpkey"
    openssl pkey -in "$keys/publisher.pem" -pubout -out "$out/publisher.pub.pem" || fail "openssl pkey"
    "$omegac" compile "$out/gpu-check.omega" -o "$out/gpu-check.omb" --sign "$keys/publisher.pem" \
        > "$out/compile.txt" || { cat "$out/compile.txt"; fail "omegac compile"; }
    rm -rf "$keys" # the private key never leaves this machine

    # Without debug information: the copy must fit the device machine's transfer limit.
    objcopy --strip-debug "$gate" "$out/lib/libomega_cuda_gate.so" || fail "copy the gate"
    # The gate and the programs use the C and C++ runtimes and OpenSSL; the GPU machine should have them, but if
    # one is missing there, run falls back to these copies.
    local lib
    for lib in $(ldd "$gate" "$out/bin/"* 2> /dev/null | awk '/=> \// { print $3 }' | sort -u); do
        case $(basename "$lib") in
            libssl.so* | libcrypto.so* | libstdc++.so* | libgcc_s.so*) cp -L "$lib" "$out/fallback-lib/" ;;
        esac
    done
    cp "$root/scripts/gpu-check.sh" "$out/gpu-check.sh"
    {
        echo "prepared: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm)"
        echo "commit: $(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo unknown) (plus uncommitted changes, if any)"
        echo "nvcc: $("$nvcc" --version | tail -2 | head -1)"
        echo "omegac: $("$omegac" --version 2>&1)"
        echo "glibc needed: $(objdump -T "$out/lib/libomega_cuda_gate.so" "$out/bin/"* 2> /dev/null |
            grep -oE 'GLIBC_[0-9.]+' | sort -uV | tail -1)"
        echo "modules (sha256):"
        sed 's/^/  /' "$out/modules.txt"
    } > "$out/manifest.txt"
    local size
    size=$(du -sm "$out" | cut -f1)
    [ "$size" -lt 64 ] || fail "$out is $size MiB; it must stay under 64 MiB"
    cat "$out/manifest.txt"
    echo "prepare: ok, $out is $size MiB; on the GPU machine: scripts/gpu-check.sh run $out"
}

# ------------------------------------------------------------------------------------------------------------------
run_phase() {
    [ -f "$out/.gpu-check" ] && [ -f "$out/gpu-check.omb" ] || fail "$out was not made by gpu-check.sh prepare"
    out=$(cd "$out" && pwd)
    local results=$out/results.txt logs=$out/logs
    local launches=${GPU_CHECK_LAUNCHES:-200000} runs=${GPU_CHECK_RUNS:-5}
    mkdir -p "$logs"
    : > "$results"
    failures=0
    note() { echo "$*" | tee -a "$results"; }
    pass() { note "PASS: $*"; }
    bad() {
        note "FAIL: $*"
        failures=$((failures + 1))
    }

    local standin=${GPU_CHECK_STANDIN:-}
    local libpath=
    note "gpu-check run: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n)"
    sed 's/^/  /' "$out/manifest.txt" >> "$results"
    if [ -n "$standin" ]; then
        [ -f "$standin/libcuda.so.1" ] || fail "GPU_CHECK_STANDIN=$standin holds no libcuda.so.1"
        libpath=$(cd "$standin" && pwd)
        note "device: the stand-in driver in $libpath (NOT a GPU: this validates the script, measures nothing real)"
    elif command -v nvidia-smi > /dev/null; then
        note "device: $(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1 |
            head -1)"
    else
        note "device: nvidia-smi not found; relying on libcuda.so.1 alone"
    fi
    # The machine's own C++ runtime and OpenSSL first; prepare's copies only for what is missing.
    if ldd "$out/lib/libomega_cuda_gate.so" "$out/bin/"* 2> /dev/null | grep -v libcuda.so.1 | grep -q 'not found'; then
        libpath=${libpath:+$libpath:}$out/fallback-lib
        note "note: using prepare's copies of missing libraries from $out/fallback-lib"
    fi
    local -a base=(env "LD_LIBRARY_PATH=${libpath}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
    local -a gated=("${base[@]}" OMEGA_CUDA_AGENT=checker "OMEGA_CUDA_BUNDLE=$out/gpu-check.omb"
        "OMEGA_CUDA_TRUST=$out/publisher.pub.pem" OMEGA_CUDA_RELOAD_MS=0 "LD_PRELOAD=$out/lib/libomega_cuda_gate.so")
    local limit=()
    command -v timeout > /dev/null && limit=(timeout 300)

    # run_prog NAME gate|plain PROGRAM ARGS: output in logs/NAME.out (stdout) and logs/NAME.err.
    run_prog() {
        local name=$1 how=$2
        shift 2
        if [ "$how" = gate ]; then
            "${limit[@]}" "${gated[@]}" "$@" > "$logs/$name.out" 2> "$logs/$name.err"
        else
            "${limit[@]}" "${base[@]}" "$@" > "$logs/$name.out" 2> "$logs/$name.err"
        fi
    }
    # want NAME LINE...: each line appears exactly in NAME's output.
    want() {
        local name=$1 line missing=0
        shift
        for line in "$@"; do
            grep -qxF -- "$line" "$logs/$name.out" || { bad "$name: expected: $line"; missing=1; }
        done
        [ "$missing" -eq 1 ] || pass "$name: $# results as expected"
    }

    # ---- the driver works at all ----
    if ! run_prog smoke plain "$out/bin/smoke" "$out/kernels.cubin" ||
        ! grep -qxF "launch omega_allowed: 0 CUDA_SUCCESS" "$logs/smoke.out"; then
        cat "$logs/smoke.out" "$logs/smoke.err" >> "$results"
        bad "the driver does not launch a kernel without the gate; nothing else can be checked"
        return
    fi
    pass "driver: a kernel launches without the gate"
    # The gate is really in front of it: it loaded the bundle and let the allowed kernel through.
    run_prog smoke_gate gate "$out/bin/smoke" "$out/kernels.cubin"
    if grep -q '^omega-cuda-gate: loaded bundle' "$logs/smoke_gate.err" &&
        grep -qxF "launch omega_allowed: 0 CUDA_SUCCESS" "$logs/smoke_gate.out"; then
        pass "gate: loaded $(grep -m1 '^omega-cuda-gate: loaded bundle' "$logs/smoke_gate.err" | cut -d' ' -f3-)"
    else
        cat "$logs/smoke_gate.out" "$logs/smoke_gate.err" >> "$results"
        bad "the gate did not load the bundle or blocked the allowed kernel"
    fi

    # ---- driver API under the gate ----
    local ok=': 0 CUDA_SUCCESS' no=': 800 CUDA_ERROR_NOT_PERMITTED' m
    for m in cubin fatbin; do
        run_prog "launch_$m" gate "$out/bin/launch_paths" "$out/kernels.$m" "$out/impostor.cubin" ||
            bad "launch_paths ($m) exited with $?"
        want "launch_$m" "file launch omega_allowed$ok" "file launch omega_denied$no" "data launch omega_allowed$ok" \
            "data launch omega_denied$no" "libdata launch kernel omega_allowed$ok" \
            "libdata launch kernel omega_denied$no" "libfile launch function omega_allowed$ok" \
            "libfile launch function omega_denied$no" "cuLaunchKernel omega_allowed$ok" "cuLaunchKernel omega_denied$no" \
            "cuLaunchKernel_ptsz omega_allowed$ok" "cuLaunchKernel_ptsz omega_denied$no" \
            "cuLaunchKernelEx omega_allowed$ok" "cuLaunchKernelEx omega_denied$no" \
            "cuLaunchCooperativeKernel omega_allowed$ok" "cuLaunchCooperativeKernel omega_denied$no" \
            "launch omega_allowed block 1024$no" "repeat omega_other: 1000 of 1000" "impostor launch omega_allowed$no"
    done
    run_prog graphs gate "$out/bin/graphs" "$out/kernels.cubin" || bad "graphs exited with $?"
    want graphs "good0 ran: yes" "good3 ran: yes" "bad0 ran: no" "badkernel ran: no" "nested ran: no" "v1 ran: no" \
        "swap ran: no" "update ran: no"
    run_prog memory gate "$out/bin/memory" || bad "memory exited with $?"
    want memory "alloc 16 MiB$ok" "alloc 32 MiB$ok" "alloc 32 MiB more$no" "free 16 MiB$ok" \
        "alloc 32 MiB after free$ok" "alloc 1 byte at the quota$no" "round trip: ok" "beyond managed$no" \
        "beyond async$no" "beyond vmm$no" "alloc the whole 64 MiB$ok"
    run_prog resolve gate "$out/bin/resolve" "$out/kernels.cubin" || bad "resolve exited with $?"
    want resolve "dlsym cuLaunchKernel omega_allowed$ok" "dlsym cuLaunchKernel omega_denied$no" \
        "proc_v2 cuLaunchKernel omega_allowed$ok" "proc_v2 cuLaunchKernel omega_denied$no" \
        "proc_inner cuLaunchKernel omega_denied$no" "proc_v2 loaded omega_allowed$ok"

    # ---- runtime API (libcudart: <<<>>>, cudaLaunchKernel, cudaMalloc) ----
    run_prog runtime_plain plain "$out/bin/runtime_check" check
    run_prog runtime_gate gate "$out/bin/runtime_check" check
    if [ -n "$standin" ] && grep -q 'cudaErrorNotSupported' "$logs/runtime_gate.out"; then
        note "SKIP: runtime API under the stand-in (libcudart needs private driver tables; tests/cuda/README.md)"
    elif grep -q 'cudaErrorInsufficientDriver' "$logs/runtime_plain.out"; then
        bad "runtime API: the driver is older than CUDA 13.0, which the statically linked libcudart 13 needs (R580+)"
    else
        want runtime_plain "<<<>>> omega_allowed: 0 cudaSuccess" "<<<>>> omega_denied: 0 cudaSuccess" \
            "after omega_denied: 3"
        local rok=': 0 cudaSuccess' rno=': 800 cudaErrorNotPermitted'
        want runtime_gate "<<<>>> omega_allowed$rok" "omega_allowed wrote: 1" "<<<>>> omega_denied$rno" \
            "after omega_denied: 1" "cudaLaunchKernel omega_allowed$rok" "cudaLaunchKernel omega_denied$rno" \
            "cudaMalloc 32 MiB$rok" "cudaMalloc 48 MiB more$rno" "cudaMalloc 48 MiB after free$rok"
    fi

    # ---- launch throughput: an empty kernel, without and with the gate, runs interleaved ----
    # bench NAME PROGRAM ARGS: median ns over $runs runs each way; prints the ratio.
    bench() {
        local name=$1 i how
        shift
        local -a plain_ns=() gate_ns=()
        for ((i = 0; i < runs; i++)); do
            for how in plain gate; do
                if ! run_prog "bench_${name}_${how}_$i" "$how" "$@" "$launches"; then
                    note "bench $name ($how): failed: $(head -c 300 "$logs/bench_${name}_${how}_$i.out")"
                    bad "bench $name could not run $how"
                    return
                fi
                local ns
                ns=$(sed -n 's/^launches=[0-9]* ns=\([0-9]*\)$/\1/p' "$logs/bench_${name}_${how}_$i.out")
                [ -n "$ns" ] || { bad "bench $name ($how): no timing in its output"; return; }
                if [ "$how" = plain ]; then plain_ns+=("$ns"); else gate_ns+=("$ns"); fi
            done
        done
        local p g
        p=$(printf '%s\n' "${plain_ns[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
        g=$(printf '%s\n' "${gate_ns[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
        note "bench $name: $launches launches, median of $runs: without gate $p ns, with gate $g ns"
        note "bench $name: runs without: ${plain_ns[*]}; with: ${gate_ns[*]}"
        note "$(awk -v p="$p" -v g="$g" -v n="$launches" -v name="$name" 'BEGIN {
            printf "bench %s: %.1f ns/launch without, %.1f ns/launch with, ratio %.4f (overhead %+.2f%%, %+.1f ns/launch)",
                name, p / n, g / n, g / p, (g / p - 1) * 100, (g - p) / n }')"
    }
    bench driver "$out/bin/launch_bench" "$out/kernels.cubin"
    if [ -n "$standin" ] && grep -q 'cudaErrorNotSupported' "$logs/runtime_gate.out"; then
        note "SKIP: bench runtime under the stand-in (libcudart does not start there)"
    else
        bench runtime "$out/bin/runtime_check" bench
    fi

    if [ "$failures" -eq 0 ]; then
        note "gpu-check: ok"
    else
        note "gpu-check: $failures failure(s); details in $logs"
    fi
}

case $mode in
    prepare) prepare ;;
    run)
        run_phase
        echo "results: $out/results.txt"
        [ "${failures:-1}" -eq 0 ] || exit 1
        ;;
    *) usage ;;
esac
