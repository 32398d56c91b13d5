#!/usr/bin/env bash
# test_control_hostile.sh - local users with no rights against the
# daemon's control socket (mode 0666: anyone may connect).  Accounts
# made for the test hold idle connections, churn them, send refused,
# malformed and oversize requests, while root sends and reads, another
# account the policy lets send sends, and another reader reads.  Shows:
# no reader can make a sender's or another reader's request fail; per-uid cap, eviction of idle readers, the
# idle timeout (a send --wait is not idle), and a refused request
# closes its connection.
#
# Needs root (to make accounts and act as them), useradd, setpriv and
# /usr/bin/python3 (tests/tools/ctlhostile.py, run as those accounts).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null ||
    ! command -v setpriv >/dev/null || [ ! -x "$PY" ]; then
	echo "# SKIP: needs root, useradd, setpriv and $PY"
	exit 77
fi

# More reader uids than the readers' share holds at 4 connections each
# (32 / 4 = 8): they must evict each other, never anyone else.
NHOSTILE=9
HOSTILE=()
HOLDERS=()
# lib.sh's cleanup reads the exit status from $?: hand it on.
status_is() { return "$1"; }
hostile_cleanup() {
	local rc=$? p u
	for p in "${HOLDERS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${HOLDERS[@]}"; do wait "$p" 2>/dev/null || true; done
	for u in "${HOSTILE[@]}"; do userdel "$u" 2>/dev/null || true; done
	if status_is "$rc"; then cleanup; else cleanup; fi
}
trap hostile_cleanup EXIT
for i in $(seq 1 "$NHOSTILE"); do
	u="hivehostile$$x$i"
	useradd --system --no-create-home --shell /usr/sbin/nologin "$u"
	HOSTILE+=("$u")
done
as_user() {	# as_user USER CMD...: no groups, no capabilities
	local u=$1
	shift
	setpriv --reuid "$u" --regid "$(id -g "$u")" --clear-groups "$@"
}

start_broker
gen_node turq-18789
chmod 755 "$T"
# daemon: a sender that is not root (its share, its own cap)
setup_box turq turq-18789 "control_timeout 2" "socket send daemon"
start_box turq
SOCK=$T/turq/run/hive.sock
cp "$HIVE_SRC/tests/tools/ctlhostile.py" "$T/"
chmod 644 "$T/ctlhostile.py"
HOSTILE_PY=("$PY" "$T/ctlhostile.py")

# --- pressure: every hostile uid wants 8 idle connections ---------------
for u in "${HOSTILE[@]}"; do
	as_user "$u" "${HOSTILE_PY[@]}" hold "$SOCK" 8 "$T/stop" \
	    >"$T/hold-$u.out" 2>&1 &
	HOLDERS+=("$!")
done
for u in "${HOSTILE[@]}"; do wait_for "$T/hold-$u.out" '^connected'; done

root_status() { "$CLI" status --socket "$SOCK" >"$T/status.out"; }
root_send() {
	"$CLI" send --socket "$SOCK" --force --to ghost-1 --ch command \
	    --text "under pressure" >"$T/send.out"
}
sender_send() {
	as_user daemon "$CLI" send --socket "$SOCK" --force --to ghost-1 \
	    --ch command --text "from daemon" >"$T/daemon-send.out"
}
reader_status() {
	as_user nobody "$CLI" status --socket "$SOCK" >"$T/nobody.out"
}
for n in 1 2 3; do
	check "root's status succeeds while readers hold the socket ($n)" \
	    root_status
	check "root's send succeeds while readers hold the socket ($n)" \
	    root_send
	check "a sender's send succeeds meanwhile ($n)" sender_send
	check "another reader's status succeeds meanwhile ($n)" reader_status
done
check "...the hostile uids were held to their cap" wait_for \
    "$T/turq/daemon.log" 'uid=[0-9]+ refused reason=too-many-connections'
check "...and evicted each other's idle connections" wait_for \
    "$T/turq/daemon.log" 'uid=[0-9]+ closed reason=evicted'
touch "$T/stop"
for p in "${HOLDERS[@]}"; do wait "$p" || true; done
HOLDERS=()

# --- one hostile uid, alone ---------------------------------------------
H=${HOSTILE[0]}
idle_phase() {
	as_user "$H" "${HOSTILE_PY[@]}" idle "$SOCK" 10 >"$T/idle.out"
	n_busy=$(count_lines "$T/idle.out" '^code=busy ')
	n_idle=$(count_lines "$T/idle.out" '^code=timeout ')
	[ "$n_idle" -ge 1 ]
}
# the holders are gone, but the daemon may count their slots for a turn
# or two more: again until one of the 10 is let in (the checks say why
# if none ever is)
wait_until_s 30 idle_phase || true
# (counts, not exactly 4 and 6: a daemon stalled 2 s would see one
# connection time out before the last ones arrive)
all_closed() { [ "$n_idle" -ge 1 ] && [ $((n_busy + n_idle)) -eq 10 ]; }
none_early() { awk '$1 == "code=timeout" { sub("after=", "", $2);
    if ($2 + 0 < 1.9) bad = 1 } END { exit bad }' "$T/idle.out"; }
check "connections past the uid's cap are turned away (busy)" \
    [ "$n_busy" -ge 1 ]
check "...those within it are closed after the idle timeout" all_closed
check "...and not before it (2 s)" none_early

refused() {	# refused KIND CODE: as the hostile uid
	as_user "$H" "${HOSTILE_PY[@]}" refuse "$SOCK" "$1" >"$T/refuse-$1.out"
	grep -qx "code=$2 closed=yes" "$T/refuse-$1.out"
}
check "a denied send is answered and its connection closed" \
    refused denied denied
check "a malformed request is answered and its connection closed" \
    refused malformed bad-request
check "an oversize request is answered and its connection closed" \
    refused oversize oversize
# the refusal names the policy line that decided it
rc=0; as_user "$H" "$CLI" send --socket "$SOCK" --force --to ghost-1 \
    --ch command --text "not mine to send" >/dev/null 2>"$T/denied.err" ||
    rc=$?
sline=$(grep -n '^socket send daemon$' "$T/turq/policy/hive.policy" |
    cut -d: -f1)
check "a denied send exits 2 and names the deciding line (hive.policy:$sline: socket send)" \
    bash -c '[ "$1" -eq 2 ] &&
    grep -qF "may not send (hive.policy:$2: socket send does not name it)" "$3"' \
    _ "$rc" "$sline" "$T/denied.err"
"${HOSTILE_PY[@]}" refuse "$SOCK" second >"$T/second.out"
check "a second request on a connection is refused and closes it" \
    grep -qx 'code=bad-request closed=yes' "$T/second.out"
check "...after the first was answered" grep -qx 'first=True' "$T/second.out"

# A send --wait sends its request at once and then waits, past the
# idle timeout, for an answer the daemon gives at the deadline.
rc=0
"$CLI" send --socket "$SOCK" --force --to ghost-1 --ch command --text "wait" \
    --wait 4 >/dev/null 2>"$T/wait.err" || rc=$?
check "a send --wait outlives the idle timeout (exit 1: no response)" \
    [ "$rc" -eq 1 ]
check "...ended by the daemon's deadline, not a close" \
    grep -q '0 responses within 4s' "$T/wait.err"
check "the daemon is still serving" root_status

finish
