#!/usr/bin/env bash
# test_faults_kill.sh - processes killed with SIGKILL (docs/faults.md),
# against a real mosquitto with the persistence docs/faults.md
# recommends, and the openclaw double:
#
# - the broker, in the middle of a stream of QoS 1 commands: every
#   command the broker acknowledged reaches the agent exactly once
#   (what the broker redelivers is dropped by the replay window);
# - the router: the monitor stops the rest and exits 1 for the service
#   manager to restart the unit; a command the router never
#   acknowledged is delivered after the restart, once; commands it had
#   handled, delivered again, run no handler and reach no agent twice;
# - the monitor: its children (router, injector and its openclaw call,
#   a handler run) all exit, nothing is left behind.
# Handler runs need root (they switch user): without it those parts
# are left out and said so.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SIGN=$HIVE_BIN/tests/hive-test-sign

BROKER_PERSIST="persistence true
persistence_location $T/
autosave_interval 1
autosave_on_changes true" start_broker
gen_node turq-18789
gen_node pg1-18890
chmod 755 "$T"
HANDLERS=0
if [ "$(id -u)" -eq 0 ]; then
	HANDLERS=1
	setup_handler_box pg1 pg1-18890
	cat >"$T/pg1/policy/hive.policy" <<'POLICY'
allow from turq-18789 ch command
rate from turq-18789 1000/s burst 1000
handler slow {
	timeout 60s
}
POLICY
	mkdir -m 777 "$T/pg1/runs"
	printf '#!/bin/sh\necho run >>%s\ncat >/dev/null\necho "{}"\n' \
	    "$T/pg1/runs/rec.log" >"$T/pg1/handlers/rec"
	printf '#!/bin/sh\necho $$ >>%s\nexec sleep 50\n' \
	    "$T/pg1/runs/slow.pids" >"$T/pg1/handlers/slow"
	chmod 755 "$T/pg1/handlers/rec" "$T/pg1/handlers/slow"
else
	echo "# not root: the handler parts are left out (handlers switch user)"
	setup_box pg1 pg1-18890 "" "rate from turq-18789 1000/s burst 1000"
fi
CALLS=$T/pg1/calls/calls.log
AUDIT=$T/pg1/log/audit.log
PUB=(mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1)
TURQ=(-h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys"
    --sign-key "$T/priv/turq-18789.key")

calls_with() { count_lines "$CALLS" "$1"; }
injected_once() { [ "$(calls_with "$1")" -eq 1 ]; }
runs() { count_lines "$T/pg1/runs/rec.log" run; }
refused_n() { count_lines "$AUDIT" '"event":"refused"'; }
more_refused() { [ "$(refused_n)" -ge "$1" ]; }
# envelope ID TEXT [ACTION]: a signed command from turq, one line
envelope() {
	printf '{"v":2,"id":"%s","ts":%s,"from":"turq-18789","to":"pg1-18890","ch":"command","urgency":"now","ttl":600,"text":"%s"%s}\n' \
	    "$1" "$(date +%s)" "$2" "${3:+,\"action\":\"$3\"}" |
	    "$SIGN" "$T/priv/turq-18789.key"
}
publish() { "${PUB[@]}" -t hive/pg1-18890/command -l <"$1"; }
# the box's processes: anything whose command line names its directory
box_procs() { pgrep -f -- "$T/pg1/" || true; }
none_left() { [ -z "$(box_procs)" ]; }
# wait_exit PID SECONDS: until PID (our child) has exited; sets RC
wait_exit() {
	local end=$((SECONDS + $2))
	while kill -0 "$1" 2>/dev/null && [ $SECONDS -lt "$end" ]; do
		sleep 0.1
	done
	RC=0
	kill -0 "$1" 2>/dev/null && return 1
	wait "$1" || RC=$?
}

start_box pg1
MON=${PIDS[-1]}
[ "$HANDLERS" -eq 0 ] || wait_for "$T/pg1/daemon.log" 'start: 2 handler\(s\)'

# --- the broker, SIGKILL mid-stream -------------------------------------------
: >"$T/acked"
# mosquitto acknowledges a publish before it saves it (at its next
# autosave, or on SIGUSR1): a SIGKILL loses what it acknowledged since
# its last save, which no client can prevent (docs/faults.md).  So the
# test holds the broker to what it had saved: the commands acknowledged
# before a save it was asked for (SIGUSR1) and completed (the file is
# written beside and renamed over: a new inode); twice, so that the
# second save began after the first had ended, after the snapshot.
db_ino() { stat -c %i "$T/mosquitto.db" 2>/dev/null || echo 0; }
saved_since() { [ "$(db_ino)" != "$1" ]; }
send_stream 1 20 &
sender=$!
wait_until grep -q job-5 "$T/acked"
cp "$T/acked" "$T/acked-saved"
for k in 1 2; do
	ino=$(db_ino)
	kill -USR1 "$BROKER_PID"
	wait_until saved_since "$ino"
