#!/usr/bin/env bash
# test_bridge.sh - two sites joined by a mosquitto bridge, as users
# deploy a bus across hosts (docs/bridging.md):
#   host A  network namespace, broker A, daemon turq (turq-18789)
#   host B  network namespace, broker B, daemon pg1 (pg1-18890) with
#           the example echo handler under its shipped seccomp block
# joined by a veth pair (10.77.0.1 - 10.77.0.2).  Broker A bridges
# the hive topics at QoS 1 to broker B over TLS with a client
# certificate; B lets the bridge's identity at hive/# only.  Envelopes
# cross both ways, each node's retained meta documents from its own
# site only.  Shows:
# status and a retained roster across the bridge, a command signed on A
# that verifies on B byte for byte, a send --wait round trip answered by
# pg1's echo handler, and copies tampered by a process on the bridge
# host (A), which injects them through a topic remap of the bridge,
# refused as bad-signature in pg1's audit log, reaching neither a
# handler nor the agent.  Skips (77) only where the kernel will not
# create network namespaces (or without root, which handlers need).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_root_for_handlers
command -v ip >/dev/null || { echo "ip (iproute2) missing: scripts/deps.sh installs it" >&2; exit 1; }

# --- two hosts: network namespaces and a veth pair -------------------------
NSA=hive-a-$$ NSB=hive-b-$$
NS_MADE=()
ns_cleanup() {	# what we started in our namespaces, then the namespaces
	local ns p
	for ns in "${NS_MADE[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
}
trap 'cleanup; ns_cleanup' EXIT
# names with our pid: one left over can only be from a run that died
ip netns del "$NSA" 2>/dev/null || true
ip netns del "$NSB" 2>/dev/null || true
if ! err=$(ip netns add "$NSA" 2>&1); then
	echo "# the kernel forbids network namespaces here ($err); skipped"
	exit 77
fi
NS_MADE+=("$NSA")
ip netns add "$NSB"
NS_MADE+=("$NSB")
ip link add "hva$$" netns "$NSA" type veth peer name "hvb$$" netns "$NSB"
ip -n "$NSA" addr add 10.77.0.1/30 dev "hva$$"
ip -n "$NSB" addr add 10.77.0.2/30 dev "hvb$$"
for ns in "$NSA" "$NSB"; do ip -n "$ns" link set lo up; done
ip -n "$NSA" link set "hva$$" up
ip -n "$NSB" link set "hvb$$" up
inA() { ip netns exec "$NSA" "$@"; }
inB() { ip netns exec "$NSB" "$@"; }
A=10.77.0.1 B=10.77.0.2

# --- PKI for the link between the brokers ----------------------------------
P="$T/pki"
mkdir -p "$P"
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=hive-bridge-ca -keyout "$P/ca.key" -out "$P/ca.crt"
cert() {	# cert NAME SAN: a certificate of the CA
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=$1" -keyout "$P/$1.key" -out "$P/$1.csr"
	printf 'subjectAltName=%s\n' "$2" >"$P/$1.ext"
	ossl x509 -req -in "$P/$1.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" \
	    -CAcreateserial -days 2 -extfile "$P/$1.ext" -out "$P/$1.crt"
}
cert broker-b "IP:$B"
cert site-a "DNS:site-a"
printf 'user site-a\ntopic readwrite hive/#\n' >"$P/bridge.acl"

# --- broker B: local clients in the clear, the bridge over TLS -------------
BROKER_NAME=broker-b BROKER_NS=$NSB BROKER_ADDR=$B \
BROKER_EXTRA="allow_anonymous true
listener 8883 $B
cafile $P/ca.crt
certfile $P/broker-b.crt
keyfile $P/broker-b.key
require_certificate true
use_identity_as_username true
acl_file $P/bridge.acl
allow_anonymous false" start_broker
B_PORT=$BROKER_PORT

