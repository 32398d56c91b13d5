#!/usr/bin/env bash
# test_faults_inject.sh - a hung gateway (docs/faults.md): the openclaw
# double waits for a release that does not come, so the injector's one
# call per instance hangs.  The router keeps serving (control socket,
# other messages accepted and counted); injections pile up to the
# router's bound for peers (448 of the 512 held: the last 64 are the
# box's own; 64 of them handed to the injector) and past it each one is
# refused as queue-full, counted, logged and audited;
# nothing grows without bound.  Released, the gateway takes calls
# again, and a stop defers what is left to the journal: delivered plus
# journaled is every injection that was held.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SIGN=$HIVE_BIN/tests/hive-test-sign

start_broker
gen_node turq-18789
gen_node pg1-18890
chmod 755 "$T"
# inject_share 512: one peer may take all the peers' part
setup_box pg1 pg1-18890 "inject_share 512" \
    "rate from turq-18789 100000/s burst 1000000"
CALLS=$T/pg1/calls/calls.log
AUDIT=$T/pg1/log/audit.log
LOG=$T/pg1/daemon.log
PUB=(mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1)
TURQ=(-h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys"
    --sign-key "$T/priv/turq-18789.key")
HELD=448	# ROUTER_INJECT_MAX - ROUTER_INJECT_RESERVED
N=600

start_box pg1
MON=${PIDS[-1]}
: >"$T/pg1/calls/gate"
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "first-hangs" \
    >/dev/null
check "the gateway hangs on the first call" \
    wait_until grep -q first-hangs "$CALLS"

now=$(date +%s)
for i in $(seq 1 "$N"); do
	printf '{"v":2,"id":"pile-%d","ts":%s,"from":"turq-18789","to":"pg1-18890","ch":"command","urgency":"now","ttl":600,"text":"pile %d"}\n' \
	    "$i" "$now" "$i"
done | "$SIGN" "$T/priv/turq-18789.key" >"$T/pile.txt"
"${PUB[@]}" -t hive/pg1-18890/command -l <"$T/pile.txt"
full_n() { count_lines "$AUDIT" '"reason":"queue-full"'; }
all_in() { [ "$(count_lines "$AUDIT" '"event":"accepted".*"id":"pile-')" -eq "$N" ]; }
check "$N more commands while it hangs: every one accepted by the gate" \
    wait_until all_in
expect_full=$((N + 1 - HELD))
test_full() { [ "$(full_n)" -eq "$expect_full" ]; }
check "...past the bound ($HELD held) each further one is refused as queue-full ($expect_full)" \
    wait_until test_full
check "...each refusal logged with its reason" \
    [ "$(count_lines "$LOG" 'queue-full \(448 held, turq-18789\); refused')" -eq "$expect_full" ]
journal_n() { find "$T/pg1/state/inject" -type f | wc -l; }
check "the journal holds the $HELD held injections, no more" \
    [ "$(journal_n)" -eq "$HELD" ]
# Each accepted command gets a signed in_progress document: 600 at once
# are more signatures than the router asks the monitor for at a time
# (256); the rest wait their turn, none is dropped.
corr_n() { { mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" --retained-only \
    -W 2 -t 'hive/meta/corr/+' || true; } | grep -c '"corr":"pile-' || true; }
corr_all() { [ "$(corr_n)" -eq "$N" ]; }
check "every one of the $N has its signed in_progress document" \
    wait_until corr_all
check "...and no sign request was dropped" \
    bash -c '! grep -q "sign queue full" "$1"' _ "$LOG"
check "the gateway was asked once: nothing else started meanwhile" \
    [ "$(wc -l <"$CALLS")" -eq 1 ]

# the router is not stuck behind the gateway
check "the router still answers status on its control socket" \
    "$CLI" status --socket "$T/pg1/run/hive.sock" --json >/dev/null
check "...and roster" "$CLI" roster --socket "$T/pg1/run/hive.sock" --json \
    >/dev/null
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch status --urgency later \
    --text "still-here" >/dev/null
check "...and a status message is accepted and counted" \
    wait_until grep -q '"ch":"status","event":"accepted","from":"turq' "$AUDIT"
state_doc() { mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -C 1 -W 5 \
    -t hive/meta/pg1-18890/state | jq -r '.text | fromjson'; }
injected_ok() { [ "$(state_doc | jq -r .injected)" -eq "$HELD" ]; }
check "...its heartbeat counts the $HELD injections it holds" \
    wait_until injected_ok

# released: calls go through again; a stop defers the rest
: >"$T/pg1/calls/release"
delivered_n() { count_lines "$AUDIT" '"event":"inject-result".*"reason":"delivered"'; }
some_delivered() { [ "$(delivered_n)" -ge 20 ]; }
check "released, the gateway takes calls again" wait_until some_delivered
kill -TERM "$MON"
rc=0; wait "$MON" || rc=$?
check "the daemon stops cleanly" [ "$rc" -eq 0 ]
d=$(delivered_n) j=$(journal_n)
echo "# delivered $d, left in the journal $j"
check "nothing held was lost: delivered + journaled = $HELD" \
    [ $((d + j)) -eq "$HELD" ]
check "...and nothing was delivered twice" \
    [ "$(jq -r '.[3]' "$CALLS" | sort | uniq -d | wc -l)" -eq 0 ]
finish
