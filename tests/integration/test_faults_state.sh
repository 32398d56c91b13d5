#!/usr/bin/env bash
# test_faults_state.sh - faults of the daemon's own state and clock
# (docs/faults.md), against a real mosquitto and the openclaw double:
#
# - the replay window file corrupted, torn or deleted between runs: the
#   router names the status and refuses to start; hive-daemon
#   --reset-window is the way past it, and after the reset a message
#   signed before it is refused (window-reset) while fresh ones pass;
# - senders' clocks jumping forward and back: future and expired are
#   refused, a replay is refused whatever its timestamp;
# - the daemon's own clock jumping 900 s forward, back, and 900 s
#   behind (LD_PRELOAD tests/tools/clockshift.c, the machine's clock
#   untouched): expired, window-clock, replay and future as
#   docs/faults.md says, no replay accepted, each accepted command
#   injected once (tests/unit/test_window.c has the window's part);
# - the state disk full (a small tmpfs; skipped without mount): what
#   cannot be recorded is refused with its reason, counted, logged,
#   audited, an alert goes to the cluster, the daemon keeps running and
#   recovers by itself once there is room again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SIGN=$HIVE_BIN/tests/hive-test-sign

start_broker
gen_node turq-18789
gen_node pg1-18890
chmod 755 "$T"
# max_skew 2: a reset's floor (now + max_skew) is passed quickly
setup_box pg1 pg1-18890 "max_skew 2"
PUB=(mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1)
TURQ=(-h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys"
    --sign-key "$T/priv/turq-18789.key")
STATE=$T/pg1/state
AUDIT=$T/pg1/log/audit.log
CALLS=$T/pg1/calls/calls.log

# envelope ID TS TTL CH TEXT: one signed envelope from turq, one line
envelope() {
	printf '{"v":2,"id":"%s","ts":%s,"from":"turq-18789","to":"pg1-18890","ch":"%s","urgency":"now","ttl":%s,"text":"%s"}\n' \
	    "$1" "$2" "$4" "$3" "$5" | "$SIGN" "$T/priv/turq-18789.key"
}
publish() { "${PUB[@]}" -t "hive/pg1-18890/$1" -l <"$2"; }	# CH FILE
# cmd_env ID TS TTL TEXT: a command envelope in $T/ID; sent: and publish it
cmd_env() { envelope "$1" "$2" "$3" command "$4" >"$T/$1"; }
sent() { cmd_env "$@"; publish command "$T/$1"; }
refused_n() { count_lines "$AUDIT" '"event":"refused"'; }
accepted() { grep -q "\"event\":\"accepted\".*\"id\":\"$1\"" "$AUDIT"; }
# refused_on CH: refusals of messages published on our CH topic (the
# daemon's own heartbeats, on hive/all/, may be refused meanwhile)
refused_on() { count_lines "$AUDIT" \
    "\"detail\":\"[^\"]*topic=hive/pg1-18890/$1\".*\"event\":\"refused\""; }
more_on() { [ "$(refused_on "$1")" -gt "$2" ]; }
last_on() { grep "topic=hive/pg1-18890/$1\".*\"event\":\"refused\"" "$AUDIT" |
    tail -1 | jq -r .reason; }
# refused_as REASON CH FILE: publish, then it is refused, as REASON
refused_as() {
	local n0
	n0=$(refused_on "$2")
	publish "$2" "$3"
	wait_until more_on "$2" "$n0" && [ "$(last_on "$2")" = "$1" ] &&
	    [ "$(refused_on "$2")" -eq $((n0 + 1)) ]
}
calls_with() { count_lines "$CALLS" "$1"; }
injected_once() { [ "$(calls_with "$1")" -eq 1 ]; }
stop_box() {	# stop_box PID: SIGTERM, status 0
	local rc=0
	kill -TERM "$1"
	wait "$1" || rc=$?
	[ "$rc" -eq 0 ]
}
# refuses_to_start STATUS: the daemon exits 1 naming the window status
refuses_to_start() {
	local rc=0
	timeout 60 "$DAEMON" -f -c "$T/pg1/hive.conf" 2>"$T/pg1/refused.log" ||
	    rc=$?
	[ "$rc" -eq 1 ] &&
	    grep -q "replay window $1: .*refusing to run with an empty window" \
	    "$T/pg1/refused.log"
}

