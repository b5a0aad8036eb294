#!/usr/bin/env bash
# End to end, without a GPU: the CUDA gate (libomega_cuda_gate.so, LD_PRELOAD) in front of the stand-in driver
# (tests/cuda/standin, LD_LIBRARY_PATH), deciding with a signed bundle compiled by omegac from tests/cuda/gate.omega,
# whose kernel set pins the SHA-256 of the module images generated here. The driver-API programs print one result per
# call; the stand-in logs every call that reaches it, which is how the test proves that a denied call never did.
# Usage: check-cuda-gate.sh GATE_SO OMEGAC STANDIN_DIR PROGRAM_DIR SOURCE_DIR
set -u
[ $# -eq 5 ] || { echo "usage: $0 GATE_SO OMEGAC STANDIN_DIR PROGRAM_DIR SOURCE_DIR"; exit 2; }
# Absolute paths: the test works in a scratch directory.
gate=$(readlink -f "$1") omegac=$(readlink -f "$2") standin=$(readlink -f "$3") bin=$(readlink -f "$4")
root=$(readlink -f "$5")
started=$(date +%s.%N)
work=$(mktemp -d /tmp/cuda-gate-e2e.XXXXXX)
# CUDA_GATE_E2E_KEEP=1 keeps the scratch directory for a look at the programs' output and the driver's log.
if [ -z "${CUDA_GATE_E2E_KEEP:-}" ]; then trap 'rm -rf "$work"' EXIT; else echo "keeping $work"; fi
cd "$work" || exit 1
checks=0

fail() {
    echo "FAIL: $*"
    exit 1
}
for f in "$gate" "$omegac" "$standin/libcuda.so.1" "$bin/cuda_launch_paths"; do
    [ -e "$f" ] || fail "missing $f (build the omega_cuda_gate, omegac and tests/cuda targets first)"
done
command -v python3 > /dev/null || fail "python3 is needed to generate the module images"
command -v openssl > /dev/null || fail "openssl is needed to make the signing key"

# ---- module images, their hashes, the policies ----
python3 "$root/tests/cuda/make-modules.py" modules || fail "make-modules.py"
modules=(modules/kernels.standin modules/kernels.cubin modules/kernels.fatbin modules/kernels.ptx)
# Real nvcc output when the build had nvcc: an ELF cubin and an uncompressed fatbin of tests/cuda/device/kernels.cu.
[ -f "$bin/kernels.nvcc.cubin" ] && modules+=("$bin/kernels.nvcc.cubin" "$bin/kernels.nvcc.fatbin")
digests=
for m in "${modules[@]}"; do
    digests+="${digests:+, }sha256:\"$(sha256sum "$m" | cut -d' ' -f1)\""
done
placeholder='    module sha256:"0000000000000000000000000000000000000000000000000000000000000000";'
for policy in gate gate-narrow; do
    grep -qxF "$placeholder" "$root/tests/cuda/$policy.omega" || fail "$policy.omega lost its module placeholder"
    # awk, not sed: the replacement is data.
    awk -v line="$placeholder" -v with="    modules {$digests};" '$0 == line { print with; next } { print }' \
        "$root/tests/cuda/$policy.omega" > "$policy.omega"
done

openssl genpkey -algorithm ed25519 -out publisher.pem 2> /dev/null || fail "openssl genpkey"
openssl pkey -in publisher.pem -pubout -out publisher.pub.pem || fail "openssl pkey"
openssl genpkey -algorithm ed25519 -out stranger.pem 2> /dev/null || fail "openssl genpkey"
"$omegac" compile -q gate.omega -o gate.omb --sign publisher.pem || fail "omegac compile gate.omega"
"$omegac" compile -q gate-narrow.omega -o narrow.omb --sign publisher.pem || fail "omegac compile gate-narrow.omega"
"$omegac" compile -q gate.omega -o stranger.omb --sign stranger.pem || fail "omegac compile (stranger)"
"$omegac" compile -q gate.omega -o unsigned.omb || fail "omegac compile (unsigned)"

# ---- running the programs ----
# run NAME [VAR=VALUE ...] -- PROGRAM ARGS: under the gate as agent trainer with gate.omb, unless the VAR=VALUE
# settings say otherwise (VAR= unsets). Output in NAME.out, NAME.err, and the stand-in's log in NAME.log.
run() {
    local name=$1
    shift
    local -a envs=(OMEGA_CUDA_AGENT=trainer "OMEGA_CUDA_BUNDLE=$work/gate.omb" "OMEGA_CUDA_TRUST=$work/publisher.pub.pem"
        OMEGA_CUDA_RELOAD_MS=0 "OMEGA_CUDA_STANDIN_LOG=$work/$name.log" "LD_LIBRARY_PATH=$standin" "LD_PRELOAD=$gate")
    local -a unset=(-u OMEGA_CUDA_CONFIG)
    while [ "$1" != -- ]; do
        case $1 in
            *=) # unset: drop the default too
                unset+=(-u "${1%=}")
                local -a kept=()
                local e
                for e in "${envs[@]}"; do [ "${e%%=*}" = "${1%=}" ] || kept+=("$e"); done
                envs=("${kept[@]}")
                ;;
            *) envs+=("$1") ;; # later settings win
        esac
        shift
    done
    shift
    : > "$name.log"
    env "${unset[@]}" "${envs[@]}" "$@" > "$name.out" 2> "$name.err"
    local status=$?
    if [ "$status" -ne 0 ]; then
        echo "--- $name.out"; cat "$name.out"; echo "--- $name.err"; cat "$name.err"
        fail "$name: $1 exited with $status"
    fi
}
show() {
    echo "--- $1.out"; cat "$1.out"; echo "--- $1.err"; head -40 "$1.err"; echo "--- $1.log (last 20)"; tail -20 "$1.log"
}
# expect NAME LINE: the program printed exactly this line.
expect() {
    checks=$((checks + 1))
    grep -qxF -- "$2" "$1.out" || { show "$1"; fail "$1: expected the line: $2"; }
}
allowed() { expect "$1" "$2: 0 CUDA_SUCCESS"; }
denied() { expect "$1" "$2: 800 CUDA_ERROR_NOT_PERMITTED"; }
# reached / never NAME REGEX: the stand-in's log has (has no) a line matching REGEX.
reached() {
    checks=$((checks + 1))
    grep -qE -- "$2" "$1.log" || { show "$1"; fail "$1: no call reached the driver matching: $2"; }
}
never() {
    checks=$((checks + 1))
    if grep -E -- "$2" "$1.log" > never.hits; then
        show "$1"; echo "--- reached the driver:"; head -5 never.hits
        fail "$1: a call reached the driver that the gate should have stopped: $2"
    fi
}
# deny_line NAME REGEX: the gate explained a denial on stderr, with a reason after the colon.
deny_line() {
    checks=$((checks + 1))
    grep -qE -- "^omega-cuda-gate: deny $2.*\(agent [a-z_]+\): .+" "$1.err" ||
        { show "$1"; fail "$1: no stderr line 'omega-cuda-gate: deny $2 ... (agent ...): <reason>'"; }
}

