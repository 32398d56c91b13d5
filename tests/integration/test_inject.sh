#!/usr/bin/env bash
# test_inject.sh - the injectors, against a real broker and the openclaw
# double:
#   - SIGTERM drains: the running call finishes and is delivered, the
#     queued ones stay in the journal and are delivered (once) by the
#     next start; the daemon exits 0;
#   - an agent-turn instance runs `openclaw agent ...` and its reply
#     comes back to the sender of the command as the signed response;
#   - gateway token and password reach the CLI through its environment,
#     never its argv;
#   - one injector per instance user, each running as that user;
#   - the CLI's answer is logged, one printable line, capped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_broker
gen_node turq-18789
gen_node pg1-18890
gen_node mini1-18889
chmod 755 "$T"
TURQ=(-h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys"
    --sign-key "$T/priv/turq-18789.key")
journal_is() { [ "$(ls "$T/pg1/state/inject" | wc -l)" -eq "$1" ]; }
calls_ge() { [ "$(wc -l <"$T/$1/calls/calls.log")" -ge "$2" ]; }
drained_once() {	# each drain-N in the agent's calls, once
	[ "$(jq -r '.[3]' "$T/pg1/calls/calls.log" | grep -o 'drain-[0-9]' |
	    sort -u | wc -l)" -eq 3 ]
}
argv_of() {	# argv_of BOX N: the Nth recorded call, one word per line
	sed -n "${2}p" "$T/$1/calls/calls.log" | jq -r '.[]'
}

# --- drain and journal ---------------------------------------------------
setup_box pg1 pg1-18890 ""
start_box pg1
touch "$T/pg1/calls/gate"
for i in 1 2 3; do
	"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command \
	    --text "drain-$i" >/dev/null
done
wait_until calls_ge pg1 1
# all three in the journal before the stop: one read only during the
# drain would be held for the next start instead (test_restart.sh)
check "one call runs while the gateway is slow, two wait" \
    wait_until journal_is 3
check "...only one has reached the gateway" \
    [ "$(wc -l <"$T/pg1/calls/calls.log")" -eq 1 ]
pid=${PIDS[-1]}
kill -TERM "$pid"
wait_for "$T/pg1/daemon.log" 'draining: queued injections deferred'
check "the waiting calls are handed back to the journal" \
    wait_until journal_is 3
touch "$T/pg1/calls/release"
rc=0
wait "$pid" || rc=$?
check "SIGTERM: the daemon drains and exits 0" [ "$rc" -eq 0 ]
check "the running call finished (delivered) before the exit" \
    grep -q 'delivered instance=pg1-18890' "$T/pg1/daemon.log"
check "...and the daemon logged the CLI's answer" grep -qF \
    'openclaw instance=pg1-18890 exit=0 answered: {"ok":true}' \
    "$T/pg1/daemon.log"
check "the journal keeps exactly the two deferred injections" journal_is 2
rm -f "$T/pg1/calls/gate" "$T/pg1/calls/release"
mv "$T/pg1/daemon.log" "$T/pg1/daemon.log.1"
# a damaged entry (bad mode) must not reach the injector, which would
# take it as a protocol violation and crash the daemon at every start
printf '{"instance":"pg1-18890","mode":"bogus","session":"","text":"x"}' \
    >"$T/pg1/state/inject/ffffffffffffff00"
chown "$DUSER" "$T/pg1/state/inject/ffffffffffffff00" 2>/dev/null || true
start_box pg1
check "a damaged journal entry is reported and left alone" grep -q \
    'journal: ffffffffffffff00 is damaged' "$T/pg1/daemon.log"
check "the next start replays them" \
    grep -q 'journal: 2 injection(s) from the last run' "$T/pg1/daemon.log"
check "every acknowledged command reached the agent" wait_until drained_once
check "...exactly once" [ "$(jq -r '.[3]' "$T/pg1/calls/calls.log" |
    grep -o 'drain-[0-9]' | sort | uniq -d | wc -l)" -eq 0 ]
check "...and the journal holds only the damaged entry again" \
    wait_until journal_is 1

# --- agent turn, secrets, one injector per user ----------------------------
printf 'tok-%s\n' "$RANDOM$RANDOM" >"$T/token"
printf 'pw-%s\n' "$RANDOM$RANDOM" >"$T/password"
chmod 600 "$T/token" "$T/password"
setup_box mini mini1-18889,turq-18789 "" "
instance mini1-18889 {
	inject agent-turn
	agent main
	user nobody
	token-file $T/token
	password-file $T/password
}
instance turq-18789 {
	user daemon
	url ws://127.0.0.1:18789
}"
start_box mini
want=$(printf '%s\n' 1 65534 "$(id -u "$DUSER")" | sort -n | tr '\n' ' ')
# each child drops its ids as it starts: until they have
uids_are() { uids=$(ps -o uid= --ppid "${PIDS[-1]}" | sort -n | tr -d ' ' |
    tr '\n' ' ') && [ "$uids" = "$want" ]; }
wait_until uids_are || true
check "router and two injectors, as $DUSER, nobody and daemon ($uids)" \
    [ "$uids" = "$want" ]

out=$("$CLI" send --socket "$T/pg1/run/hive.sock" --from pg1-18890 \
    --to mini1-18889 --ch command --text "what time is it" --wait 10)
check "the agent's reply comes back as the response (--wait)" \
    grep -q '"text":"agent says: Hive command' <<<"$out"
check "...a signed response from the agent's node" \
    grep -q '"from":"mini1-18889","id"' <<<"$out"
check "...with no outcome: the turn succeeded" \
    jq -e 'has("outcome") | not' <<<"$out"