# --- broker A, bridging to B (the configuration docs/bridging.md shows) ----
# Envelopes ({p}/{to}/{ch}) and correlation documents both ways; each
# node's retained meta documents one way only, from its own site, so
# that a reconnecting bridge cannot hand a site back an older copy of
# its own documents.  Plus one remapped topic, not in the docs:
# relay/pg1-18890/command on A becomes hive/pg1-18890/command on B, the
# tamperer's way in.
BROKER_NAME=broker-a BROKER_NS=$NSA BROKER_ADDR=$A BROKER_TAIL="
connection site-b
address $B:8883
bridge_cafile $P/ca.crt
bridge_certfile $P/site-a.crt
bridge_keyfile $P/site-a.key
bridge_insecure false
remote_clientid site-a
cleansession false
notifications_local_only true
topic hive/+/+ both 1
topic hive/meta/corr/# both 1
topic hive/meta/turq-18789/# out 1
topic hive/meta/pg1-18890/# in 1
topic pg1-18890/command out 1 relay/ hive/" start_broker
A_PORT=$BROKER_PORT
check "broker A's bridge connects to B over TLS as site-a" \
    wait_for "$T/broker-b.log" "New bridge connected from $A:[0-9]+ as site-a .*u'site-a'" 20

# --- the two daemons -------------------------------------------------------
gen_node turq-18789
gen_node pg1-18890
chmod 755 "$T"
BROKER_ADDR=$A BROKER_PORT=$A_PORT setup_sender_box turq turq-18789
BROKER_ADDR=$B BROKER_PORT=$B_PORT setup_handler_box pg1 pg1-18890
{
	echo "allow from turq-18789 ch command"
	echo "allow from * ch alert"
	awk '/^handler echo \{/ { on = 1 } on { print } on && /^\}/ { exit }' \
	    "$HIVE_SRC/policy/hive.policy"
} >"$T/pg1/policy/hive.policy"
check "the echo handler's shipped block (seccomp strict) is in pg1's policy" \
    grep -q 'seccomp strict' "$T/pg1/policy/hive.policy"
install -m 755 "$HIVE_BIN/handlers.d/echo" "$T/pg1/handlers/"
start_box turq "$NSA"
start_box pg1 "$NSB"
TURQ=(--socket "$T/turq/run/hive.sock")
PG1=(--socket "$T/pg1/run/hive.sock")
AUDIT=$T/pg1/log/audit.log
# audited N REGEX: N lines of pg1's audit log match (keys are sorted:
# action ch corr detail event from id kid reason to ts)
audited() { [ "$(count_lines "$AUDIT" "$2")" -eq "$1" ]; }

online() {	# online SOCKET NODE: the daemon at SOCKET sees NODE online
	"$CLI" status --socket "$1" --json | jq -e --arg n "$2" \
	    '.[] | select(.data.node == $n and .data.status == "online")' \
	    >/dev/null
}
check "turq on A sees pg1-18890 on B online (B to A)" \
    wait_until online "$T/turq/run/hive.sock" pg1-18890
check "pg1 on B sees turq-18789 on A online (A to B)" \
    wait_until online "$T/pg1/run/hive.sock" turq-18789

# turq's roster, published retained on A, is retained on B as well: a
# reader that subscribes to B now gets it, signed by turq-18789
inB mosquitto_sub -h "$B" -p "$B_PORT" -t hive/meta/turq-18789/roster \
    --retained-only -C 1 -W 10 >"$T/roster.wire" || true
check "turq's retained roster is retained on broker B" [ -s "$T/roster.wire" ]
check "...and verifies there against the keyring" \
    bash -c 'grep -q "^valid from=turq-18789 " <<<"$("$1" verify --keys "$2" --no-time "$3")"' \
    _ "$CLI" "$T/keys" "$T/roster.wire"

# --- what a hostile bridge host does ---------------------------------------
# On A, a process subscribes to pg1's commands, keeps each original,
# changes its text, and publishes the copy into the remapped topic, so
# that broker A's bridge delivers it to B on hive/pg1-18890/command.
# A watcher on B records everything that arrives there.  Both wait for
# their SUBACK (stdbuf: mosquitto_sub's -d lines are not flushed to a
# pipe otherwise).
mkdir -m 700 "$T/tamper"
cat >"$T/tamper.sh" <<'SH'
set -eu
a=$1 port=$2 dir=$3 n=0
stdbuf -oL mosquitto_sub -d -h "$a" -p "$port" -q 1 \
    -t hive/pg1-18890/command -C 2 -W 50 |