done
restart_broker KILL
ok "broker killed (SIGKILL) and restarted while commands were flowing"
wait "$sender" || true
send_stream 21 30 >/dev/null
grep -E '^job-(2[1-9]|30)$' "$T/acked" >"$T/acked-after" || true
wait_for "$T/pg1/daemon.log" 'reconnecting to the broker'
n_acked=$(wc -l <"$T/acked")
check "most commands were acknowledged ($n_acked of 30)" [ "$n_acked" -ge 20 ]
all_there() {	# all_there FILE: each command of FILE reached the agent
	local j
	while read -r j; do
		grep -q ": $j Response" "$CALLS" || return 1
	done <"$1"
}
check "every command acknowledged before the broker's last save reached the agent ($(wc -l <"$T/acked-saved"))" \
    wait_until all_there "$T/acked-saved"
check "every command acknowledged after the restart reached the agent ($(wc -l <"$T/acked-after"))" \
    wait_until all_there "$T/acked-after"
lost=0
while read -r j; do
	grep -q ": $j Response" "$CALLS" || lost=$((lost + 1))
done <"$T/acked"
echo "# acknowledged after the broker's last save and lost with it: $lost"
dups=$(jq -r '.[3]' "$CALLS" | grep -o 'job-[0-9]*' | sort | uniq -d | wc -l)
check "...exactly once" [ "$dups" -eq 0 ]
echo "# redeliveries the window refused as replay: $(count_lines "$AUDIT" \
    '"reason":"replay"')"

# --- the router, SIGKILL -------------------------------------------------------
ROUTER=$(pgrep -P "$MON" -f -- '-P router')
envelope before-inj "handled-before" >"$T/a"
publish "$T/a"
check "a command is injected" wait_until injected_once handled-before
if [ "$HANDLERS" -eq 1 ]; then
	envelope before-run "run-before" rec >"$T/b"
	publish "$T/b"
	check "a command runs its handler" wait_until test -s "$T/pg1/runs/rec.log"
fi
# stopped, the router cannot read (and so cannot acknowledge) this one
kill -STOP "$ROUTER"
envelope unacked "never-acked" >"$T/c"
publish "$T/c"
kill -KILL "$ROUTER"
check "router killed: the monitor exits 1 for the service manager" \
    wait_exit "$MON" 40
check "...status 1" [ "$RC" -eq 1 ]
check "...saying which child died and how" \
    grep -q 'router (pid [0-9]*) killed by signal 9; exiting' "$T/pg1/daemon.log"
check "...and nothing of the box is left running" wait_until none_left
mv "$T/pg1/daemon.log" "$T/pg1/daemon-1.log"
start_box pg1	# what Restart=on-failure does
MON=${PIDS[-1]}
check "after the restart the command the router never acknowledged arrives" \
    wait_until injected_once never-acked
n0=$(refused_n)
publish "$T/a"
[ "$HANDLERS" -eq 0 ] || publish "$T/b"
check "the commands handled before the kill, delivered again, are refused" \
    wait_until more_refused $((n0 + 1 + HANDLERS))
check "...as replay" [ "$(grep '"event":"refused"' "$AUDIT" | tail -n $((1 + HANDLERS)) |
    jq -r .reason | sort -u)" = replay ]
check "...the agent got each once" bash -c \
    '[ "$(grep -c "handled-before\|never-acked" "$1")" -eq 2 ]' _ "$CALLS"
if [ "$HANDLERS" -eq 1 ]; then
	check "...and the handler ran once" [ "$(runs)" -eq 1 ]
fi

# --- the monitor, SIGKILL -------------------------------------------------------
# a gateway that hangs (the double waits for a release that never
# comes) and, with root, a handler that sleeps
: >"$T/pg1/calls/gate"
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "hanging" >/dev/null
check "an injection is running (the gateway hangs)" \
    wait_until injected_once hanging
if [ "$HANDLERS" -eq 1 ]; then
	"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --action slow \
	    --text "sleeping" >/dev/null
	check "a handler run is sleeping" wait_until test -s "$T/pg1/runs/slow.pids"
	SLOW=$(head -1 "$T/pg1/runs/slow.pids")
fi
before=$(box_procs | wc -l)
echo "# the box's processes before: $before"
kill -KILL "$MON"
wait "$MON" 2>/dev/null || true
# the injector lets a running call finish for up to 20 s (its drain),
# then kills it with its session: 40 s is a generous bound
none_left_long() {
	local end=$((SECONDS + 40))
	while [ $SECONDS -lt "$end" ]; do
		none_left && return 0
		sleep 0.2
	done
	return 1
}
check "monitor killed: router, injector, the gateway call all exit" \
    none_left_long
if [ "$HANDLERS" -eq 1 ]; then
	# gone, or a zombie waiting for whoever reaps orphans here
	gone() { [ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status"; }
	check "...and the handler run too (PR_SET_PDEATHSIG)" \
	    wait_until gone "$SLOW"
fi
box_procs | while read -r p; do
	echo "# left: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
done
finish
