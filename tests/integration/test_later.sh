#!/usr/bin/env bash
# test_later.sh - `later` is later in every injection mode.  One mixed
# stream (commands and statuses, now and later) to an event instance
# and to an agent-turn instance of the same box; the openclaw double
# records every wake (calls.log), counted per mode:
#   - event: every `now` is a `--mode now` call, every `later` command
#     a `--mode next-heartbeat` call (OpenClaw's own heartbeat runs it),
#     a `later` status no call at all;
#   - agent-turn (`openclaw agent` has no deferred mode): a `later`
#     command is no turn at once; it is held in the injection journal
#     (kept across a restart) and delivered, one turn each, at the
#     instance's scheduled wake (`later-every`), and again at the next.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_broker
gen_node turq-18789
gen_node pg1-18890
gen_node mini1-18889
chmod 755 "$T"
TURQ=(-h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys"
    --sign-key "$T/priv/turq-18789.key")
EV=pg1-18890 AT=mini1-18889
LOG=$T/box/calls/calls.log

policy() {	# policy DUR: the agent-turn instance's later-every
	cat >"$T/box/policy/hive.policy" <<POLICY
allow from * ch command
allow from * ch status
instance $AT {
	inject agent-turn
	agent main
	later-every $1
}
POLICY
}
# calls NAME REGEX: calls.log lines of one mode whose argv matches
calls() {
	local sel
	case $1 in
	event) sel='.[0] == "system"' ;;
	agent) sel='.[0] == "agent"' ;;
	esac
	jq -c "select($sel)" "$LOG" 2>/dev/null | grep -Ec -- "$2" || true
}
send() {	# send NODE CH URGENCY TEXT
	"$CLI" send "${TURQ[@]}" --to "$1" --ch "$2" --urgency "$3" \
	    --text "$4" >/dev/null
}
# The stream, per node: later before now, so that a `later` run at once
# would be in calls.log before the last `now` is.  Statuses: a `now` one
# wakes, a `later` one is only logged.
stream() {
	local n=$1 i
	for i in 1 2 3; do
		send "$n" command later "later-$n-$i"
		send "$n" status later "quiet-$n-$i"
		send "$n" command now "now-$n-$i"
	done
	send "$n" status now "loud-$n"
}
journal_is() { [ "$(ls "$T/box/state/inject" | wc -l)" -eq "$1" ]; }

setup_box box "$AT,$EV" ""
policy 1h
start_box box
stream "$EV"
stream "$AT"

# --- event mode: now is now, later is next-heartbeat ----------------------
ev_done() { [ "$(calls event .)" -ge 7 ]; }
check "event: 7 wakes for 10 messages" wait_until ev_done
check "...every now command and the now status: --mode now (4)" \
    [ "$(calls event '"--mode","now"')" -eq 4 ]
check "...every later command: --mode next-heartbeat, no immediate wake (3)" \
    [ "$(calls event "later-$EV"'.*"--mode","next-heartbeat"')" -eq 3 ]
check "...a later status wakes no one" [ "$(calls event "quiet-$EV")" -eq 0 ]

# --- agent-turn: later is held, not a turn ---------------------------------
at_now_done() {
	[ "$(calls agent "now-$AT-[123]|loud-$AT")" -eq 4 ] &&
	[ "$(count_lines "$T/box/daemon.log" "delivered instance=$AT")" -ge 4 ]
}
check "agent-turn: every now command and the now status is a turn (4)" \
    wait_until at_now_done
check "...no later command became a turn" \
    [ "$(calls agent "later-$AT")" -eq 0 ]
check "...4 turns in all, a later status none" [ "$(calls agent .)" -eq 4 ]
check "...the 3 later commands are held for the scheduled wake" \
    [ "$(count_lines "$T/box/daemon.log" \
    "inject instance=$AT mode=next-heartbeat .*ch=command held=next-wake")" \
    -eq 3 ]
# the router drops a delivered one's file after the injector logged it
check "...in the injection journal" wait_until journal_is 3

# --- held across a restart, delivered at the scheduled wake ----------------
pid=${PIDS[-1]}
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "SIGTERM: the daemon exits 0" [ "$rc" -eq 0 ]
check "...no later command became a turn on the way out" \
    [ "$(calls agent "later-$AT")" -eq 0 ]
check "...and the journal keeps the 3 held ones" journal_is 3
mv "$T/box/daemon.log" "$T/box/daemon.log.1"
policy 3s
start_box box
# read after the broker connection ('ready'): wait for the line
check "the next start reads them back" wait_for "$T/box/daemon.log" \
    'journal: 3 injection\(s\) from the last run'
at_later_done() { [ "$(calls agent "later-$AT")" -eq 3 ]; }
check "at the scheduled wake: one turn each for the 3 held commands" \
    wait_until at_later_done
check "...the wake is logged" grep -q \
    "instance $AT: scheduled wake: 3 held later injection(s) delivered" \
    "$T/box/daemon.log"
# no turn before the wake: the log has no delivery above its line
before_wake() {
	sed -n '/scheduled wake: 3 held/q;p' "$T/box/daemon.log" >"$T/before"
	[ "$(count_lines "$T/before" "delivered instance=$AT")" -eq 0 ]
}
check "...and none before it" before_wake
check "...in arrival order" [ "$(jq -r 'select(.[0] == "agent") | .[-1]' \
    "$LOG" | grep -o "later-$AT-[123]" | tr '\n' ' ')" = \
    "later-$AT-1 later-$AT-2 later-$AT-3 " ]
check "...and the journal is empty" wait_until journal_is 0

# --- the next wake: a later command sent now is held for it --------------
send "$AT" command later "later-$AT-4"
later4() { [ "$(calls agent "later-$AT-4")" -eq 1 ]; }
check "a later command sent after the wake is held too" wait_for \
    "$T/box/daemon.log" "inject instance=$AT .*ch=command held=next-wake"
check "...and is a turn at the next scheduled wake" wait_until later4
check "...which logged it" grep -q \
    "instance $AT: scheduled wake: 1 held later injection(s) delivered" \
    "$T/box/daemon.log"
check "agent-turn in all: 4 + 3 + 1 turns for 11 messages, none twice" \
    [ "$(calls agent .)" -eq 8 ]
check "event in all: still 7 wakes" [ "$(calls event .)" -eq 7 ]
finish
