#!/usr/bin/env bash
# test_cli_bus.sh - hive-cli against a real mosquitto broker:
# send, send --wait against a responder, reply, exit codes, and
# refusal of replayed, tampered, forged and topic-mismatched publishes
# (including a replay after the receiver restarts).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_broker
gen_node turq-18789
gen_node pg1-18890
mkdir -p "$T/rogue"
"$CLI" keygen --node pg1-18890 --dir "$T/rogue" >/dev/null	# untrusted

B=(-h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys")
TURQ=("${B[@]}" --sign-key "$T/priv/turq-18789.key")
PG1=("${B[@]}" --sign-key "$T/priv/pg1-18890.key")
PUB=(mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1)

# start_responder NAME ARGS...: output in $T/NAME.out, waits for ready
start_responder() {
	local name=$1; shift
	"$RESPONDER" -h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys" \
	    --sign-key "$T/priv/pg1-18890.key" "$@" >"$T/$name.out" \
	    2>"$T/$name.err" &
	PIDS+=("$!")
	RESP_PID=$!
	wait_for "$T/$name.out" '^ready$'
}

# --- send --wait round trip against a responder -----------------------
start_responder r1 --state "$T/r1.win" --count 1
rc=0
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "check disk" \
    --wait 10 >"$T/wait.out" 2>"$T/wait.err" || rc=$?
check "send --wait exits 0 on a verified reply" [ "$rc" -eq 0 ]
sent_id=$(sed -n 's/^sent: //p' "$T/wait.err" | jq -r .id)
check "reply is from the addressed node" \
    [ "$(jq -r .from "$T/wait.out")" = pg1-18890 ]
check "reply corr is the sent id" [ "$(jq -r .corr "$T/wait.out")" = "$sent_id" ]
check "reply replyTo is the sent id" \
    [ "$(jq -r .replyTo "$T/wait.out")" = "$sent_id" ]
check "reply text is the responder's" \
    [ "$(jq -r .text "$T/wait.out")" = "echo: check disk" ]
check "printed reply verifies" \
    "$CLI" verify --keys "$T/keys" "$T/wait.out" >/dev/null
wait "$RESP_PID"

# --- replay, tamper, forgery, topic mismatch, replay after restart -----
start_responder r2 --state "$T/r2.win" --count 100 --no-reply
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "run job" \
    --action echo --args '{"n":1}' >"$T/cmd.json"
check "plain send prints a valid envelope" \
    "$CLI" verify --keys "$T/keys" "$T/cmd.json" >/dev/null
wait_for "$T/r2.out" '^accepted id='
"${PUB[@]}" -t hive/pg1-18890/command -f "$T/cmd.json"
wait_for "$T/r2.out" 'refused reason=replay'
ok "exact replay refused as replay"
sed 's/run job/rm -rf \//' "$T/cmd.json" >"$T/tampered.json"
"${PUB[@]}" -t hive/pg1-18890/command -f "$T/tampered.json"
wait_for "$T/r2.out" 'refused reason=bad-signature'
ok "tampered text refused as bad-signature"
rc=0; "$CLI" verify --keys "$T/keys" "$T/tampered.json" >"$T/v.out" || rc=$?
check "verify of tampered envelope exits 1" [ "$rc" -eq 1 ]
check "verify names bad-signature" grep -q 'reason=bad-signature' "$T/v.out"
"${PUB[@]}" -t hive/pg1-18890/alert -f "$T/cmd.json"
wait_for "$T/r2.out" 'refused reason=topic-mismatch'
ok "valid envelope on another channel's topic refused as topic-mismatch"
"$CLI" send -h 127.0.0.1 -p "$BROKER_PORT" \
    --force --sign-key "$T/rogue/pg1-18890.key" --to pg1-18890 --ch command \
    --text forged >/dev/null
wait_for "$T/r2.out" 'refused reason=unknown-key'
ok "envelope signed by an untrusted key refused as unknown-key"
"${PUB[@]}" -t hive/pg1-18890/command -m '{"v":2,"id":'
wait_for "$T/r2.out" 'refused reason=bad-json'
ok "truncated JSON refused as bad-json"
kill "$RESP_PID"; wait "$RESP_PID" 2>/dev/null || true
check "no refused message was accepted" \
    [ "$(count_lines "$T/r2.out" '^accepted')" -eq 1 ]

start_responder r3 --state "$T/r2.win" --count 1 --no-reply
"${PUB[@]}" -t hive/pg1-18890/command -f "$T/cmd.json"
wait_for "$T/r3.out" 'refused reason=replay'
ok "replay after the receiver restarted is still refused"
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text fresh >/dev/null
wait_for "$T/r3.out" '^accepted'
wait "$RESP_PID"
check "restarted receiver accepted exactly the fresh message" \
    [ "$(count_lines "$T/r3.out" '^accepted')" -eq 1 ]

# --- reply: create_reply semantics, received by send --wait ------------
rc=0
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "status?" \
    --corr job-7 --wait 15 >"$T/w2.out" 2>"$T/w2.err" &
waiter=$!
wait_for "$T/w2.err" '^sent: '
sed -n 's/^sent: //p' "$T/w2.err" >"$T/orig.json"
"$CLI" reply "${PG1[@]}" --to-msg "$(cat "$T/orig.json")" --text "all good" \
    >"$T/reply.json"
wait "$waiter" || rc=$?
orig_id=$(jq -r .id "$T/orig.json")
check "reply goes to the original sender" \
    [ "$(jq -r .to "$T/reply.json")" = turq-18789 ]
check "reply is on the response channel" \
    [ "$(jq -r .ch "$T/reply.json")" = response ]
check "reply corr keeps the original corr" \
    [ "$(jq -r .corr "$T/reply.json")" = job-7 ]
check "reply replyTo is the original id" \
    [ "$(jq -r .replyTo "$T/reply.json")" = "$orig_id" ]
check "send --wait exits 0 on the reply" [ "$rc" -eq 0 ]
check "send --wait printed the reply" \
    [ "$(jq -r .text "$T/w2.out")" = "all good" ]
"$CLI" reply "${PG1[@]}" --to-msg "$T/cmd.json" --text "file form" \
    >"$T/reply2.json"
rc=0; "$CLI" reply "${PG1[@]}" --to-msg "$T/tampered.json" --text "obey" \
    >/dev/null 2>"$T/r.err" || rc=$?
check "reply refuses a tampered original (exit 1)" [ "$rc" -eq 1 ]
check "reply names the reason" grep -q 'reason=bad-signature' "$T/r.err"
rc=0; "$CLI" reply -h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/nowhere" \
    --sign-key "$T/priv/pg1-18890.key" --to-msg "$T/cmd.json" --text x \
    >/dev/null 2>&1 || rc=$?
check "reply without a keyring is an error unless --no-verify (2)" \
    [ "$rc" -eq 2 ]
rc=0; "$CLI" reply -h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/nowhere" \
    --sign-key "$T/priv/pg1-18890.key" --to-msg "$T/cmd.json" --text x \
    --no-verify >/dev/null 2>&1 || rc=$?
check "reply --no-verify skips the keyring" [ "$rc" -eq 0 ]
check "reply from a file uses the original id as corr" \
    [ "$(jq -r .corr "$T/reply2.json")" = "$(jq -r .id "$T/cmd.json")" ]

# --- revocation, seen by verify -----------------------------------------
mkdir -m 700 "$T/ring2"
cp "$T/keys/"*.pub "$T/ring2/"
jq -r .kid "$T/cmd.json" >"$T/ring2/revoked"
rc=0; "$CLI" verify --keys "$T/ring2" "$T/cmd.json" >"$T/v2.out" || rc=$?
check "an envelope signed by a revoked kid is refused (exit 1)" [ "$rc" -eq 1 ]
check "verify names revoked" grep -q 'reason=revoked' "$T/v2.out"
printf 'node turq-18789 before %s\n' "$(( $(jq -r .ts "$T/cmd.json") + 1 ))" \
    >"$T/ring2/revoked"
rc=0; "$CLI" verify --keys "$T/ring2" "$T/cmd.json" >"$T/v2.out" || rc=$?
check "a node-wide revocation refuses what it signed before" [ "$rc" -eq 1 ]
rc=0; "$CLI" verify --keys "$T/ring2" --no-time "$T/cmd.json" >/dev/null ||
    rc=$?
check "--no-time does not bypass revocation" [ "$rc" -eq 1 ]

# --- exit codes --------------------------------------------------------
rc=0
"$CLI" send "${TURQ[@]}" --force --to nobody-1 --ch command --text "hello?" \
    --wait 1 >/dev/null 2>&1 || rc=$?
check "send --wait with no reply exits 1" [ "$rc" -eq 1 ]

rc=0
"$CLI" send "${TURQ[@]}" --force --to nobody-1 --ch command --text "hello?" \
    --wait 4 >/dev/null 2>"$T/w3.err" &
waiter=$!
wait_for "$T/w3.err" '^sent: '
"${PUB[@]}" -t hive/turq-18789/response -m 'not json at all'
wait "$waiter" || rc=$?
check "send --wait with only refused replies exits 4" [ "$rc" -eq 4 ]
check "the refused reply was logged with its reason" \
    grep -q 'refused reason=bad-json' "$T/w3.err"

rc=0
# a port the kernel just gave us and took back: nobody listens there
closed=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CLI" send -h 127.0.0.1 -p "$closed" --force \
    --sign-key "$T/priv/turq-18789.key" --to pg1-18890 --ch command --text x >/dev/null 2>&1 || rc=$?
check "broker unreachable exits 3" [ "$rc" -eq 3 ]

# --- a node nobody knows ------------------------------------------------
# A persistent QoS 1 session on {p}/pg1/# holds whatever reaches that
# topic; read back after the sends, its first message must be the
# forced one: the refused sends published nothing.
PROBE=(mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -c -i probe-pg1
    -t 'hive/pg1/#')
"${PROBE[@]}" -E
rc=0
"$CLI" send "${TURQ[@]}" --to pg1 --ch command --text "short name" \
    >/dev/null 2>"$T/unknown.err" || rc=$?
check "send --to a node not in the keyring is refused (exit 2)" [ "$rc" -eq 2 ]
check "...naming the known nodes" \
    grep -q 'no node pg1 in the keyring .*known: .*pg1-18890' "$T/unknown.err"
rc=0
"$CLI" send -h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/nowhere" \
    --sign-key "$T/priv/turq-18789.key" --to pg1 --ch command --text nokeys \
    >/dev/null 2>"$T/nokeys.err" || rc=$?
check "...and refused (exit 2) when the keyring cannot be loaded" \
    [ "$rc" -eq 2 ]
check "...saying --force sends anyway" grep -q -- '--force' "$T/nokeys.err"
"$CLI" send "${TURQ[@]}" --force --to pg1 --ch command --text forced \
    >/dev/null
"${PROBE[@]}" -C 1 -W 10 >"$T/probe.out"
check "...nothing published; --force publishes" \
    [ "$(jq -r .text "$T/probe.out")" = forced ]

# The daemon's refusal codes, as hive-cli maps them to exit codes
# (docs/cli.md, "Exit codes"): a stand-in for the daemon's control
# socket answers each request with the code the test names, so that
# "busy" (hard to provoke in a real daemon: its queues must be full)
# is checked as well as the others.
cat >"$T/fake-daemon.py" <<'PY'
import json, os, socket, sys
path, codes = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(path + ".tmp"); s.listen(4); os.rename(path + ".tmp", path)
for code in codes:
    c, _ = s.accept()
    json.loads(c.recv(200000))
    c.send(json.dumps({"ok": False, "code": code,
                       "error": "stand-in"}).encode())
    c.close()
PY
codes=(busy broker denied bad-request not-local refused oversize)
python3 "$T/fake-daemon.py" "$T/fake.sock" "${codes[@]}" &
PIDS+=("$!")
wait_until test -S "$T/fake.sock"
for code in "${codes[@]}"; do
	rc=0
	"$CLI" send --socket "$T/fake.sock" --to pg1-18890 --ch command \
	    --text x >/dev/null 2>"$T/fake.err" || rc=$?
	case $code in busy|broker) want=3 ;; *) want=2 ;; esac
	check "the daemon answering $code: exit $want" \
	    bash -c '[ "$1" -eq "$2" ] && grep -q "hive-daemon: $3: stand-in" "$4"' \
	    _ "$rc" "$want" "$code" "$T/fake.err"