# --- a first start creates the window; a command is accepted --------------
start_box pg1
MON=${PIDS[-1]}
check "first start: an empty state directory gets a new window" \
    grep -q 'replay window created: 0 entries (first start' "$T/pg1/daemon.log"
now=$(date +%s)
sent c1 "$now" 600 "before-the-fault"
check "a command is accepted" wait_until accepted c1
check "...and injected" wait_until injected_once before-the-fault
# --- senders' clocks jumping ------------------------------------------------
now=$(date +%s)
cmd_env fwd "$((now + 3600))" 600 "clock-ahead"
check "a sender's clock an hour ahead: refused as future" \
    refused_as future command "$T/fwd"
cmd_env back "$((now - 7200))" 600 "clock-behind"
check "a sender's clock two hours behind (ttl 600): refused as expired" \
    refused_as expired command "$T/back"
sent skew "$((now + 2))" 600 "clock-skewed"
check "a sender max_skew ahead is accepted" wait_until accepted skew
check "...and its replay refused" refused_as replay command "$T/skew"
sent late "$((now - 500))" 600 "clock-late"
check "a sender 500 s behind within ttl 600 is accepted" wait_until accepted late
check "...and its replay refused" refused_as replay command "$T/late"
check "each of them reached the agent once" bash -c \
    '[ "$(grep -c "clock-skewed\|clock-late" "$1")" -eq 2 ] &&
     ! grep -q "clock-ahead\|clock-behind" "$1"' _ "$CALLS"

check "the daemon stops cleanly" stop_box "$MON"
cp -p "$STATE/window" "$T/window.good"

# --- corrupt, torn, missing: refused, never an empty window ----------------
printf 'X' | dd of="$STATE/window" bs=1 seek=20 conv=notrunc status=none
check "a corrupted window file: the daemon refuses to start, status corrupt" \
    refuses_to_start corrupt
cp -p "$T/window.good" "$STATE/window"
printf 'torn!' >>"$STATE/window"
check "a torn window file (partial record): refused, status torn" \
    refuses_to_start torn
rm "$STATE/window"
check "a deleted window file (state directory in use): refused, status missing" \
    refuses_to_start missing
check "...and no empty window was created in its place" [ ! -e "$STATE/window" ]
check "the refusal tells the operator the way out" \
    grep -q 'hive-daemon --reset-window' "$T/pg1/refused.log"

# --- the reset: a floor, not a gap -----------------------------------------
cp -p "$T/window.good" "$STATE/window"
printf 'X' | dd of="$STATE/window" bs=1 seek=20 conv=notrunc status=none
t0=$(date +%s)
"$DAEMON" --reset-window -c "$T/pg1/hive.conf" >"$T/reset.out" 2>&1
t1=$(date +%s)
floor=$(sed -nE 's/.*: reset; envelopes with ts <= ([0-9]+) .*/\1/p' "$T/reset.out")
floor_ok() { [ -n "$floor" ] && [ "$floor" -ge $((t0 + 2)) ] &&
    [ "$floor" -le $((t1 + 2)) ]; }
check "--reset-window prints the floor (now + max_skew)" floor_ok
check "...and the new file belongs to the state directory's owner" \
    [ "$(stat -c %u "$STATE/window")" = "$(stat -c %u "$STATE")" ]
mv "$T/pg1/daemon.log" "$T/pg1/daemon-1.log"
# From here the daemon's wall clock is ours to move (tests/tools/
# clockshift.c): CLOCK holds its offset in seconds, 0 for now.
CLOCK=$T/clock
set_clock() { printf '%-32s' "$1" | dd of="$CLOCK" conv=notrunc status=none; }
set_clock 0
HIVE_TEST_CLOCK_FILE=$CLOCK \
    LD_PRELOAD=$HIVE_BIN/tests/libhive-test-clockshift.so \
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
    start_box pg1
