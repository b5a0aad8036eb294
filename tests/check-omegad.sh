#!/usr/bin/env bash
# End to end: the example policy (examples/omegad) compiled and signed by omegac, the real omegad serving it, the C
# and the Python example clients each showing an allow, a deny, a rate limit, taint and an approval, a reload by
# SIGHUP, a clean SIGTERM, then `omegac audit verify` on the decision log.
# Usage: check-omegad.sh OMEGAD OMEGAC CLIENT_C PYTHON SOURCE_DIR
set -u
omegad=$1 omegac=$2 client_c=$3 python=$4 root=$5
. "$root/tests/e2e-lib.sh" omegad-e2e
"$omegac" compile -q "$root/examples/omegad/assistant.omega" -o assistant.omb --sign publisher.pem ||
    fail "omegac compile"
# The README's configuration, with the uid of whoever runs the test.
sed "s/uid: 1000/uid: $(id -u)/" "$root/examples/omegad/omegad.yaml" > omegad.yaml
"$omegad" --config omegad.yaml --check-config > check.out || fail "--check-config: $(cat check.out)"

"$omegad" --config omegad.yaml 2> omegad.err &
pid=$!
for _ in $(seq 200); do
    [ -S omegad.sock ] && break
    sleep 0.05
done
[ -S omegad.sock ] || fail "omegad did not create its socket"

expect() {  # FILE LINE: the client printed exactly this line
    grep -qxF -- "$2" "$1" || { echo "--- $1"; cat "$1"; fail "$1: missing line: $2"; }
}
check_client() {
    local out=$1
    expect "$out" "allowed call: docs.search -> allow (permitted by assistant:19 (tenant:example))"
    expect "$out" "denied call: mail.send -> deny (no rule permits it (default deny))"
    expect "$out" "rate limit 3: crm.lookup -> allow (permitted by assistant:23 (tenant:example))"
    expect "$out" "rate limit 4: crm.lookup -> deny (no rule permits it (default deny))"
    expect "$out" "taint: docs.search -> deny (forbidden by assistant:20 (tenant:example))"
    expect "$out" "approval: pay.refund -> pending (permitted by assistant:26 (tenant:example))"
    expect "$out" "approval: grant lead -> approved"
    expect "$out" "approval: wait -> approved"
}
"$client_c" "$work/omegad.sock" c > c.out 2>&1 || { cat c.out; fail "the C client failed"; }
check_client c.out
# A reload between the two clients: state (rate counters, taint) carries over, the decisions do not change.
kill -HUP "$pid"
for _ in $(seq 100); do
    grep -q "generation 2" omegad.err && break
    sleep 0.05
done
grep -q "reloaded .*generation 2" omegad.err || fail "SIGHUP did not reload"
"$python" "$root/examples/omegad/client.py" "$work/omegad.sock" py > py.out 2>&1 || { cat py.out; fail "client.py failed"; }
check_client py.out

kill -TERM "$pid"
wait "$pid"
status=$?
pid=
[ "$status" -eq 0 ] || fail "omegad exited with $status after SIGTERM"
[ -e omegad.sock ] && fail "the socket was left behind"
grep -q "omegad: stopped" omegad.err || fail "no clean stop in omegad's output"

"$omegac" audit verify decisions.log --key log-key.pub.pem --expect-closed > verify.out ||
    { cat verify.out; fail "omegac audit verify"; }
# 2 x 8 decisions, 2 x 1 approval answer, the load and the reload.
grep -q "16 decisions, 2 approvals, 2 events" verify.out || { cat verify.out; fail "unexpected log contents"; }
"$omegac" audit show decisions.log --format json > show.out || fail "omegac audit show"
grep -q '"target":"mail.send"' show.out || fail "the denied call is not in the log"
echo "omegad end to end: ok ($(grep -c . c.out) + $(grep -c . py.out) client lines, log verified)"
