#!/usr/bin/env bash
# test_daemon_handlers.sh - handlers run by the daemon, end to end:
#   turq  serves turq-18789 (the sender)
#   pg1   serves pg1-18890, with handlers in $T/pg1/handlers
# over a real mosquitto broker, with the openclaw double.  Shows the
# routing rows for actions (command and sync with a handler, without
# one), that each outcome comes back as a signed response and a
# retained {p}/meta/{node}/{action} document, alerts and escalations on
# failure, zero handler runs and injections for refused input (policy-denied,
# replayed, forged, topic-mismatched, expired), the sandbox as seen from
# inside a run, sentinel schedules (quiet, and one that wakes the
# agent), SIGHUP picking up a new handler, --check-policy, and SIGTERM
# letting a running handler finish.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_root_for_handlers

start_broker
gen_node turq-18789
gen_node pg1-18890
gen_node guest-1
chmod 755 "$T"

setup_sender_box turq turq-18789
setup_handler_box pg1 pg1-18890
mkdir -m 777 "$T/pg1/runs"
RUNS=$T/pg1/runs

# guest-1 is in the keyring but has no allow line: default deny.
cat >"$T/pg1/policy/hive.policy" <<'POLICY'
allow from turq-18789 ch command
allow from turq-18789 ch sync
allow from * ch alert
socket send *
socket reply *
handler fail {
	alert yes
}
handler slow {
	timeout 1s
	grace 1s
}
handler quiet {
	every 10s
	seccomp strict
}
handler forbidden {
	seccomp strict
}
handler waker {
	every 10s
}
handler bomb {
	user daemon
	timeout 2s
	grace 1s
	processes 32
}
POLICY

handler() {	# handler NAME BODY: a root-owned 0755 shell script
	printf '#!/bin/sh\n%s\n' "$2" >"$T/pg1/handlers/$1"
	chmod 755 "$T/pg1/handlers/$1"
}
handler echo 'exec cat'
handler count "echo run >>$RUNS/count.log
cat >/dev/null
echo '{\"counted\":true}'"
handler fail 'echo "disk on fire" >&2
exit 3'
handler slow 'sleep 30'
handler whoami "cat /proc/self/status >$RUNS/status.txt
cat >/dev/null
echo '{}'"
handler slowish "echo started >$RUNS/slowish.started
sleep 2
cat >/dev/null
echo '{\"finished\":true}'"
handler bomb 'b() { b | b & }; b'
handler escape "cat >/dev/null
setsid sh -c 'sleep 61 & sleep 62' >/dev/null 2>&1 &
echo '{\"escaped\":\"maybe\"}'"
handler quiet 'cat >/dev/null
echo "{}"'
handler forbidden "cat >/dev/null
exec ln -s nowhere $RUNS/sym"
handler waker "cat >/dev/null
echo '{\"wake\":\"alert\",\"text\":\"urgent mail from X about Y\"}'"

# --- --check-policy sees the handlers -------------------------------------
check "--check-policy lists every handler with its profile" \
    bash -c 'grep -q "^# handler quiet (seccomp strict)" <<<"$("$1" --check-policy -c "$2")"' \
    _ "$DAEMON" "$T/pg1/hive.conf"

start_box turq
start_box pg1
pg1_pid=${PIDS[-1]}	# the monitor (a handler child has its argv until its exec)
wait_for "$T/pg1/daemon.log" 'start: 11 handler\(s\)'
TURQ=(--socket "$T/turq/run/hive.sock")
send() { "$CLI" send "${TURQ[@]}" --to pg1-18890 "$@"; }

# --- command with a handler: the result comes back ------------------------
rc=0
send --ch command --action echo --text "hello handler" --wait 20 \
    >"$T/echo.out" 2>"$T/echo.err" || rc=$?
check "command + action: --wait returns 0" [ "$rc" -eq 0 ]
sent_id=$(sed -n 's/^sent: //p' "$T/echo.err" | jq -r .id)
check "...the response is the handler's JSON result (the envelope it read)" \
    [ "$(jq -r '.text | fromjson | .text + " " + .id' "$T/echo.out")" = \
    "hello handler $sent_id" ]
check "...signed by pg1-18890 as a response to the command" \
    [ "$(jq -r '.from + " " + .ch + " " + .corr' "$T/echo.out")" = \
    "pg1-18890 response $sent_id" ]
