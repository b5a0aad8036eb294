#!/usr/bin/env bash
# End to end (docs/attestation.md): omegad with the software provider answers an attest call; `omegac attest verify`
# accepts the evidence with the verifier's own nonce, bundle and the software root, and rejects a replay (another
# nonce), an altered report, another bundle, an altered log head and an untrusted root; the log holds the attested
# head; then, for every principal of every example, `omegac attest prove` and `check-module` with only that
# principal's sources.
# Usage: check-attest.sh OMEGAD OMEGAC PYTHON SOURCE_DIR
set -u
omegad=$1 omegac=$2 python=$3 root=$4
. "$root/tests/e2e-lib.sh" omega-attest-e2e
"$omegac" compile -q "$root"/examples/clinic/*.omega -o clinic.omb --sign publisher.pem || fail "compile clinic"
"$omegac" compile -q "$root"/examples/finance/*.omega -o finance.omb --sign publisher.pem || fail "compile finance"

cat > omegad.yaml <<EOF
bundle: clinic.omb
trusted_keys: [publisher.pub.pem]
socket:
  path: omegad.sock
log:
  path: decisions.log
  key: log-key.pem
attestation:
  provider: software
  authority: authority
peers:
  - uid: $(id -u)
    allow: [decide, attest, reload]
EOF
"$omegad" --config omegad.yaml 2> omegad.err &
pid=$!
for _ in $(seq 400); do
    [ -S omegad.sock ] && break
    sleep 0.05
done
[ -S omegad.sock ] || fail "omegad did not create its socket"
grep -q "NOT hardware evidence" omegad.err || fail "omegad did not say that software evidence is not hardware evidence"

# One call over the socket: frame = 4-byte big-endian length, type byte, JSON body (docs/omegad.md).
call() {  # TYPE BODY -> reply body on stdout; exit 1 on an error reply
    "$python" - "$work/omegad.sock" "$1" "$2" <<'PY'
import socket, struct, sys
path, kind, body = sys.argv[1], int(sys.argv[2], 0), sys.argv[3].encode()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendall(struct.pack(">I", len(body) + 1) + bytes([kind]) + body)
def read(n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            sys.exit("connection closed")
        out += chunk
    return out
length = struct.unpack(">I", read(4))[0]
payload = read(length)
sys.stdout.write(payload[1:].decode())
sys.exit(0 if payload[0] == kind | 0x80 else 1)
PY
}
call 0x01 '{"agent":"triage","action":"tool","target":"ehr.read","args":{"patient_id":"p-1","fields":["vitals"]},"context":{"purpose":"treatment"}}' > decision.json ||
    fail "decide: $(cat decision.json)"
nonce=$(openssl rand -hex 32)
call 0x08 "{\"nonce\":\"$nonce\"}" > evidence.json || fail "attest: $(cat evidence.json)"
call 0x08 '{"nonce":"00"}' > short.json && fail "a short nonce was accepted"
grep -q "64" short.json || fail "the short-nonce error does not say the size: $(cat short.json)"

verify() {  # EXPECTED_STATUS NAME ARGS...: omegac attest verify exits with this status
    local want=$1 name=$2
    shift 2
    "$omegac" attest verify "$@" > "$name.out" 2>&1
    local got=$?
    [ "$got" -eq "$want" ] || { cat "$name.out"; fail "$name: exit $got, expected $want"; }
}
verify 0 accepted --evidence evidence.json --bundle clinic.omb --nonce "$nonce" --trust-ark authority/ark.pem
grep -qx "accepted" accepted.out || { cat accepted.out; fail "not accepted"; }
grep -q "WARNING: software evidence" accepted.out || fail "the software warning is missing"
grep -q "ok    report.report-data" accepted.out || { cat accepted.out; fail "the binding was not checked"; }

verify 1 replay --evidence evidence.json --bundle clinic.omb --nonce "$(openssl rand -hex 32)" \
    --trust-ark authority/ark.pem
grep -q "rejected: report.report-data" replay.out || { cat replay.out; fail "a replay was not rejected by the binding"; }
verify 1 other-bundle --evidence evidence.json --bundle finance.omb --nonce "$nonce" --trust-ark authority/ark.pem
grep -q "rejected: report.report-data" other-bundle.out || fail "another bundle was not rejected"
verify 1 untrusted --evidence evidence.json --bundle clinic.omb --nonce "$nonce"
grep -q "rejected: chain" untrusted.out || { cat untrusted.out; fail "the software root was trusted by default"; }
head=$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["log_head"])' evidence.json)
seq=${head%%:*}
verify 1 other-head --evidence evidence.json --bundle clinic.omb --nonce "$nonce" --trust-ark authority/ark.pem \
    --log-head "$((seq + 1)):${head#*:}"
grep -q "rejected: report.report-data" other-head.out || fail "another log head was not rejected"
# One byte of the signed report changed (the guest SVN): the signature fails.
"$python" - evidence.json altered.json <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
r = bytearray.fromhex(e["report"])
r[4] ^= 1
e["report"] = r.hex()
json.dump(e, open(sys.argv[2], "w"))
PY
verify 1 altered --evidence altered.json --bundle clinic.omb --nonce "$nonce" --trust-ark authority/ark.pem
grep -q "rejected: report.signature" altered.out || { cat altered.out; fail "an altered report was not rejected"; }
"$omegac" attest show evidence.json > show.json 2> show.err || fail "attest show"
grep -q "NOT hardware evidence" show.err || fail "attest show does not flag software evidence"

# Inclusion proofs: each example's bundle loaded by omegad (a reload), attested with a fresh nonce, and every
# principal of it checking its own modules with only its own sources, its proof and that evidence.
proofs=0
for dir in "$root"/examples/*/; do
    files=("$dir"*.omega)
    [ -e "${files[0]}" ] || continue
    name=$(basename "$dir")
    "$omegac" compile -q "${files[@]}" -o "$name.omb" --sign publisher.pem || fail "compile $name"
    call 0x05 "{\"path\":\"$work/$name.omb\"}" > reload.json || fail "reload $name: $(cat reload.json)"
    n=$(openssl rand -hex 32)
    call 0x08 "{\"nonce\":\"$n\"}" > "evidence-$name.json" || fail "attest $name"
    principals=$(grep -ho 'by principal "[^"]*"' "${files[@]}" | sed 's/.*"\(.*\)"/\1/' | sort -u)
    while IFS= read -r principal; do
        "$omegac" attest prove --principal "$principal" "$name.omb" -o proof.json || fail "prove $principal ($name)"
        sources=()
        for f in "${files[@]}"; do grep -q "by principal \"$principal\"" "$f" && sources+=(--source "$f"); done
        "$omegac" attest check-module --proof proof.json "${sources[@]}" --evidence "evidence-$name.json" \
            --nonce "$n" --trust-ark authority/ark.pem > check.out 2>&1 ||
            { cat check.out; fail "check-module $principal ($name)"; }
        count=$(grep -c "^ok    .*: module" check.out)
        [ "$count" -eq $((${#sources[@]} / 2)) ] || { cat check.out; fail "check-module $principal: $count modules"; }
        proofs=$((proofs + count))
    done <<< "$principals"
    # A changed source, another bundle's evidence, another nonce: rejected.
    first=${files[0]}
    principal=$(grep -ho 'by principal "[^"]*"' "$first" | sed 's/.*"\(.*\)"/\1/')
    "$omegac" attest prove --principal "$principal" "$name.omb" -o proof.json || fail "prove $principal"
    sed 's/$/ /' "$first" > changed.omega
    "$omegac" attest check-module --proof proof.json --source changed.omega --evidence "evidence-$name.json" \
        --nonce "$n" --trust-ark authority/ark.pem > changed.out 2>&1 && fail "$name: a changed source was accepted"
    "$omegac" attest check-module --proof proof.json --source "$first" --evidence evidence.json \
        --nonce "$nonce" --trust-ark authority/ark.pem > stale.out 2>&1
    status=$?
    [ "$name" = clinic ] || [ "$status" -eq 1 ] || { cat stale.out; fail "$name: another bundle's evidence was accepted"; }
done
[ "$proofs" -ge 10 ] || fail "only $proofs modules proven"

kill -TERM "$pid"
wait "$pid" || fail "omegad did not stop cleanly"
pid=
# The attested head is in the log, and the log verifies up to it and beyond.
"$omegac" audit verify decisions.log --key log-key.pub.pem --expect-head "$head" --expect-closed > audit.out ||
    { cat audit.out; fail "the log does not hold the attested head $head"; }
echo "attestation end to end: ok (evidence verified, 5 tamperings rejected, $proofs modules proven in the attested policy)"