while IFS= read -r line; do
	case $line in
	'{'*)	n=$((n + 1))
		printf '%s' "$line" >"$dir/orig.$n"
		printf '%s' "$line" | jq -c '.text += " (tampered)"' \
		    >"$dir/bad.$n"
		mosquitto_pub -h "$a" -p "$port" -q 1 \
		    -t relay/pg1-18890/command -f "$dir/bad.$n"
		echo "republished $n" >>"$dir/log" ;;
	*)	echo "$line" >>"$dir/log" ;;
	esac
done
SH
inA bash "$T/tamper.sh" "$A" "$A_PORT" "$T/tamper" &
PIDS+=("$!")
inB stdbuf -oL mosquitto_sub -d -h "$B" -p "$B_PORT" -q 1 \
    -t hive/pg1-18890/command -C 4 -W 50 >"$T/atB.log" &
PIDS+=("$!")
wait_for "$T/tamper/log" 'received SUBACK'
wait_for "$T/atB.log" 'received SUBACK'
check "no bad signature at pg1 before the tampering" \
    audited 0 '"reason":"bad-signature"'

# --- a command from A, answered by the echo handler on B -------------------
rc=0
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --action echo \
    --text "across the bridge" --wait 20 >"$T/echo.out" 2>"$T/echo.err" || rc=$?
check "send --wait from A to B's echo handler exits 0" [ "$rc" -eq 0 ]
sent_id=$(sed -n 's/^sent: //p' "$T/echo.err" | jq -r .id)
check "...the answer is the handler's result for our text" \
    [ "$(jq -r '.text | fromjson | .text' "$T/echo.out")" = "across the bridge" ]
check "...signed by pg1-18890 as the response to our command" \
    [ "$(jq -r '.from + " " + .ch + " " + .corr' "$T/echo.out")" = \
    "pg1-18890 response $sent_id" ]
check "pg1 accepted the command once" wait_until \
    audited 1 "\"event\":\"accepted\".*\"id\":\"$sent_id\""

# --- the agent path: a command with no action wakes pg1's agent ------------
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command \
    --text "for the agent on B" >/dev/null
check "a command for pg1's agent crosses the bridge and is injected" \
    wait_for "$T/pg1/calls/calls.log" 'for the agent on B' 20

# --- what arrived at B -----------------------------------------------------
check "the tamperer republished both commands" \
    wait_for "$T/tamper/log" 'republished 2' 20
check "...and both copies were refused at pg1 as bad-signature" wait_until \
    audited 2 '"event":"refused".*"reason":"bad-signature"'
check "...the audit lines name the topic they came in on" \
    audited 2 'topic=hive/pg1-18890/command".*"reason":"bad-signature"'
wait_for "$T/atB.log" 'DISCONNECT' 20 || true
grep '^{' "$T/atB.log" >"$T/atB.wire" || true
check "four messages arrived on B's hive/pg1-18890/command" \
    [ "$(wc -l <"$T/atB.wire")" -eq 4 ]
valid=0 bad=0 same=0 n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '%s' "$line" >"$T/atB.$n"
	out=$("$CLI" verify --keys "$T/keys" "$T/atB.$n" || true)
	case $out in
	valid*) valid=$((valid + 1))
		for o in "$T"/tamper/orig.*; do
			cmp -s "$o" "$T/atB.$n" && same=$((same + 1))
		done ;;
	*reason=bad-signature*) bad=$((bad + 1)) ;;
	esac
done <"$T/atB.wire"
check "two of them verify on B (the originals, signed on A)" [ "$valid" -eq 2 ]
check "...byte for byte as published on A" [ "$same" -eq 2 ]
check "...and two are the tampered copies, refused by verify too" [ "$bad" -eq 2 ]

# --- nothing of the tampered copies got anywhere ---------------------------
check "the echo handler ran once, for the original" \
    audited 1 "\"event\":\"handler\".*\"id\":\"$sent_id\""
check "...and pg1 ran no other handler" audited 1 '"event":"handler"'
check "the agent got the original command once" \
    [ "$(count_lines "$T/pg1/calls/calls.log" 'for the agent on B')" -eq 1 ]
check "...and no tampered text" \
    bash -c '! grep -q tampered "$1"' _ "$T/pg1/calls/calls.log"
check "pg1 accepted exactly the two originals" \
    audited 2 '"ch":"command".*"event":"accepted"'

finish