check "...with no outcome field: success needs none" \
    jq -e 'has("outcome") | not' "$T/echo.out"
check "...and the agent was not woken for it" \
    bash -c '! grep -q "hello handler" "$1"' _ "$T/pg1/calls/calls.log"
meta_echo() { "$CLI" sync-status "${TURQ[@]}" --action echo --json |
    jq -e --arg id "$sent_id" '.[] | select(.data.node == "pg1-18890" and
    .data.status == "ok" and .data.trigger_id == $id and
    .data.from == "turq-18789" and .data.result.text == "hello handler" and
    .data.exit == 0 and (.data | has("signal") | not) and
    (.data.duration_ms | type) == "number")' >/dev/null; }
check "the outcome is retained at {p}/meta/pg1-18890/echo" wait_until meta_echo
check "the audit log has the handler's outcome" \
    wait_for "$T/pg1/log/audit.log" '"action":"echo".*"event":"handler"'

# --- failure: error response, alert to the sender -------------------------
rc=0
send --ch command --action fail --text "try" --wait 20 >"$T/fail.out" \
    2>/dev/null || rc=$?
check "a failing handler's response carries the error and stderr" \
    grep -q '"error: handler fail on pg1-18890: error: exit 3; stderr: disk on fire"' \
    "$T/fail.out"
check "...its outcome, signed, is error" \
    [ "$(jq -r .outcome "$T/fail.out")" = error ]
check "...and send --wait exits 5 (the remote work failed)" [ "$rc" -eq 5 ]
check "...and (alert yes) an alert reaches the sender's agent" \
    wait_for "$T/turq/calls/calls.log" 'handler fail on pg1-18890 failed \(error\)'
rc=0
send --ch command --action slow --text "never ends" --wait 20 \
    >"$T/slow.out" 2>/dev/null || rc=$?
check "a handler over its timeout is reported as timeout" \
    grep -q 'error: handler slow on pg1-18890: timeout' "$T/slow.out"
check "...outcome timeout, exit 5" \
    [ "$(jq -r .outcome "$T/slow.out")" = timeout -a "$rc" -eq 5 ]
nothing_left() { ! pgrep -u nobody -f 'sleep 30' >/dev/null; }
check "...and nothing of it is left running" wait_until nothing_left

# --- hostile handlers through the daemon -----------------------------------
rc=0
send --ch command --action bomb --text "boom" --wait 30 >"$T/bomb.out" \
    2>/dev/null || rc=$?
check "a fork bomb ends in bounded time, not ok" \
    grep -Eq 'error: handler bomb on pg1-18890: (timeout|error|killed|bad-output)' "$T/bomb.out"
bomb_gone() { ! pgrep -u daemon >/dev/null; }
check "...and none of its processes is left" wait_until bomb_gone
send --ch command --action escape --text "run away" --wait 20 >/dev/null
escapees_gone() { ! pgrep -f 'sleep 6[12]' >/dev/null; }
check "a grandchild that left the session is killed after the run" \
    wait_until escapees_gone
rc=0
send --ch command --action echo --text "still there" --wait 20 \
    >"$T/after.out" 2>/dev/null || rc=$?
check "...and the daemon keeps serving" \
    [ "$rc" -eq 0 -a "$(jq -r '.text | fromjson | .text' "$T/after.out")" = \
    "still there" ]

# --- sync: quiet on success, escalated on failure -------------------------
send --ch sync --action count --text "sync now" >/dev/null
check "sync + action runs the handler" wait_for "$RUNS/count.log" run
meta_count() { "$CLI" sync-status "${TURQ[@]}" --action count --json |
    jq -e '.[] | select(.data.status == "ok" and .data.result.counted)' \
    >/dev/null; }
check "...its result is retained for sync-status" wait_until meta_count
check "...and the agent on pg1 is not woken by a success" \
    bash -c '! grep -q "sync now" "$1"' _ "$T/pg1/calls/calls.log"
send --ch sync --action fail --text "sync broken" >/dev/null
check "a failed sync is escalated to the local agent" \
    wait_for "$T/pg1/calls/calls.log" "action 'fail' failed on pg1-18890 \(error\)"