done
rc=0; "$CLI" send --socket "$T/no-such.sock" --to pg1-18890 --ch command \
    --text x >/dev/null 2>&1 || rc=$?
check "no daemon at the control socket: exit 3" [ "$rc" -eq 3 ]
rc=0; "$CLI" send --to pg1-18890 --text x >/dev/null 2>&1 || rc=$?
check "missing --ch is a usage error (2)" [ "$rc" -eq 2 ]
rc=0; "$CLI" send "${TURQ[@]}" --to pg1-18890 --ch chat --text x \
    >/dev/null 2>&1 || rc=$?
check "invalid channel is refused before publishing (2)" [ "$rc" -eq 2 ]
rc=0; "$CLI" verify --keys "$T/keys" "$T/does-not-exist" >/dev/null 2>&1 ||
    rc=$?
check "verify of a missing file exits 2" [ "$rc" -eq 2 ]
rc=0; "$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text x \
    --ttl 100000 >/dev/null 2>&1 || rc=$?
check "--ttl above max_ttl is refused before publishing (2)" [ "$rc" -eq 2 ]
rc=0; "$CLI" send "${TURQ[@]}" --ttl 100000 --max-ttl 200000 --to pg1-18890 \
    --ch command --text x >/dev/null 2>&1 || rc=$?
check "--ttl is checked against --max-ttl given after it" [ "$rc" -eq 0 ]
printf 'port %s\nhost 127.0.0.1\nprefix other/hive\n' "$BROKER_PORT" \
    >"$T/c.conf"
chmod 600 "$T/c.conf"
"$CLI" send -c"$T/c.conf" --force --sign-key "$T/priv/turq-18789.key" \
    --to pg1-18890 --ch status --text conf >"$T/c.out"
check "-cFILE is honoured (broker and port from the file)" \
    [ "$(jq -r .text "$T/c.out")" = conf ]

finish
