#!/usr/bin/env bash
# test_daemon_pair.sh - two hive-daemons on one real mosquitto broker,
# driven through their control sockets as agents use them:
#   turq  serves turq-18789
#   pg1   serves pg1-18890 and mini1-18889 (multi-instance), with an
#         openclaw double that plays an agent answering every command
# Shows: status and roster from the meta view; a --wait round trip
# through both daemons; correlation (pending, enrichment, --session,
# unsolicited responses refused, expiry alert); scatter-gather with
# --replies; multi-instance routing; SO_PEERCRED permissions.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_broker
gen_node turq-18789
gen_node pg1-18890
gen_node mini1-18889
chmod 755 "$T"
me=$(id -un)

setup_box turq turq-18789 "corr_ttl 4
role master
capabilities image-gen,heavy-compute" "socket send $me
socket reply $me"
setup_box pg1 pg1-18890,mini1-18889 "" "socket send *
socket reply *"
printf '18890 pg1-18890\n18889 mini1-18889\n' >"$T/pg1/calls/instances"
echo "$CLI $T/pg1/run/hive.sock" >"$T/pg1/calls/autoreply"
start_box turq
start_box pg1

TURQ=(--socket "$T/turq/run/hive.sock")
turq_calls() { cat "$T/turq/calls/calls.log"; }
pg1_calls() { cat "$T/pg1/calls/calls.log"; }

# --- the meta view -------------------------------------------------------
status_has() { "$CLI" status "${TURQ[@]}" --json >"$T/status.json" &&
    [ "$(jq '[.[].data.node] | sort | join(",")' -r "$T/status.json")" = \
    "mini1-18889,pg1-18890,turq-18789" ]; }
check "status shows the three nodes of both daemons" wait_until status_has
check "...all online" [ "$(jq -r '[.[].data.status] | unique | join(",")' \
    "$T/status.json")" = online ]
check "status prints a table for people" \
    bash -c 'grep -q "^pg1-18890 .* online" <<<"$("$1" status --socket "$2")"' \
    _ "$CLI" "$T/turq/run/hive.sock"