check "the sender logs the sync's response without waking its agent" \
    wait_for "$T/turq/daemon.log" 'sync result from=pg1-18890'

# --- no handler: answered no-handler at once, and escalated ---------------
rc=0
send --ch command --action nope --text "improvise" --wait 20 \
    >"$T/nope.out" 2>"$T/nope.err" || rc=$?
nope_id=$(sed -n 's/^sent: //p' "$T/nope.err" | jq -r .id)
check "an action without a handler: --wait is answered, exit 5" \
    [ "$rc" -eq 5 ]
check "...by pg1-18890, outcome no-handler, to the command" \
    [ "$(jq -r '.from + " " + .outcome + " " + .corr + " " + .replyTo' \
    "$T/nope.out")" = "pg1-18890 no-handler $nope_id $nope_id" ]
check "...and hive-cli names the outcome on stderr" \
    grep -q 'pg1-18890 answered: outcome no-handler' "$T/nope.err"
check "the agent hears of it with the key to answer ([corr:ID])" \
    wait_for "$T/pg1/calls/calls.log" \
    "Hive command \\[corr:$nope_id\\] from turq-18789 .*Received action 'nope' but no handler installed"
# the same without the daemon: hive-cli with a key waits on the bus itself
rc=0
"$CLI" send -h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys" \
    --sign-key "$T/priv/turq-18789.key" --to pg1-18890 --ch command \
    --action nope --corr op-nope --text "direct" --wait 20 \
    >"$T/nope-direct.out" 2>/dev/null || rc=$?
check "...a direct send --wait gets no-handler too, exit 5" \
    [ "$rc" -eq 5 -a "$(jq -r .outcome "$T/nope-direct.out")" = no-handler ]
check "...and the agent sees the sender's own corr" \
    wait_for "$T/pg1/calls/calls.log" "Hive command \\[corr:op-nope\\]"

# --- refused input runs nothing -------------------------------------------
runs_before=$(count_lines "$RUNS/count.log" run)
"$CLI" send -h 127.0.0.1 -p "$BROKER_PORT" --force --sign-key "$T/priv/guest-1.key" \
    --to pg1-18890 --ch command --action count --text "not allowed" >/dev/null
check "a policy-denied sender is refused" \
    wait_for "$T/pg1/daemon.log" 'refused reason=policy-denied'
"$CLI" send -h 127.0.0.1 -p "$BROKER_PORT" --force --sign-key "$T/priv/turq-18789.key" \
    --to pg1-18890 --ch command --action count --text "once" >"$T/once.wire"
wait_for "$RUNS/count.log" "run" 
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t hive/pg1-18890/command \
    -f "$T/once.wire"
check "the same command again: the replay is refused" \
    wait_for "$T/pg1/daemon.log" 'refused reason=replay'
want=$((runs_before + 1))
# forged: a key that claims to be turq but is not in pg1's keyring
mkdir -m 700 "$T/rogue"
"$CLI" keygen --node turq-18789 --dir "$T/rogue" >/dev/null
"$CLI" send -h 127.0.0.1 -p "$BROKER_PORT" --force --sign-key "$T/rogue/turq-18789.key" \
    --to pg1-18890 --ch command --action count --text "forged" >/dev/null
check "a forged command (unknown key) is refused" \
    wait_for "$T/pg1/daemon.log" 'refused reason=unknown-key'
# signed for one topic, published on another; and one past its ttl
stash() {	# stash FILE ARGS...: a valid envelope nobody receives
	local f=$1; shift
	"$CLI" send -h 127.0.0.1 -p "$BROKER_PORT" --prefix stash \
	    --force --sign-key "$T/priv/turq-18789.key" --to pg1-18890 --action count \
	    "$@" >"$f"
}
stash "$T/mismatch.wire" --ch command --text "wrong topic"
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t hive/pg1-18890/sync \
    -f "$T/mismatch.wire"
check "a command published on the sync topic is refused" \
    wait_for "$T/pg1/daemon.log" 'refused reason=topic-mismatch'
stash "$T/expired.wire" --ch command --text "too late" --ttl 1
exp_at=$(jq '.ts + .ttl' "$T/expired.wire")
# one second more: the daemon's time(2) can lag date's clock by a tick
past_ttl() { [ "$(date +%s)" -gt $((exp_at + 1)) ]; }
wait_until past_ttl
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t hive/pg1-18890/command \
    -f "$T/expired.wire"
