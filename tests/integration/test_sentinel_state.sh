#!/usr/bin/env bash
# test_sentinel_state.sh - sentinels that speak once, and each handler's
# own state directory:
#   pg1  serves pg1-18890, with sentinels in $T/pg1/handlers
# A sentinel that gives the same "state" on consecutive runs wakes the
# agent once, and again when the state changes or after a run without
# one; a restart remembers.  Each handler keeps a run counter in
# HIVE_STATE_DIR ({handler_state_dir}/ACTION, its user's, 0700), also
# under read-only-root; a handler of another user cannot write there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_root_for_handlers

start_broker
gen_node pg1-18890
chmod 755 "$T"

setup_handler_box pg1 pg1-18890
HS=$T/pg1/handler-state
cat >"$T/pg1/policy/hive.policy" <<'POLICY'
handler repeat {
	every 10s
}
handler flap {
	every 10s
}
handler ro {
	every 10s
	read-only-root yes
}
handler intruder {
	every 10s
	user daemon
}
POLICY

handler() {	# handler NAME BODY: a root-owned 0755 shell script
	printf '#!/bin/sh\ncat >/dev/null\n%s\n' "$2" >"$T/pg1/handlers/$1"
	chmod 755 "$T/pg1/handlers/$1"
}
# every handler counts its runs in its own directory
count='n=$(($(cat "$HIVE_STATE_DIR/n" 2>/dev/null || echo 0) + 1))
echo $n >"$HIVE_STATE_DIR/n"'
handler repeat "$count"'
if [ $n -le 2 ]; then s=disk-full; else s=disk-melted; fi
echo "{\"wake\":\"alert\",\"text\":\"$s seen on run $n\",\"state\":\"$s\"}"'
handler flap "$count"'
if [ $n -eq 2 ]; then echo "{}"; exit 0; fi
echo "{\"wake\":\"alert\",\"text\":\"flap on run $n\",\"state\":\"flapping\"}"'
handler ro "$count"'
touch /var/tmp/hive-ro-$$ 2>/dev/null && echo escaped >"$HIVE_STATE_DIR/root"
echo "{}"'
handler intruder "$count"'
if echo x 2>/dev/null >"${HIVE_STATE_DIR%/*}/repeat/intrude"; then
	echo wrote >"$HIVE_STATE_DIR/result"
else
	echo denied >"$HIVE_STATE_DIR/result"
fi
echo "{}"'

start_box pg1
pg1_pid=${PIDS[-1]}
LOG=$T/pg1/daemon.log
CALLS=$T/pg1/calls/calls.log
runs() { count_lines "$LOG" "handler $1 on pg1-18890: ok"; }
wakes() { count_lines "$CALLS" "sentinel $1 on pg1-18890"; }
silent() { count_lines "$LOG" "sentinel $1: state unchanged"; }

# --- the state directory ----------------------------------------------------
wait_until test -s "$HS/repeat/n"
check "a handler's state directory is its user's, mode 0700" \
    [ "$(stat -c '%U %a' "$HS/repeat")" = "nobody 700" ]
check "...one per action, each its own user's" wait_until \
    bash -c '[ "$(stat -c "%U %a" "$1/intruder" 2>/dev/null)" = "daemon 700" ]' \
    _ "$HS"
check "...and their parent is root's, 0755" \
    [ "$(stat -c '%U %a' "$HS")" = "root 755" ]
check "a handler of another user cannot write into it" \
    wait_until grep -qx denied "$HS/intruder/result"
check "...nothing was written" test ! -e "$HS/repeat/intrude"
check "under read-only-root the state directory stays writable" \
    wait_until test -s "$HS/ro/n"
check "...and the rest of the root does not" test ! -e "$HS/ro/root"

# --- wake on change ---------------------------------------------------------
check "the first run with a state wakes the agent" \
    wait_for "$CALLS" 'sentinel repeat on pg1-18890 .*disk-full seen on run 1'
check "the same state on the next run wakes nobody" \
    wait_until_s 25 bash -c '[ "$(grep -c "sentinel repeat: state unchanged" "$1")" -ge 1 ]' \
    _ "$LOG"
check "...the handler remembered its count across runs" \
    [ "$(cat "$HS/repeat/n")" -ge 2 ]
check "a changed state wakes it again" wait_for "$CALLS" \
    'sentinel repeat on pg1-18890 .*disk-melted seen on run 3' 25
check "...and once only: run 4 says it again, and wakes nobody" \
    wait_until_s 25 bash -c '[ "$(grep -c "sentinel repeat: state unchanged" "$1")" -ge 2 ]' \
    _ "$LOG"
check "...two wakes in four runs" [ "$(wakes repeat)" -eq 2 ]
check "a run without a state forgets it: the same state wakes again" \
    wait_for "$CALLS" 'sentinel flap on pg1-18890 .*flap on run 3' 25
check "...two wakes in three runs" [ "$(wakes flap)" -eq 2 ]
check "the daemon keeps the last state in its state_dir" \
    grep -qx disk-melted "$T/pg1/state/sentinels/repeat"

# --- a restart remembers ----------------------------------------------------
kill -TERM "$pg1_pid"
wait "$pg1_pid" || :
start_box pg1
pg1_pid=${PIDS[-1]}
check "after a restart, the state said before wakes nobody" \
    wait_for "$LOG" 'sentinel repeat: state unchanged' 25
check "...the handler's count went on from its directory" \
    [ "$(cat "$HS/repeat/n")" -ge 5 ]
check "...and the agent was not woken again" [ "$(wakes repeat)" -eq 2 ]

finish