MON=${PIDS[-1]}
check "the daemon starts on the reset window and logs its floor" \
    grep -q "replay window floor $floor" "$T/pg1/daemon.log"
check "--reset-window while the daemon runs fails (the window is locked)" \
    bash -c '! "$1" --reset-window -c "$2" 2>"$3"' _ "$DAEMON" \
    "$T/pg1/hive.conf" "$T/reset-busy.err"
check "...saying why" grep -q 'lock' "$T/reset-busy.err"
check "a command signed before the reset, sent again, is refused: window-reset" \
    refused_as window-reset command "$T/c1"
check "...and the agent did not get it twice" \
    [ "$(calls_with before-the-fault)" -eq 1 ]
# hive-cli stamps ts with time(2), whose vDSO second can lag date's
# clock_gettime by up to a tick: one second past the floor, by date,
# is the first that time(2) is sure to be past too (a command stamped
# at the floor was refused so once in CI)
past_floor() { [ "$(date +%s)" -gt $((floor + 1)) ]; }
wait_until past_floor
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "after-reset" \
    >/dev/null
check "a fresh command after the floor is accepted and injected" \
    wait_until injected_once after-reset

# --- the daemon's own clock jumping (docs/faults.md, "Clock jumps") ---------
# Envelopes are signed by the machine's clock, the daemon reads its own.
now=$(date +%s)
sent k1 "$now" 300 "clock-k1"
check "daemon clock: a command (ttl 300) is accepted" wait_until accepted k1
set_clock 900
check "daemon clock 900 s ahead: the command's replay is refused as expired" \
    refused_as expired command "$T/k1"
cmd_env k2 "$now" 300 "clock-k2"
check "...so is a fresh command of ttl 300, 900 s old by that clock" \
    refused_as expired command "$T/k2"
sent k3 "$(date +%s)" 3600 "clock-k3"
# k3 comes after a whole router turn at the new time, which swept the
# window at that time: k1's entry (expires before now + 900) is gone
check "...a command whose ttl outlasts the jump is accepted" \
    wait_until accepted k3
set_clock 0
check "clock set back: the replay of the command whose entry was dropped while the clock was ahead is refused as window-clock" \
    refused_as window-clock command "$T/k1"
cmd_env k4 "$(date +%s)" 300 "clock-k4"
check "...so is a fresh short-lived command, until the clock passes the window's horizon" \
    refused_as window-clock command "$T/k4"
check "...the replay of the long-lived command is refused as replay" \
    refused_as replay command "$T/k3"
sent k5 "$(date +%s)" 3600 "clock-k5"
check "...a fresh long-lived command is accepted" wait_until accepted k5
set_clock -900
cmd_env k6 "$(date +%s)" 3600 "clock-k6"
check "daemon clock 900 s behind: a fresh command is refused as future" \
    refused_as future command "$T/k6"
check "...and so is the replay of one accepted before" \
    refused_as future command "$T/k5"
set_clock 0
k135_once() { injected_once clock-k1 && injected_once clock-k3 &&
    injected_once clock-k5; }
check "through the jumps the agent got each accepted command once" \
    wait_until k135_once
check "...and none of the refused ones" \
    bash -c '! grep -q "clock-k[246]" "$1"' _ "$CALLS"

check "the daemon stops cleanly" stop_box "$MON"

# --- the state disk full ----------------------------------------------------
mkdir -m 700 "$T/pgf-state"
if ! mount -t tmpfs -o size=192k,mode=0700 hive-faults "$T/pgf-state" \
    2>"$T/mount.err"; then
	echo "# cannot mount a tmpfs ($(cat "$T/mount.err")): disk-full part skipped"
	finish
	exit $?
fi
DISK_MOUNTED=$T/pgf-state
# the daemons go before the tmpfs, the tmpfs before $T
disk_cleanup() {
	local rc=$?
	set +e
	kill "${PIDS[@]}" 2>/dev/null
	wait 2>/dev/null
	umount -l "$DISK_MOUNTED"
	(exit "$rc")
	cleanup
}
trap disk_cleanup EXIT
setup_box pgf pg1-18890 "max_skew 2" \
    "rate from turq-18789 100000/s burst 1000000"