argv_of mini 1 >"$T/argv"
check "agent-turn argv: openclaw agent --agent main --session-id hive" \
    [ "$(head -7 "$T/argv" | tr '\n' ' ')" = \
      "agent --agent main --session-id hive --json --message " ]
check "...and the frame tells the agent its reply is sent back" \
    grep -q 'Your reply is sent back automatically' "$T/argv"
tok=$(cat "$T/token") pw=$(cat "$T/password")
check "the token and password reach the CLI in its environment" \
    [ "$(sed -n 1p "$T/mini/calls/env.log" | jq -r '.token + " " + .password')" \
      = "$tok $pw" ]
check "...and never its argv" \
    [ "$(grep -c -e "$tok" -e "$pw" "$T/mini/calls/calls.log")" -eq 0 ]
check "...the call ran as the instance user (nobody)" \
    [ "$(sed -n 1p "$T/mini/calls/env.log" | jq -r .uid)" = 65534 ]

"$CLI" send --socket "$T/pg1/run/hive.sock" --from pg1-18890 --to turq-18789 \
    --ch alert --text "disk full" >/dev/null
wait_until calls_ge mini 2
argv_of mini 2 >"$T/argv2"
# the double writes its environment after its argv: wait for both
env_ge2() { [ "$(wc -l <"$T/mini/calls/env.log")" -ge 2 ]; }
wait_until env_ge2
url_as_daemon() {
	[ "$(grep -c -x -e event -e --url -e ws://127.0.0.1:18789 "$T/argv2")" \
	    -eq 3 ] && [ "$(sed -n 2p "$T/mini/calls/env.log" | jq -r .uid)" = 1 ]
}
check "event instance with a url: system event --url, as user daemon" \
    url_as_daemon
check "...and no secret of the other instance in its environment" \
    [ "$(sed -n 2p "$T/mini/calls/env.log" | jq -r '.token')" = null ]

# --- the CLI's answer in the log --------------------------------------------
# valid JSON (delivered), but multi-line, not ASCII and long: the log
# gets one line of printable ASCII, whitespace runs as one space, cut at
# 200 bytes
a300=$(printf 'A%.0s' $(seq 300))
printf '{\n\t"ok": true,\n\t"note": "\303\251%s"\n}\n' "$a300" \
    >"$T/mini/calls/answer"
"$CLI" send --socket "$T/pg1/run/hive.sock" --from pg1-18890 --to turq-18789 \
    --ch alert --text "long answer" >/dev/null
delivered2() { [ "$(count_lines "$T/mini/daemon.log" \
    'delivered instance=turq-18789 attempts=1')" -ge 2 ]; }
wait_until delivered2
want="injector: info: openclaw instance=turq-18789 exit=0 answered: "
want+="{ \"ok\": true, \"note\": \"??${a300:0:175}..."
check "the CLI's answer is logged: one printable line, cut at 200 bytes" \
    grep -qxF -- "$want" "$T/mini/daemon.log"

# --- the outcome, published ------------------------------------------------
# mini's state document, as pg1's daemon verified it: the agent turn and
# the two alerts delivered, nothing failed
mini_counts() { "$CLI" status --socket "$T/pg1/run/hive.sock" --json |
    jq -e '.[] | select(.data.node == "mini1-18889") |
    .data.delivered >= 3 and .data.inject_failed == 0' >/dev/null; }
check "the state document counts the deliveries (seen from pg1)" \
    wait_until mini_counts

# --- an agent turn that fails: the sender is told, machine-readably ----------
: >"$T/mini/calls/fail"
rc=0
"$CLI" send --socket "$T/pg1/run/hive.sock" --from pg1-18890 \
    --to mini1-18889 --ch command --text "fail this turn" --wait 10 \
    >"$T/turnfail.out" 2>/dev/null || rc=$?
check "a failed agent turn is answered: outcome error, exit 5" \
    [ "$(jq -r .outcome "$T/turnfail.out")" = error -a "$rc" -eq 5 ]
rm -f "$T/mini/calls/fail"

# --- a stand-in openclaw that prints nothing -------------------------------
# exit 0 and no {"ok":true}: retried, then failed with a message that
# says what was expected and where it is written; the command's corr
# document goes to failed (not left in_progress), and the sender's
# pending shows it
: >"$T/mini/calls/answer"
"$CLI" send --socket "$T/pg1/run/hive.sock" --from pg1-18890 --to turq-18789 \
    --ch command --corr mute-1 --text "anyone home" >/dev/null
why='openclaw exited 0 but printed no {"ok":true}; see docs/openclaw.md'
check "an empty answer fails with the contract in the log" \
    wait_for "$T/mini/daemon.log" \
    "injection failed: failed instance=turq-18789 attempts=3: .*see docs/openclaw.md"
check "...word for word" grep -qF "$why" "$T/mini/daemon.log"
# the monitor writes the audit line after the router logged its own
check "...and in the audit line" wait_until grep -qF \
    "${why//\"/\\\"}" "$T/mini/log/audit.log"
corr_failed() { mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" \
    --retained-only -W 2 -t hive/meta/corr/mute-1 -C 1 >"$T/corr.doc" \
    2>/dev/null || true; [ "$(jq -r .text "$T/corr.doc" |
    jq -r .status)" = failed ]; }
check "the command's corr document says failed" wait_until corr_failed
check "...signed by the addressee" [ "$(jq -r .from "$T/corr.doc")" = \
    turq-18789 ]
pending_failed() { "$CLI" pending --socket "$T/pg1/run/hive.sock" --json |
    jq -e '.[] | select(.data.corr == "mute-1" and
    .data.status == "failed")' >/dev/null; }
check "...and the sender's pending shows it failed" wait_until pending_failed
finish
