#!/usr/bin/env bash
# test_restart.sh - what a planned restart and a crash look like from
# outside: turq-18789 watches pg1-18890 (a box with handlers).
#   - hive-cli status says online, stopped (a clean SIGTERM) and lost
#     (the last will of a SIGKILL, or a state whose heartbeats stopped),
#     with ages in human units;
#   - a command read while pg1 drains, and one sent while it is down,
#     run once each after it starts again, and nobody is alerted: not
#     the sender, and not pg1's own agent about pg1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root_for_handlers
SIGN=$HIVE_BIN/tests/hive-test-sign

start_broker
gen_node turq-18789
gen_node pg1-18890
gen_node old-3
chmod 755 "$T"

setup_sender_box turq turq-18789
setup_handler_box pg1 pg1-18890
mkdir -m 777 "$T/pg1/runs"
RUNS=$T/pg1/runs
cat >"$T/pg1/policy/hive.policy" <<'POLICY'
allow from turq-18789 ch command
allow from * ch alert
socket send *
socket reply *
POLICY
handler() {	# handler NAME BODY: a root-owned 0755 shell script
	printf '#!/bin/sh\n%s\n' "$2" >"$T/pg1/handlers/$1"
	chmod 755 "$T/pg1/handlers/$1"
}
handler slowish "echo started >$RUNS/slowish.started
sleep 2
cat >/dev/null
echo '{\"finished\":true}'"
handler count "cat >>$RUNS/count.log
echo >>$RUNS/count.log
echo '{\"counted\":true}'"

start_box turq
start_box pg1
PG1=${PIDS[-1]}
TURQ=(--socket "$T/turq/run/hive.sock")
send() { "$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command "$@" \
    >/dev/null; }
# the status line of NODE as turq's table shows it
status_line() { "$CLI" status "${TURQ[@]}" >"$T/status.txt" &&
    grep "^$1 " "$T/status.txt"; }
status_is() { local l; l=$(status_line "$1") &&
    [ "$(awk '{print $2}' <<<"$l")" = "$2" ]; }

check "a running node is online" wait_until status_is pg1-18890 online
check "...its age in seconds with a unit" \
    grep -Eq '^pg1-18890 +online +[0-9]+s ' "$T/status.txt"

# --- ages and "lost" from the state document alone ---------------------
# old-3's state, signed two hours ago: online by what it said, lost by
# its silence since
PUB=(mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -r)
python3 -c 'import json, time, uuid
now = int(time.time())
st = json.dumps({"node": "old-3", "status": "online", "since": now - 9000,
    "heartbeat_interval": 30, "last_heartbeat": now - 7200,
    "instances": ["old-3"]}, separators=(",", ":"))
print(json.dumps({"v": 2, "id": str(uuid.uuid4()), "ts": now - 7200,
    "from": "old-3", "to": "all", "ch": "heartbeat", "urgency": "later",
    "ttl": 86400, "text": st}))' | "$SIGN" "$T/priv/old-3.key" >"$T/old-3"
"${PUB[@]}" -t hive/meta/old-3/state -f "$T/old-3"
check "a state whose heartbeats stopped hours ago shows lost, 2h" \
    wait_until bash -c 'grep -Eq "^old-3 +lost +2h " <(
    "$1" status --socket "$2")' _ "$CLI" "$T/turq/run/hive.sock"

# --- a planned restart ---------------------------------------------------
send --action slowish --text "long"
wait_for "$RUNS/slowish.started" started
kill -TERM "$PG1"
wait_for "$T/pg1/daemon.log" 'router: info: draining'
send --action count --text "during the drain"
# ...and a forgery, signed by a key no keyring holds: never held
mkdir -m 700 "$T/rogue"
"$CLI" keygen --node rogue-1 --dir "$T/rogue" >/dev/null
"$CLI" send -h 127.0.0.1 -p "$BROKER_PORT" --force \
    --sign-key "$T/rogue/rogue-1.key" --to pg1-18890 --ch command \
    --action count --text "forged in the drain" >/dev/null
wait "$PG1" || true
check "after SIGTERM, turq's status shows pg1 stopped" \
    wait_until status_is pg1-18890 stopped
check "turq took the stop as planned" \
    wait_for "$T/turq/daemon.log" 'peer pg1-18890 (stopped|lost)'
check "...and raised no loss" \
    bash -c '! grep -q "peer pg1-18890 lost" "$1"' _ "$T/turq/daemon.log"
send --action count --text "while stopped"
check "the command read during the drain was held, not run" \
    bash -c '[ ! -e "$1" ]' _ "$RUNS/count.log"

check "the drain held only what a keyring member signed" \
    [ "$(count_lines "$T/pg1/daemon.log" 'draining: a message from')" = \
    "$(count_lines "$T/pg1/daemon.log" 'draining: a message from turq-18789 ')" ]
mv "$T/pg1/daemon.log" "$T/pg1/daemon.1.log"
start_box pg1
check "after the restart both commands ran" \
    wait_until bash -c '[ "$(grep -c . "$1" 2>/dev/null)" = 2 ]' _ \
    "$RUNS/count.log"
check "...the one from the drain and the one sent while stopped" \
    bash -c 'grep -q "during the drain" "$1" && grep -q "while stopped" "$1"' \
    _ "$RUNS/count.log"
check "...and pg1 is online again" wait_until status_is pg1-18890 online
# a marker through the same path as any alert: what came before it
# has been injected at pg1
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch alert --text "marker" >/dev/null
check "a later alert reaches pg1's agent" \
    wait_for "$T/pg1/calls/calls.log" marker
check "the forgery was refused, whether read in the drain or after" \
    wait_for "$T/pg1/log/audit.log" '"reason":"unknown-key"'
check "each command ran exactly once" \
    bash -c '[ "$(grep -c . "$1")" = 2 ]' _ "$RUNS/count.log"
check "the sender was told of no failure" \
    bash -c '! grep -Eq "failed|refused|stopping" "$1"' _ \
    "$T/turq/calls/calls.log"
check "the drain's own run finished and was answered" \
    bash -c '! grep -q "handler slowish.*failed" "$1"' _ "$T/turq/daemon.log"
check "pg1's agent heard nothing about pg1 itself" \
    bash -c '! grep -q "peer pg1-18890" "$1"' _ "$T/pg1/calls/calls.log"

# --- a crash -------------------------------------------------------------
PG1=${PIDS[-1]}
kill -KILL $(pgrep -P "$PG1") "$PG1"
wait "$PG1" || true
check "after SIGKILL, turq's status shows pg1 lost (its last will)" \
    wait_until status_is pg1-18890 lost

finish
