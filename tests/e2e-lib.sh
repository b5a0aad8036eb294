# Shared by the end-to-end scripts (check-omegad.sh, check-attest.sh): a scratch directory removed on exit with the
# daemon in $pid killed, fail() that shows the daemon's stderr, and the publisher and log keys those tests sign with.
# Usage: . e2e-lib.sh NAME   (then cd'ed into $work)
work=$(mktemp -d "/tmp/$1.XXXXXX")
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    [ -f "$work/omegad.err" ] && sed "s/^/  | /" "$work/omegad.err"
    exit 1
}
cd "$work" || exit 1

# publisher.pem signs bundles (trusted as publisher.pub.pem); log-key.pem signs the decision log's checkpoints.
for key in publisher log-key; do
    openssl genpkey -algorithm ed25519 -out "$key.pem" 2>/dev/null || fail "openssl genpkey"
    openssl pkey -in "$key.pem" -pubout -out "$key.pub.pem" || fail "openssl pkey"
done