check "an expired command is refused" \
    wait_for "$T/pg1/daemon.log" 'refused reason=expired'
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch alert --text marker >/dev/null
wait_for "$T/pg1/calls/calls.log" marker
check "refused messages ran no handler (only the one accepted copy did)" \
    [ "$(count_lines "$RUNS/count.log" run)" -eq "$want" ]
check "...and reached no agent" bash -c '! grep -Eq "not allowed|forged|wrong topic|too late" "$1"' \
    _ "$T/pg1/calls/calls.log"

# --- the sandbox, seen from inside a run ----------------------------------
send --ch command --action whoami --text who --wait 20 >/dev/null
check "the handler ran as nobody" \
    grep -Eq "^Uid:[[:space:]]+$(id -u nobody)[[:space:]]" "$RUNS/status.txt"
check "...with no capabilities" bash -c '! grep -E "^Cap(Eff|Prm|Amb):" "$1" |
    grep -v "0000000000000000$" >/dev/null' _ "$RUNS/status.txt"
check "...no new privileges and a seccomp filter" bash -c \
    'grep -q "^NoNewPrivs:[[:space:]]*1" "$1" && grep -q "^Seccomp:[[:space:]]*2" "$1"' \
    _ "$RUNS/status.txt"

# --- a seccomp kill: the syscall is named in the retained outcome -----------
send --ch command --action forbidden --text ln --wait 20 >/dev/null 2>&1 || :
meta_forbidden() { "$CLI" sync-status "${TURQ[@]}" --action forbidden --json |
    jq -e '.[] | select(.data.status == "killed-by-seccomp" and
    .data.syscall == "symlinkat" and .data.signal == 9 and
    (.data.error | test("syscall symlinkat refused by seccomp profile strict")))' \
    >/dev/null; }
check "a call strict kills: killed-by-seccomp, \"syscall\": \"symlinkat\"" \
    wait_until meta_forbidden
check "...and the call never ran" test ! -L "$RUNS/sym"

# --- roster and sentinels --------------------------------------------------
roster_has() { "$CLI" roster "${TURQ[@]}" --json | jq -e '.[] |
    select(.data.node == "pg1-18890") | .data.handlers |
    index("echo") and index("waker")' >/dev/null; }
check "the roster lists the handlers" wait_until roster_has
check "a sentinel that asks to wake the agent does, with its text" \
    wait_for "$T/pg1/calls/calls.log" \
    'Hive alert from sentinel waker on pg1-18890 \(this box.s daemon\): urgent mail from X about Y'
meta_quiet() { "$CLI" sync-status "${TURQ[@]}" --action quiet --json |
    jq -e '.[] | select(.data.trigger_id == "sentinel" and
    .data.status == "ok")' >/dev/null; }
check "a quiet sentinel's result is published" wait_until meta_quiet
check "...and it woke nobody" bash -c '! grep -q "sentinel quiet" "$1"' \
    _ "$T/pg1/calls/calls.log"

# --- SIGHUP picks up a new handler -----------------------------------------
handler late 'cat >/dev/null; echo "{\"late\":1}"'
kill -HUP "$pg1_pid"
wait_for "$T/pg1/daemon.log" 'SIGHUP: 12 handler\(s\)'
rc=0
send --ch command --action late --text "new" --wait 20 >"$T/late.out" \
    2>/dev/null || rc=$?
check "after SIGHUP a new handler runs" \
    [ "$rc" -eq 0 -a "$(jq -r '.text | fromjson | .late' "$T/late.out")" = 1 ]

# --- SIGTERM lets a running handler finish ---------------------------------
send --ch command --action slowish --text "finish me" --wait 20 \
    >"$T/slowish.out" 2>/dev/null &
waiter=$!
wait_until test -e "$RUNS/slowish.started"
kill -TERM "$pg1_pid"
rc=0
wait "$waiter" || rc=$?
check "a handler running at SIGTERM finishes and its result is sent" \
    [ "$rc" -eq 0 -a "$(jq -r '.text | fromjson | .finished' \
    "$T/slowish.out")" = true ]
rc=0
wait "$pg1_pid" || rc=$?
check "...and the daemon exits 0" [ "$rc" -eq 0 ]

finish
