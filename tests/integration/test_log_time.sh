#!/usr/bin/env bash
# test_log_time.sh - log_timestamps: with "yes" every line the monitor,
# the router and the injector log starts with an RFC 3339 UTC time to
# the millisecond, close to now; with "no" none does; with "auto" (the
# default) lines are stamped unless JOURNAL_STREAM names the daemon's
# very stderr, as systemd sets it when stderr is the journal (which
# stamps lines itself) -- a JOURNAL_STREAM naming another file does not
# count, and the children follow the monitor's decision even with the
# variable gone from their environment.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_broker
gen_node pg1-18890
chmod 755 "$T"

TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z '
LINE_RE='(monitor|router|injector): (info|warn|debug|fatal): '

# run_box NAME MODE [ENV...]: a box with log_timestamps MODE, started
# with ENV, until ready, then stopped; its log in $T/NAME/daemon.log
# (created first, so JOURNAL_STREAM can name it; appended to, so it
# stays that file)
run_box() {
	local box=$1 mode=$2 pid
	shift 2
	BOX_LOG_TIMESTAMPS=$mode setup_box "$box" pg1-18890 ""
	: >"$T/$box/daemon.log"
	env "$@" "$DAEMON" -f -c "$T/$box/hive.conf" 2>>"$T/$box/daemon.log" &
	pid=$!
	PIDS+=("$pid")
	wait_for "$T/$box/daemon.log" 'subscribed; ready' 20 ||
	    fail "$box: the daemon got ready"
	# the injector says which instance it serves as it starts
	wait_for "$T/$box/daemon.log" 'injector: info: ' 20 ||
	    fail "$box: the injector logged"
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" || true
}

# every line stamped, from each role
all_stamped() {
	local f=$1 n bad
	n=$(wc -l <"$f")
	bad=$(grep -Evc -- "$TS_RE$LINE_RE" "$f" || true)
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ] &&
	    grep -Eq -- "${TS_RE}monitor: " "$f" &&
	    grep -Eq -- "${TS_RE}router: " "$f" &&
	    grep -Eq -- "${TS_RE}injector: " "$f"
}
# no line stamped, each role's there from the start of the line
none_stamped() {
	local f=$1 n bad
	n=$(wc -l <"$f")
	bad=$(grep -Evc -- "^$LINE_RE" "$f" || true)
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ] &&
	    grep -q '^monitor: ' "$f" && grep -q '^router: ' "$f" &&
	    grep -q '^injector: ' "$f"
}
# every stamp is a real time (date parses it) within a minute of now
stamps_now() {
	local f=$1 now t s
	now=$(date +%s)
	while read -r t _; do
		s=$(date -u -d "$t" +%s) || return 1
		[ $((now - s)) -le 60 ] && [ $((s - now)) -le 60 ] || return 1
	done <"$f"
}

run_box yes yes
check "yes: every line of every role starts with an RFC 3339 time" \
    all_stamped "$T/yes/daemon.log"
check "yes: each time is a valid UTC time, within a minute of now" \
    stamps_now "$T/yes/daemon.log"

run_box no no
check "no: no line carries a time" none_stamped "$T/no/daemon.log"

run_box auto auto -u JOURNAL_STREAM
check "auto, no JOURNAL_STREAM: lines are stamped" \
    all_stamped "$T/auto/daemon.log"

# systemd's JOURNAL_STREAM is DEV:INODE of the stream it gave as
# stderr: here the box's own log, created first, then named
BOX_LOG_TIMESTAMPS=auto setup_box j pg1-18890 ""
: >"$T/j/daemon.log"
js=$(stat -c '%d:%i' "$T/j/daemon.log")
JOURNAL_STREAM="$js" "$DAEMON" -f -c "$T/j/hive.conf" \
    2>>"$T/j/daemon.log" &
pid=$!
PIDS+=("$pid")
wait_for "$T/j/daemon.log" 'subscribed; ready' 20 || fail "j: ready"
wait_for "$T/j/daemon.log" 'injector: info: ' 20 || fail "j: injector"
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" || true
check "auto, JOURNAL_STREAM naming stderr: no line of any role carries a time (the journal stamps them)" \
    none_stamped "$T/j/daemon.log"

: >"$T/elsewhere"
run_box other auto JOURNAL_STREAM="$(stat -c '%d:%i' "$T/elsewhere")"
check "auto, JOURNAL_STREAM naming another file: lines are stamped" \
    all_stamped "$T/other/daemon.log"
run_box garbled auto JOURNAL_STREAM="$js:1"
check "auto, a malformed JOURNAL_STREAM: lines are stamped" \
    all_stamped "$T/garbled/daemon.log"

# the keyword's values, and its default
printf 'node pg1-18890\nlog_timestamps sometimes\n' >"$T/bad.conf"
chmod 600 "$T/bad.conf"
rc=0; "$DAEMON" -n -c "$T/bad.conf" >/dev/null 2>"$T/bad.err" || rc=$?
check "log_timestamps sometimes: refused at FILE:LINE, exit 2" \
    bash -c '[ "$1" -eq 2 ] && grep -q "bad.conf:2: .*log_timestamps" "$2"' \
    _ "$rc" "$T/bad.err"
printf 'node pg1-18890\n' >"$T/min.conf"
chmod 600 "$T/min.conf"
"$DAEMON" -n -c "$T/min.conf" >"$T/min.out"
check "the default is auto (hive-daemon -n)" \
    grep -qx 'log_timestamps auto' "$T/min.out"
# -T, the monitor's decision, takes nothing but yes or no
rc=0; "$DAEMON" -T maybe -n -c "$T/min.conf" >/dev/null 2>&1 || rc=$?
check "-T maybe: a usage error (exit 2)" [ "$rc" -eq 2 ]

finish