sed -i "s|^state_dir .*|state_dir $T/pgf-state|" "$T/pgf/hive.conf"
STATE=$T/pgf-state AUDIT=$T/pgf/log/audit.log CALLS=$T/pgf/calls/calls.log
mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -v -t 'hive/all/alert' \
    -t 'hive/all/status' >"$T/alerts.txt" 2>/dev/null &
PIDS+=("$!")
start_box pgf
MON=${PIDS[-1]}
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "disk-ok" >/dev/null
check "on the small state disk a command is injected" \
    wait_until injected_once disk-ok
# its journal file goes once the injector has reported: then fill
journal_empty() { [ -z "$(ls -A "$STATE/inject")" ]; }
wait_until journal_empty
dd if=/dev/zero of="$STATE/fill" bs=4k status=none 2>/dev/null || true
check "the state disk is full" \
    bash -c '! dd if=/dev/zero of="$1/probe" bs=4k count=1 status=none 2>/dev/null' \
    _ "$STATE"
rm -f "$STATE/probe"
# More status messages than what is left of the window file's last page
# can hold (a page holds 128 records): from then on each is refused.
now=$(date +%s)
for i in $(seq 1 300); do
	printf '{"v":2,"id":"full-%d","ts":%s,"from":"turq-18789","to":"pg1-18890","ch":"status","urgency":"later","ttl":600,"text":"full %d"}\n' \
	    "$i" "$now" "$i"
done | "$SIGN" "$T/priv/turq-18789.key" >"$T/full.txt"
n0=$(refused_n)
a0=$(count_lines "$AUDIT" '"event":"accepted"')
publish status "$T/full.txt"
all_judged() { [ $(( $(refused_n) - n0 + $(count_lines "$AUDIT" \
    '"event":"accepted"') - a0 )) -ge 300 ]; }
check "300 messages on a full disk: each accepted or refused" \
    wait_until all_judged
io_n=$(count_lines "$AUDIT" '"reason":"window-io"')
check "...those the window could not record refused as window-io ($io_n)" \
    [ "$io_n" -ge 170 ]
check "...logged with the reason" grep -q 'refused reason=window-io' \
    "$T/pgf/daemon.log"
check "...the operator is told once that the state directory refuses writes" \
    [ "$(count_lines "$T/pgf/daemon.log" 'state directory .* refuses writes')" -eq 1 ]
check "...and the cluster gets one signed alert" \
    wait_until grep -q '^hive/all/alert .*cannot write its state (window-io' \
    "$T/alerts.txt"
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "disk-full-cmd" \
    >/dev/null
check "a command while the disk is full is refused (window-io or journal-io)" \
    wait_until bash -c 'grep -q "\"reason\":\"\(window\|journal\)-io\"" <<<"$(tail -3 "$1")"' \
    _ "$AUDIT"
check "...and does not reach the agent" [ "$(calls_with disk-full-cmd)" -eq 0 ]
check "the daemon is still running" kill -0 "$MON"
check "...and answers on its control socket" \
    "$CLI" status --socket "$T/pgf/run/hive.sock" >/dev/null
state_refused() { mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -C 1 -W 5 \
    -t hive/meta/pg1-18890/state | jq -r '.text | fromjson | .refused'; }
counted() { [ "$(state_refused)" -ge "$io_n" ]; }
check "...its state document counts the refusals" wait_until counted

rm "$STATE/fill"
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "disk-back" >/dev/null
check "room again: the next command is injected" \
    wait_until injected_once disk-back
check "...the daemon says the state directory is writable again" \
    wait_for "$T/pgf/daemon.log" 'state directory .* writable again' 30
check "...and tells the cluster" wait_until grep -q \
    '^hive/all/status .*can write its state again' "$T/alerts.txt"
check "the daemon stops cleanly" stop_box "$MON"
finish
