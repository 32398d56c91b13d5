#!/usr/bin/env bash
# test_tls.sh - hive-cli's broker options against a real mosquitto with
# TLS, a password file and client certificates: the right CA, user and
# certificate connect; a wrong CA, a wrong password, plain TCP to a TLS
# port, or a missing client certificate are broker errors (exit 3).
# Then the daemon: over TLS with a password, across a broker restart
# (the reconnect happens as the router's user, inside its sandbox), and
# refusing to start against a broker whose CA it does not trust.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

gen_node turq-18789
P="$T/pki"
mkdir -p "$P"
ossl() { openssl "$@" >/dev/null 2>&1; }
# a CA, a server certificate for localhost, a client certificate, and
# an unrelated CA the client must not accept
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=hive-test-ca -keyout "$P/ca.key" -out "$P/ca.crt"
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=other-ca -keyout "$P/other.key" -out "$P/other.crt"
for who in server client; do
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=$who" -keyout "$P/$who.key" -out "$P/$who.csr"
	printf 'subjectAltName=DNS:localhost\n' >"$P/$who.ext"
	ossl x509 -req -in "$P/$who.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" \
	    -CAcreateserial -days 2 -extfile "$P/$who.ext" -out "$P/$who.crt"
done
check "test PKI generated" [ -s "$P/server.crt" -a -s "$P/client.crt" ]

mosquitto_passwd -b -c "$P/passwd" turq s3cret-pw
printf 's3cret-pw\n' >"$P/pw"
printf 'wrong\n' >"$P/badpw"
chmod 600 "$P/pw" "$P/badpw"

BROKER_EXTRA="cafile $P/ca.crt
certfile $P/server.crt
keyfile $P/server.key
allow_anonymous false
password_file $P/passwd"
start_broker
TLS_PORT=$BROKER_PORT

send() {	# send PORT extra-args...: prints the exit code
	local port=$1 rc=0; shift
	"$CLI" send -h localhost -p "$port" --force --sign-key "$T/priv/turq-18789.key" \
	    --to pg1-18890 --ch command --text tls "$@" >/dev/null \
	    2>>"$T/send.err" || rc=$?
	echo "$rc"
}

check "TLS with the right CA and password publishes (exit 0)" \
    [ "$(send "$TLS_PORT" --cafile "$P/ca.crt" -u turq \
    --password-file "$P/pw")" -eq 0 ]
mkdir -p "$P/capath"
cp "$P/ca.crt" "$P/capath/"
openssl rehash "$P/capath" >/dev/null 2>&1
check "--capath works like --cafile" \
    [ "$(send "$TLS_PORT" --capath "$P/capath" -u turq \
    --password-file "$P/pw")" -eq 0 ]
check "an untrusted server CA is a broker error (3)" \
    [ "$(send "$TLS_PORT" --cafile "$P/other.crt" -u turq \
    --password-file "$P/pw")" -eq 3 ]
check "a wrong password is a broker error (3)" \
    [ "$(send "$TLS_PORT" --cafile "$P/ca.crt" -u turq \
    --password-file "$P/badpw")" -eq 3 ]
check "plain TCP to the TLS port is a broker error (3)" \
    [ "$(send "$TLS_PORT" -u turq --password-file "$P/pw")" -eq 3 ]
chmod 644 "$P/pw"
check "a password file others can read is refused (2)" \
    [ "$(send "$TLS_PORT" --cafile "$P/ca.crt" -u turq \
    --password-file "$P/pw")" -eq 2 ]
chmod 600 "$P/pw"
check "a missing password file is a local error (2)" \
    [ "$(send "$TLS_PORT" --cafile "$P/ca.crt" -u turq \
    --password-file "$P/none")" -eq 2 ]

# hostname verification: the server certificate names only localhost,
# so the same broker reached as 127.0.0.1 must be refused
check "a host name the certificate does not carry is refused (3)" bash -c '
    rc=0; "$@" 2>/dev/null || rc=$?; [ "$rc" -eq 3 ]' _ \
    "$CLI" send -h 127.0.0.1 -p "$TLS_PORT" \
    --force --sign-key "$T/priv/turq-18789.key" --to pg1-18890 --ch command \
    --text x --cafile "$P/ca.crt" -u turq --password-file "$P/pw"

# --- the daemon over TLS, with a password, across a broker restart ---
chmod 755 "$T"
BROKER_PORT=$TLS_PORT
setup_box tb turq-18789 "cafile $P/ca.crt
username turq
password_file $P/pw" "socket send *"
sed -i 's/^host 127.0.0.1$/host localhost/' "$T/tb/hive.conf"
start_box tb
ok "the daemon connects over TLS with a password and subscribes"
"$CLI" send --socket "$T/tb/run/hive.sock" --to turq-18789 --ch alert \
    --text "over tls" >/dev/null
check "...and its traffic flows (an alert to itself is injected)" \
    wait_for "$T/tb/calls/calls.log" "over tls"
restart_broker TERM
# our own heartbeat coming back proves the subscriptions are in place:
# one more in the audit log than there were when it said it reconnects
beats() { count_lines "$T/tb/log/audit.log" \
    '"ch":"heartbeat","event":"accepted","from":"turq-18789"'; }
n0=
beat_after() {
	grep -q 'reconnecting to the broker' "$T/tb/daemon.log" || return 1
	[ -n "$n0" ] || n0=$(beats)
	[ "$(beats)" -gt "$n0" ]
}
check "after a broker restart it reconnects over TLS (as its own user)" \
    wait_until beat_after
"$CLI" send --socket "$T/tb/run/hive.sock" --to turq-18789 --ch alert \
    --text "tls again" >/dev/null
check "...and traffic flows again" wait_for "$T/tb/calls/calls.log" "tls again"
setup_box tbad turq-18789 "cafile $P/other.crt
username turq
password_file $P/pw"
sed -i 's/^host 127.0.0.1$/host localhost/' "$T/tbad/hive.conf"
rc=0
timeout 30 "$DAEMON" -f -c "$T/tbad/hive.conf" 2>"$T/tbad/daemon.log" || rc=$?
check "a daemon that does not trust the broker's CA does not start (exit 1)" \
    [ "$rc" -eq 1 ]
check "...and says why" grep -q 'router: fatal: broker: .*TLS error' \
    "$T/tbad/daemon.log"

BROKER_EXTRA="cafile $P/ca.crt
certfile $P/server.crt
keyfile $P/server.key
require_certificate true
allow_anonymous true"
start_broker
CERT_PORT=$BROKER_PORT
check "a client certificate (--cert/--key) is accepted" \
    [ "$(send "$CERT_PORT" --cafile "$P/ca.crt" --cert "$P/client.crt" \
    --key "$P/client.key")" -eq 0 ]
check "no client certificate where one is required is refused (3)" \
    [ "$(send "$CERT_PORT" --cafile "$P/ca.crt")" -eq 3 ]

finish
