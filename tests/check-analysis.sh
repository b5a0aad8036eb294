#!/usr/bin/env bash
# The analyser on every bundled policy: `omegac lint` on each example and each stdlib pack's test module, `lint
# --against` every stdlib pack for each example, and `omegac diff` of each example against itself. Each must run to
# the end (exit 0 or 1, never 2), with no `unknown` result within the default time limits, and a program compared
# with itself must show no difference. What the findings claim is checked elsewhere (tests/unit/AnalysisTest.cpp,
# DiffTest.cpp); here it is that every command works on every real input.
set -u
omegac=$1
root=$2
status=0
shopt -s nullglob
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# lint NAME ARGS...: runs `omegac lint --format json ARGS`, fails on exit 2 or any unknown finding.
lint() {
    local name=$1
    shift
    "$omegac" lint --format json "$@" > "$out"
    local rc=$?
    if [ $rc -ge 2 ]; then echo "FAIL: lint $name (exit $rc)"; status=1; return; fi
    if grep -q '"status":"unknown"' "$out"; then echo "FAIL: lint $name: unknown results"; status=1; fi
    echo "lint $name: $(grep -o '"summary":{[^}]*}' "$out")"
}

packs=()
for dir in "$root"/stdlib-policies/*/; do
    packs+=("$(basename "$dir")")
    for test in "$dir"*_test.omega; do lint "$(basename "$test")" "$test"; done
done
for dir in "$root"/examples/*/; do
    files=("$dir"*.omega)
    [ ${#files[@]} -gt 0 ] || continue
    for pack in "${packs[@]}"; do lint "$(basename "$dir") --against $pack" --against "$pack" "${files[@]}"; done
    if ! "$omegac" diff "$dir" "$dir" > "$out"; then echo "FAIL: diff $dir $dir"; cat "$out"; status=1; fi
    if ! grep -q '^diff: no new access; 0 new, 0 lost, 0 unknown$' "$out"; then echo "FAIL: diff $dir $dir"; status=1; fi
done
exit $status