# ---- the baseline: without the gate the stand-in runs everything, denied kernels included ----
run baseline LD_PRELOAD= -- "$bin/cuda_launch_paths" modules/kernels.standin modules/impostor.standin
allowed baseline "data launch omega_denied"
allowed baseline "impostor launch omega_allowed"
reached baseline '^cuLaunchKernel name=omega_denied '
reached baseline '^cuLaunchKernel name=omega_allowed grid=3 '

# ---- every load path and launch entry point, for every kind of module image ----
for m in "${modules[@]}"; do
    kind=${m##*/}
    kind=${kind//./_}
    impostor=modules/impostor.standin
    case $m in *.cubin) impostor=modules/impostor.cubin ;; esac
    [ "$m" = "$bin/kernels.nvcc.cubin" ] && impostor=$bin/impostor.nvcc.cubin
    name=launch_$kind
    run "$name" -- "$bin/cuda_launch_paths" "$m" "$impostor"
    for how in file data dataex fatbinary; do
        allowed "$name" "$how load"
        allowed "$name" "$how launch omega_allowed"
        denied "$name" "$how launch omega_denied"
        expect "$name" "$how get omega_missing: 500 CUDA_ERROR_NOT_FOUND"
    done
    for how in libfile libdata; do
        allowed "$name" "$how load"
        allowed "$name" "$how launch kernel omega_allowed"
        allowed "$name" "$how launch function omega_allowed"
        denied "$name" "$how launch kernel omega_denied"
        denied "$name" "$how launch function omega_denied"
        # Through the library's module, and kernels found by enumeration instead of by name.
        allowed "$name" "$how module launch omega_allowed"
        denied "$name" "$how module launch omega_denied"
        allowed "$name" "$how enumerated launch omega_allowed"
        denied "$name" "$how enumerated launch omega_denied"
    done
    allowed "$name" "enumerated launch omega_allowed"
    denied "$name" "enumerated launch omega_denied"
    for entry in cuLaunchKernel cuLaunchKernel_ptsz cuLaunchKernelEx cuLaunchKernelEx_ptsz \
        "cuLaunchKernelEx cooperative" cuLaunchCooperativeKernel cuLaunchCooperativeKernel_ptsz \
        "cuLaunchKernel extra"; do
        allowed "$name" "$entry omega_allowed"
        denied "$name" "$entry omega_denied"
    done
    # The pre-4.0 entry points and the multi-device launch: the gate refuses them whatever the kernel.
    for entry in cuLaunch cuLaunchGrid cuLaunchGridAsync cuLaunchCooperativeKernelMultiDevice; do
        denied "$name" "$entry omega_allowed"
        denied "$name" "$entry omega_denied"
    done
    denied "$name" "launch omega_allowed block 1024"
    expect "$name" "repeat omega_other: 1000 of 1000"
    denied "$name" "repeat then omega_denied"
    allowed "$name" "impostor load"
    denied "$name" "impostor launch omega_allowed"
    denied "$name" "impostor file launch omega_allowed"
    # An unloaded module's function handle reused by the impostor (the stand-in's allocator usually hands out the
    # same address): the approval cached for the old handle must not apply.
    allowed "$name" "reuse first launch"
    denied "$name" "reuse second launch"
    # The driver's log: allowed launches arrived by each entry point, denied ones never.
    for entry in cuLaunchKernel cuLaunchKernel_ptsz cuLaunchKernelEx cuLaunchKernelEx_ptsz cuLaunchCooperativeKernel \
        cuLaunchCooperativeKernel_ptsz; do
        reached "$name" "^$entry name=omega_allowed "
    done
    reached "$name" '^cuLibraryLoadData '
    reached "$name" '^cuModuleLoadFatBinary '
    never "$name" '^cuLaunch[A-Za-z_]* .*name=omega_denied '
    never "$name" '^cuLaunch[A-Za-z_]* .*block=1024 '
    never "$name" '^cuLaunch[A-Za-z_]* name=omega_allowed grid=3 '
    never "$name" '^cuLaunch(Grid|GridAsync|CooperativeKernelMultiDevice)? '
    deny_line "$name" 'cuLaunchKernel .*omega_denied'
    deny_line "$name" 'cuLaunchKernel .*omega_allowed'
done

# ---- graphs ----
run graphs -- "$bin/cuda_graphs" modules/kernels.cubin
for how in 0 1 2 3; do
    expect graphs "good$how ran: yes"
    expect graphs "bad$how ran: no"
    grep -qxE "bad$how (instantiate|launch): 800 CUDA_ERROR_NOT_PERMITTED" graphs.out ||
        { show graphs; fail "graphs: bad$how was neither instantiated nor launched with 800"; }
done
for case in badkernel nested v1 swap update edit; do expect graphs "$case ran: no"; done
allowed graphs "gone launch after cuGraphDestroy"
reached graphs '^cuGraphLaunch(_ptsz)? .*kernels=omega_allowed,omega_other '
never graphs '^cuGraphLaunch(_ptsz)? .*omega_denied'
deny_line graphs 'cuGraph'

# ---- memory: the quota holds ----
run memory -- "$bin/cuda_memory"
allowed memory "alloc 16 MiB"
allowed memory "alloc 32 MiB"
denied memory "alloc 32 MiB more"
allowed memory "free 16 MiB"
allowed memory "alloc 32 MiB after free"
denied memory "alloc 1 byte at the quota"
expect memory "free 16 MiB again: 1 CUDA_ERROR_INVALID_VALUE"
denied memory "alloc 1 byte after a refused free"
expect memory "round trip: ok"
for api in pitch managed async async_ptsz pool vmm; do
    allowed memory "within $api"
    denied memory "beyond $api"
    allowed memory "free $api"
done
# The 32-bit allocator of CUDA before 3.2: the gate refuses it whatever the size.
denied memory "within legacy32"
denied memory "beyond legacy32"
expect memory "held by the process: 44 MiB"
allowed memory "alloc the whole 64 MiB"
# Exactly the allowed allocations reached the driver, in order.
sizes=$(grep -oE '^cuMemAlloc_v2 bytes=[0-9]+' memory.log | cut -d= -f2 | tr '\n' ' ')
checks=$((checks + 1))
[ "$sizes" = "16777216 33554432 33554432 67108864 " ] || { show memory; fail "memory: cuMemAlloc_v2 sizes at the driver: $sizes"; }
never memory '^cuMemAlloc '
for api in cuMemAllocPitch_v2 cuMemAllocManaged cuMemAllocAsync cuMemAllocAsync_ptsz cuMemAllocFromPoolAsync \
    cuMemCreate; do
    checks=$((checks + 1))
    [ "$(grep -c "^$api " memory.log)" -eq 1 ] || { show memory; fail "memory: $api should reach the driver once"; }
done
deny_line memory 'cuMemAlloc'
# The driver refuses an allocation the policy allowed (it has 40 MiB): the refused bytes do not count.
run memory_oom OMEGA_CUDA_STANDIN_MEM_BYTES=41943040 -- "$bin/cuda_memory" oom
expect memory_oom "oom alloc 48 MiB: 2 CUDA_ERROR_OUT_OF_MEMORY"
allowed memory_oom "oom alloc 32 MiB"

# ---- the paths libcudart uses: dlsym and cuGetProcAddress ----
run resolve -- "$bin/cuda_resolve" modules/kernels.standin
for how in "dlsym cuLaunchKernel" "dlsym cuLaunchKernel_ptsz" "RTLD_DEFAULT cuLaunchKernel" "proc_v2 cuLaunchKernel" \
    "proc_v2 ptsz cuLaunchKernel" "proc_v2 legacy cuLaunchKernel" "proc_v2 cuLaunchKernelEx" \
    "proc_v2 cuLaunchCooperativeKernel_ptsz" "proc_v1 cuLaunchKernel" "proc_inner cuLaunchKernel" \
    "proc_inner_v1 cuLaunchKernel"; do
    allowed resolve "$how omega_allowed"
    denied resolve "$how omega_denied"
done
allowed resolve "proc_v2 loaded omega_allowed"
denied resolve "proc_v2 cuMemAlloc 80 MiB"
allowed resolve "proc_v2 cuMemAlloc 1 MiB"
denied resolve "dlsym cuMemAlloc_v2 80 MiB"
expect resolve 'proc_v2 resolve cuNoSuchEntryPoint@12000 flags 0 (status 1): 500 CUDA_ERROR_NOT_FOUND'
expect resolve 'proc_v2 resolve cuLaunchKernel@2000 flags 0 (status 2): 500 CUDA_ERROR_NOT_FOUND'
expect resolve 'proc_v2 resolve ""@0 flags 0 (status 1): 500 CUDA_ERROR_NOT_FOUND'
reached resolve '^cuLaunchKernel_ptsz name=omega_allowed '
never resolve '^cuLaunch[A-Za-z_]* .*name=omega_denied '
never resolve '^cuMemAlloc_v2 bytes=83886080'

# ---- reload: a new policy takes effect in a running process, at once or by polling; a bad one is refused ----
cp narrow.omb next.omb && cp gate.omb reload.omb
run reload_call "OMEGA_CUDA_BUNDLE=$work/reload.omb" -- "$bin/cuda_reload" modules/kernels.standin next.omb reload.omb call
allowed reload_call "before omega_other"
expect reload_call "omega_cuda_gate_reload: 0"
denied reload_call "after omega_other"
allowed reload_call "after omega_allowed"
deny_line reload_call 'cuLaunchKernel .*omega_other'
cp narrow.omb next.omb && cp gate.omb reload.omb
run reload_poll "OMEGA_CUDA_BUNDLE=$work/reload.omb" OMEGA_CUDA_RELOAD_MS=100 -- \
    "$bin/cuda_reload" modules/kernels.standin next.omb reload.omb poll
allowed reload_poll "before omega_other"
expect reload_poll "poll noticed: yes"
denied reload_poll "after omega_other"
allowed reload_poll "after omega_allowed"
# A bundle the gate cannot accept (here: signed by an untrusted key) leaves the loaded policy in force.
cp stranger.omb next.omb && cp gate.omb reload.omb
run reload_bad "OMEGA_CUDA_BUNDLE=$work/reload.omb" -- "$bin/cuda_reload" modules/kernels.standin next.omb reload.omb call
checks=$((checks + 1))
grep -qxE 'omega_cuda_gate_reload: -?[1-9][0-9]*' reload_bad.out || { show reload_bad; fail "reload_bad: reload accepted"; }
allowed reload_bad "after omega_other"
allowed reload_bad "after omega_allowed"

# ---- fail closed: no usable configuration, bundle or agent means nothing reaches the driver ----
fail_closed() {  # NAME SETTINGS...
    local name=$1
    shift
    run "$name" "$@" -- "$bin/cuda_smoke" modules/kernels.standin
    checks=$((checks + 1))
    if grep -E '^(launch omega_allowed|alloc 1 MiB): ' "$name.out" | grep -vq ': 800 CUDA_ERROR_NOT_PERMITTED$'; then
        show "$name"; fail "$name: a launch or an allocation was not denied"
    fi
    never "$name" '^cu(Launch|MemAlloc)'
    checks=$((checks + 1))
    grep -q 'omega-cuda-gate' "$name.err" || { show "$name"; fail "$name: the gate said nothing on stderr"; }
}
fail_closed closed_no_bundle "OMEGA_CUDA_BUNDLE=$work/missing.omb"
fail_closed closed_no_agent OMEGA_CUDA_AGENT=
fail_closed closed_unknown_agent OMEGA_CUDA_AGENT=nobody
fail_closed closed_untrusted "OMEGA_CUDA_BUNDLE=$work/stranger.omb"
fail_closed closed_unsigned "OMEGA_CUDA_BUNDLE=$work/unsigned.omb"
fail_closed closed_no_trust OMEGA_CUDA_TRUST=
fail_closed closed_intern OMEGA_CUDA_AGENT=intern
# The same settings from a configuration file instead of the environment: allowed again.
printf 'agent = trainer\nbundle = %s\ntrust = %s\nreload_ms = 0\n' "$work/gate.omb" "$work/publisher.pub.pem" > gate.conf
run config_file OMEGA_CUDA_AGENT= OMEGA_CUDA_BUNDLE= OMEGA_CUDA_TRUST= "OMEGA_CUDA_CONFIG=$work/gate.conf" -- \
    "$bin/cuda_smoke" modules/kernels.standin
allowed config_file "launch omega_allowed"
allowed config_file "alloc 1 MiB"

# ---- libcudart (built when nvcc was found): it needs private driver tables the stand-in does not have ----
runtime="not built (no nvcc)"
if [ -x "$bin/cuda_runtime_empty" ]; then
    run runtime -- "$bin/cuda_runtime_empty"
    if grep -qxF "<<<>>> omega_allowed: 0 cudaSuccess" runtime.out; then
        runtime="libcudart ran against the stand-in"
        never runtime '^cuLaunch[A-Za-z_]* .*name=omega_denied '
    else
        # The stated gap (tests/cuda/README.md): libcudart asks for its private export table, gets
        # CUDA_ERROR_NOT_SUPPORTED and returns it from every call. Its entry points still went through the gate.
        expect runtime "<<<>>> omega_allowed: 801 cudaErrorNotSupported"
        expect runtime "cudaMalloc 1 MiB: 801 cudaErrorNotSupported"
        reached runtime '^cuGetExportTable uuid=6bd5fb6c5bf4e74a8987d93912fd9df9 '
        never runtime '^cuLaunch'
        runtime="libcudart stops at cuGetExportTable under the stand-in (stated gap)"
    fi
fi

elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "CUDA gate end to end: ok ($checks checks, ${#modules[@]} module images, ${elapsed}s; runtime API: $runtime)"
