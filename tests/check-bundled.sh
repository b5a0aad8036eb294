#!/usr/bin/env bash
# Every bundled policy checks clean (no errors, no warnings), passes its own test blocks (decided by the bytecode and
# cross-checked with the reference evaluator), and is in canonical layout: each example directory is checked, tested
# and compiled to a bundle as one program (whose tests pass again against the bundle), each stdlib module on its own.
set -u
omegac=$1
root=$2
status=0
shopt -s nullglob
for dir in "$root"/examples/*/; do
    files=("$dir"*.omega)
    [ ${#files[@]} -gt 0 ] || continue
    if ! "$omegac" check --werror -q "${files[@]}"; then echo "FAIL: check $dir"; status=1; fi
    if ! "$omegac" test "${files[@]}" >/dev/null; then echo "FAIL: test $dir"; "$omegac" test "${files[@]}"; status=1; fi
    # Compiled to a bundle on disk, loaded back through the runtime's loader, its tests still pass.
    bundle=$(mktemp --suffix=.omb)
    if ! "$omegac" compile -q "${files[@]}" -o "$bundle"; then echo "FAIL: compile $dir"; status=1;
    elif ! "$omegac" test "${files[@]}" --bundle "$bundle" >/dev/null; then echo "FAIL: test --bundle $dir"; status=1; fi
    rm -f "$bundle"
done
while IFS= read -r -d '' f; do
    if ! "$omegac" check --werror -q "$f"; then echo "FAIL: check $f"; status=1; fi
    if ! "$omegac" test "$f" >/dev/null; then echo "FAIL: test $f"; "$omegac" test "$f"; status=1; fi
done < <(find "$root/stdlib-policies" -name '*.omega' -print0)
while IFS= read -r -d '' f; do
    if ! "$omegac" fmt --check "$f" >/dev/null; then echo "FAIL: not formatted: $f"; status=1; fi
done < <(find "$root/examples" "$root/stdlib-policies" -name '*.omega' -print0)
count=$(find "$root/examples" "$root/stdlib-policies" -name '*.omega' | wc -l)
if [ "$count" -eq 0 ]; then echo "FAIL: no bundled policies found"; status=1; fi
echo "bundled policies: $count files checked"
exit $status