"$CLI" roster "${TURQ[@]}" --json >"$T/roster.json"
check "roster shows turq's role and capabilities" \
    [ "$(jq -r '.[] | select(.data.node == "turq-18789") |
    .data.role + " " + (.data.capabilities | join(","))' \
    "$T/roster.json")" = "master image-gen,heavy-compute" ]
"$CLI" roster "${TURQ[@]}" >"$T/roster.txt"
check "roster's table writes a list as a,b" \
    grep -Eq '^turq-18789 +master +image-gen,heavy-compute ' "$T/roster.txt"
# every line's first four columns start where the heading's do
aligned() { python3 -c 'import re, sys
rows = [[m.start() for m in re.finditer(r"\S+", l)][:4]
        for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if len(rows) > 1 and all(r == rows[0] for r in rows) else 1)' "$1"; }
check "...and its columns line up" aligned "$T/roster.txt"
check "roster documents are signed by their node" \
    [ "$(jq -r '[.[] | select(.from != .data.node)] | length' \
    "$T/roster.json")" = 0 ]

# --- --wait round trip through two daemons -------------------------------
rc=0
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "check disk" \
    --wait 20 >"$T/wait.out" 2>"$T/wait.err" || rc=$?
check "send --wait through the daemons exits 0" [ "$rc" -eq 0 ]
check "the reply is pg1's agent's answer" \
    [ "$(jq -r .text "$T/wait.out")" = "echo: check disk" ]
check "...from pg1-18890, a response" \
    [ "$(jq -r '.from + " " + .ch' "$T/wait.out")" = "pg1-18890 response" ]
sent_id=$(sed -n 's/^sent: //p' "$T/wait.err" | jq -r .id)
check "...whose corr is the sent id" \
    [ "$(jq -r .corr "$T/wait.out")" = "$sent_id" ]
check "the command was injected only into pg1-18890's instance" \
    bash -c '[ "$(grep -c "check disk" "$1")" -eq 1 ] &&
    grep "check disk" "$1" | jq -e "index(\"--port\") as \$i |
    .[\$i + 1] == \"18890\"" >/dev/null' _ "$T/pg1/calls/calls.log"
check "a waited-for response is not also injected at turq" \
    bash -c '! grep -q "echo: check disk" "$1"' _ "$T/turq/calls/calls.log"

# --- multi-instance routing ----------------------------------------------
"$CLI" send "${TURQ[@]}" --to mini1-18889 --ch alert --text "mini1 only" \
    >/dev/null
check "a message to mini1-18889 reaches mini1's instance (port 18889)" \
    wait_for "$T/pg1/calls/calls.log" 'mini1 only.*"--port","18889"'
check "...and not pg1's" bash -c '[ "$(grep -c "mini1 only" "$1")" -eq 1 ]' \
    _ "$T/pg1/calls/calls.log"

# --- scatter-gather ------------------------------------------------------
rc=0
"$CLI" send "${TURQ[@]}" --to all --ch command --text "who is there" \
    --wait 20 --replies 2 >"$T/all.out" 2>"$T/all.err" || rc=$?
check "--to all --replies 2 collects two responses" \
    [ "$rc" -eq 0 -a "$(wc -l <"$T/all.out")" -eq 2 ]
check "...one from each of pg1's instances" \
    [ "$(jq -rs '[.[].from] | sort | join(",")' "$T/all.out")" = \
    "mini1-18889,pg1-18890" ]
check "the sender's own instance did not get its broadcast" \
    bash -c '! grep -q "who is there" "$1"' _ "$T/turq/calls/calls.log"

# --- correlation enrichment and --session --------------------------------
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "rebuild index" \
    --session sess-42 >/dev/null
check "an unwaited response is injected at the sender, enriched" \
    wait_for "$T/turq/calls/calls.log" \
    're: \\"rebuild index\\" \(command to pg1-18890\): echo: rebuild index'
check "...into the session the sender named" \
    bash -c 'grep "rebuild index" "$1" | jq -e "index(\"--session-key\") as \$i |
    .[\$i + 1] == \"sess-42\"" >/dev/null' _ "$T/turq/calls/calls.log"
check "the session key never went on the bus" \
    bash -c '! grep -q sess-42 "$1"' _ "$T/pg1/calls/calls.log"

# --- unsolicited responses -----------------------------------------------
before=$(turq_calls | wc -l)
"$CLI" send -h 127.0.0.1 -p "$BROKER_PORT" \
    --force --sign-key "$T/priv/pg1-18890.key" --to turq-18789 --ch response \
    --corr never-asked --text "trust me" >/dev/null
wait_for "$T/turq/daemon.log" 'refused reason=unsolicited'
ok "a response to no command of ours is refused as unsolicited"
"$CLI" send "${TURQ[@]}" --to turq-18789 --ch alert --text marker >/dev/null
wait_for "$T/turq/calls/calls.log" marker
check "...and never injected" bash -c '! grep -q "trust me" "$1"' \
    _ "$T/turq/calls/calls.log"

# --- a node nobody knows ------------------------------------------------
# A persistent QoS 1 session on {p}/pg1/# holds whatever reaches that
# topic while we send; read back afterwards, its first message must be
# the forced one (the refused send published nothing).
PROBE=(mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -c -i probe-pg1
    -t 'hive/pg1/#')
"${PROBE[@]}" -E
rc=0
"$CLI" send "${TURQ[@]}" --to pg1 --ch alert --text "short name" \
    >/dev/null 2>"$T/unknown.err" || rc=$?
check "send --to a node nobody knows is refused (exit 2)" [ "$rc" -eq 2 ]
check "...as unknown-node, naming the known nodes" \
    grep -q 'unknown-node: no node pg1 .*known: .*pg1-18890' "$T/unknown.err"
"$CLI" send "${TURQ[@]}" --force --to pg1 --ch alert --text "forced" \
    >/dev/null
"${PROBE[@]}" -C 1 -W 10 >"$T/probe.out"
check "...nothing published; --force publishes" \
    [ "$(jq -r .text "$T/probe.out")" = forced ]

# --- pending and expiry --------------------------------------------------
"$CLI" send "${TURQ[@]}" --force --to ghost-1 --ch command --text "anyone?" \
    --corr lost-1 >/dev/null
pending_has() { "$CLI" pending "${TURQ[@]}" --json |
    jq -e '.[] | select(.data.corr == "lost-1" and
    .data.status == "pending")' >/dev/null; }
check "pending shows the unanswered command" wait_until pending_has
check "an expired command raises one alert to its sender" \
    wait_for "$T/turq/calls/calls.log" \
    'no response to command \[corr:lost-1\] sent to ghost-1'
pending_gone() { ! "$CLI" pending "${TURQ[@]}" --json |
    jq -e '.[] | select(.data.corr == "lost-1")' >/dev/null; }
check "...and its retained document is cleared" wait_until pending_gone

# --- permissions ---------------------------------------------------------
if [ "$(id -u)" -eq 0 ]; then
	rc=0
	setpriv --reuid nobody --regid nogroup --clear-groups "$CLI" send \
	    "${TURQ[@]}" --to pg1-18890 --ch command --text no \
	    2>"$T/denied.err" || rc=$?
	check "a user not in the policy's socket send is denied (exit 2)" [ "$rc" -eq 2 ]
	check "...with a named reason" grep -q 'denied' "$T/denied.err"
	check "...and the daemon logged it" \
	    wait_for "$T/turq/daemon.log" 'refused reason=denied op=send'
	check "reading is open to every local user by default" \
	    bash -c 'grep -q "^turq-18789 " <<<"$(setpriv --reuid nobody \
	    --regid nogroup --clear-groups "$1" status --socket "$2")"' \
	    _ "$CLI" "$T/turq/run/hive.sock"
else
	echo "# not root: SO_PEERCRED denial checks skipped"
fi
printf '{"op":"send","to":"x","ch":"command","text":"t","evil":1}' |
    "$HIVE_BIN/tests/hive-test-ctlsend" "$T/turq/run/hive.sock" >"$T/bad.out"
printf '{"op":"send","op":"status"}' |
    "$HIVE_BIN/tests/hive-test-ctlsend" "$T/turq/run/hive.sock" >"$T/dup.out"
check "a duplicate key is refused as bad-request" \
    grep -q '"code":"bad-request"' "$T/dup.out"
check "an unknown request field is refused as bad-request" \
    grep -q '"code":"bad-request"' "$T/bad.out"
printf '{"op":"send","to":"x\\nrefused reason=forged-line","ch":"command","text":"t"}' |
    "$HIVE_BIN/tests/hive-test-ctlsend" "$T/turq/run/hive.sock" >"$T/badto.out"
check "a malformed 'to' is refused at the socket as bad-request" \
    grep -q '"code":"bad-request"' "$T/badto.out"
check "...and no client text reaches the daemon's log" \
    bash -c '! grep -q "forged-line" "$1"' _ "$T/turq/daemon.log"

finish
