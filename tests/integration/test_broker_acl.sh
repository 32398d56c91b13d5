#!/usr/bin/env bash
# test_broker_acl.sh - the mosquitto ACL of docs/operations.md
# (docs/examples/hive.acl) works with hive: a real mosquitto with passwords
# and that ACL file, two daemons logging in as their nodes
#   turq  serves turq-18789
#   pg1   serves pg1-18890 and mini1-18889 (the ACL's `user` block)
# Shows: both connect; a --wait round trip;
# a message to the second node of a box arrives; status sees every
# node; and what the ACL withholds: turq's credentials cannot read
# pg1's command topic (pg1's own can), cannot wipe pg1's retained
# state, and an anonymous client cannot connect; a node's last will
# (published by the broker, under the node's ACL) reaches the others.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ACL_SRC="$HIVE_SRC/docs/examples/hive.acl"
chmod 755 "$T"
for n in turq-18789 pg1-18890; do
	printf 'pw-%s\n' "$n" >"$T/$n.pw"
	chmod 600 "$T/$n.pw"
done
: >"$T/broker.passwd"
mosquitto_passwd -b "$T/broker.passwd" turq-18789 pw-turq-18789
mosquitto_passwd -b "$T/broker.passwd" pg1-18890 pw-pg1-18890
# the shipped file, with its `user` block for the two-node box enabled
{ cat "$ACL_SRC"; sed -n '/^# --- a box serving several nodes/,$ {
    s/^# \(user \|topic \)/\1/p; }' "$ACL_SRC"; } \
    >"$T/hive.acl"
check "the ACL's user block is the one the test enables" \
    [ "$(grep -c '^user \|^topic ' "$T/hive.acl")" -eq 3 ]
BROKER_EXTRA="allow_anonymous false
password_file $T/broker.passwd
acl_file $T/hive.acl
log_type debug"
start_broker

gen_node turq-18789
gen_node pg1-18890
gen_node mini1-18889
me=$(id -un)
setup_box turq turq-18789 "username turq-18789
password_file $T/turq-18789.pw" "socket send $me
socket reply $me"
setup_box pg1 pg1-18890,mini1-18889 "username pg1-18890
password_file $T/pg1-18890.pw" "socket send *
socket reply *"
printf '18890 pg1-18890\n18889 mini1-18889\n' >"$T/pg1/calls/instances"
echo "$CLI $T/pg1/run/hive.sock" >"$T/pg1/calls/autoreply"
start_box turq
start_box pg1
TURQ=(--socket "$T/turq/run/hive.sock")
PG1=(--socket "$T/pg1/run/hive.sock")

# --- what every node needs still works ----------------------------------
status_has() { "$CLI" status "${TURQ[@]}" --json >"$T/status.json" &&
    [ "$(jq -r '[.[].data | select(.status == "online") | .node] | sort |
    join(",")' "$T/status.json")" = "mini1-18889,pg1-18890,turq-18789" ]; }
check "turq's status shows the three nodes online (meta read and written)" \
    wait_until status_has
rc=0
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "check disk" \
    --wait 20 >"$T/wait.out" 2>"$T/wait.err" || rc=$?
check "a command with --wait from turq to pg1 is answered (exit 0)" \
    [ "$rc" -eq 0 ]
check "...by pg1's agent" \
    [ "$(jq -r '.from + " " + .text' "$T/wait.out")" = \
    "pg1-18890 echo: check disk" ]
"$CLI" send "${TURQ[@]}" --to mini1-18889 --ch alert --text "mini1 only" \
    >/dev/null
check "a message to mini1-18889 reaches pg1's box (the user block)" \
    wait_for "$T/pg1/calls/calls.log" 'mini1 only.*"--port","18889"'

# --- what the ACL withholds ----------------------------------------------
SUB=(mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -v)
# subscribe_as NODE OUT TOPIC...: a subscriber with NODE's password
subscribe_as() {
	local node=$1 out=$2; shift 2
	local t=() x
	for x in "$@"; do t+=(-t "$x"); done
	"${SUB[@]}" -u "$node" -P "pw-$node" -i "acl-$node-$RANDOM" \
	    "${t[@]}" >"$out" 2>&1 &
	PIDS+=("$!")
}
# a subscriber is in place once a heartbeat (every second) reaches it
subscribe_as turq-18789 "$T/turq.sub" 'hive/+/command' \
    hive/pg1-18890/command hive/all/heartbeat
subscribe_as pg1-18890 "$T/pg1.sub" hive/pg1-18890/command \
    hive/all/heartbeat
check "turq's subscriber is in place" \
    wait_for "$T/turq.sub" '^hive/all/heartbeat '
check "pg1's subscriber is in place" \
    wait_for "$T/pg1.sub" '^hive/all/heartbeat '
# in this order: the daemon answers only after the broker's PUBACK, and
# mosquitto has queued a message for every subscriber by then
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "secret plan" \
    >/dev/null
"$CLI" send "${PG1[@]}" --to turq-18789 --ch command --text "for turq" \
    >/dev/null
check "turq's subscriber gets turq's own command topic" \
    wait_for "$T/turq.sub" '^hive/turq-18789/command .*for turq'
check "...but not pg1's command topic (neither by + nor by name)" \
    bash -c '! grep -q "secret plan" "$1"' _ "$T/turq.sub"
check "pg1's own credentials do read pg1's command topic" \
    wait_for "$T/pg1.sub" '^hive/pg1-18890/command .*secret plan'

mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -u turq-18789 \
    -P pw-turq-18789 -t hive/meta/pg1-18890/state -r -n
check "turq cannot wipe pg1's retained state (still there afterwards)" \
    bash -c 'mosquitto_sub -h 127.0.0.1 -p "$1" -u pg1-18890 \
    -P pw-pg1-18890 -t hive/meta/pg1-18890/state -C 1 -W 10 |
    jq -e ".from == \"pg1-18890\"" >/dev/null' _ "$BROKER_PORT"
check "...and the broker logged the denied publish" \
    grep -q "Denied PUBLISH .*hive/meta/pg1-18890/state" "$T/mosquitto.log"
rc=0
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t hive/all/alert \
    -m anon 2>/dev/null || rc=$?
check "an anonymous client cannot connect" [ "$rc" -ne 0 ]
check "the daemons saw no refusal on the way" \
    bash -c '! grep -h "refused reason=" "$1" "$2"' _ \
    "$T/turq/daemon.log" "$T/pg1/daemon.log"

# the last will: the broker publishes it for the node when its router's
# connection drops, and checks it against that node's ACL then
router=$(sed -n 's/^monitor: info: started router pid \([0-9]*\)$/\1/p' \
    "$T/turq/daemon.log")
kill -KILL "$router"
turq_offline() { "$CLI" status "${PG1[@]}" --json >"$T/status2.json" &&
    [ "$(jq -r '.[].data | select(.node == "turq-18789") | .status' \
    "$T/status2.json")" = offline ]; }
check "turq's last will (offline) reaches pg1 through the ACL" \
    wait_until turq_offline

finish
