#!/usr/bin/env bash
# test_window_share.sh - the replay window's share per sender
# (docs/window.md, "Shares per sender"), against a real mosquitto and a
# running daemon: one keyring peer allowed by the policy sends more
# distinct signed commands than its window_share (8 of a window of
# 1024): those past its share are refused as share-full (a reason line
# in the log, an audit line naming the verified signer, the state
# document's counter) and never remembered; meanwhile another peer's
# commands and the box's own (a command from the box's second node)
# are accepted, the box's own past the share, since its nodes are
# bound by the capacity only; once the peer's entries expire its
# refused command is accepted.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SIGN=$HIVE_BIN/tests/hive-test-sign

start_broker
for n in turq-18789 mini1-18889 pg1-18890 pg2-18891; do
	gen_node "$n"
done
chmod 755 "$T"
# max_skew 2: entries of short-lived commands go within seconds
setup_box pg1 pg1-18890,pg2-18891 "window_capacity 1024
window_share 8
max_skew 2"
PUB=(mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1)
AUDIT=$T/pg1/log/audit.log
LOG=$T/pg1/daemon.log

# envelope FROM ID TTL: a signed command from FROM to pg1-18890, one line
envelope() {
	printf '{"v":2,"id":"%s","ts":%s,"from":"%s","to":"pg1-18890","ch":"command","urgency":"later","ttl":%s,"text":"share test %s"}\n' \
	    "$2" "$(date +%s)" "$1" "$3" "$2" | "$SIGN" "$T/priv/$1.key"
}
publish() { "${PUB[@]}" -t hive/pg1-18890/command -l <"$1"; }	# FILE
# accepted FROM: FROM's commands accepted (the box's heartbeats aside)
accepted() { jq -s --arg f "$1" 'map(select(.event == "accepted" and
    .from == $f and .ch == "command")) | length' "$AUDIT"; }
refused_as() { jq -s --arg r "$1" --arg f "$2" 'map(select(.event ==
    "refused" and .reason == $r and .from == $f)) | length' "$AUDIT"; }
kid_of() { awk '!/^#/ {print $2}' "$T/keys/$1.pub" | base64 -d |
    b2sum -l 256 | cut -c1-16; }

start_box pg1
MONITOR=${PIDS[-1]}
check "the daemon starts with window_share 8" \
    grep -q 'subscribed; ready' "$LOG"
"$DAEMON" -n -c "$T/pg1/hive.conf" >"$T/n.out"
check "hive-daemon -n prints window_share" grep -qx 'window_share 8' "$T/n.out"

# --- one peer past its share ----------------------------------------------
for i in 1 2 3 4 5 6 7 8; do envelope turq-18789 "t$i" 4; done >"$T/turq1"
t0=$(date +%s)	# after the last ts signed above
for i in 9 10 11; do envelope turq-18789 "t$i" 3600; done >"$T/turq2"
envelope turq-18789 t9 3600 >"$T/t9"
publish "$T/turq1"
publish "$T/turq2"
turq_done() { [ $(( $(accepted turq-18789) +
    $(refused_as share-full turq-18789) )) -ge 11 ]; }
check "a peer's 11 distinct commands: each accepted or refused" \
    wait_until turq_done
check "...its first 8 (its share) accepted" [ "$(accepted turq-18789)" -eq 8 ]
check "...the 9th to 11th refused as share-full" \
    [ "$(refused_as share-full turq-18789)" -eq 3 ]
share_lines() { jq -s --arg k "$(kid_of turq-18789)" 'map(select(.reason ==
    "share-full" and .from == "turq-18789" and .kid == $k and
    (.id | test("^t(9|10|11)$")) and (.detail | startswith(
    "window from=turq-18789 holds 8; topic=hive/pg1-18890/command"))))
    | length' "$AUDIT"; }
check "...each audit line names the signer, its kid, the id and the share held" \
    [ "$(share_lines)" -eq 3 ]
check "...with a reason line in the daemon's log" \
    grep -q 'refused reason=share-full detail="window from=turq-18789 holds 8' \
    "$LOG"
state_doc() { mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -C 1 -W 5 \
    -t hive/meta/pg1-18890/state | jq -c '.text | fromjson'; }
counted() { [ "$(state_doc | jq '.refused_by["share-full"]')" = 3 ]; }
check "...and counted in the state document (refused_by share-full)" \
    wait_until counted

# --- the others are not refused -------------------------------------------
for i in 1 2 3; do envelope mini1-18889 "m$i" 3600; done >"$T/mini1"
publish "$T/mini1"
mini_done() { [ "$(accepted mini1-18889)" -eq 3 ]; }
check "another peer's commands are accepted meanwhile" wait_until mini_done
for i in $(seq 1 12); do envelope pg2-18891 "o$i" 3600; done >"$T/own"
publish "$T/own"
own_done() { [ "$(accepted pg2-18891)" -eq 12 ]; }
check "the box's own node sends 12 (past any share): all accepted" \
    wait_until own_done
own_refused() { jq -s 'map(select(.event == "refused" and (.from ==
    "pg1-18890" or .from == "pg2-18891"))) | length' "$AUDIT"; }
check "...and nothing of the box's own (its heartbeats included) was refused" \
    [ "$(own_refused)" -eq 0 ]
injected() { grep -c "share test $1" "$T/pg1/calls/calls.log" || true; }
# the injector runs the agent's CLI after the audit line: wait for it
t8_in() { [ "$(injected t8)" -eq 1 ]; }
check "the peer's 8th command reached the agent" wait_until t8_in
check "...its 9th did not" [ "$(injected t9)" -eq 0 ]

# --- its entries expire: the share frees ----------------------------------
# t1..t8 expire at ts + ttl 4 + max_skew 2; one second more for the
# daemon's clock (time(2) may lag date's by a tick)
expired() { [ "$(date +%s)" -gt $((t0 + 4 + 2 + 1)) ]; }
wait_until expired
t9_in() { [ "$(jq -s 'map(select(.event == "accepted" and .from ==
    "turq-18789" and .id == "t9")) | length' "$AUDIT")" -eq 1 ]; }
# again while refused: a refused t9 is never remembered, and the sweep
# that frees the share may come a second after our clock says it can
t9_try() { publish "$T/t9"; wait_until_s 2 t9_in; }
check "once its entries expired, the refused command (never remembered) is accepted" \
    wait_until t9_try
check "...and injected" wait_until_s 10 bash -c \
    '[ "$(grep -c "share test t9" "$1" || true)" -eq 1 ]' _ \
    "$T/pg1/calls/calls.log"

kill -TERM "$MONITOR"
rc=0; wait "$MONITOR" || rc=$?
check "the daemon stops with status 0" [ "$rc" -eq 0 ]
finish
