#!/usr/bin/env bash
# test_daemon.sh - hive-daemon against a real mosquitto broker, with a
# test double of the openclaw CLI that records its argv: the routing
# table, refusals with zero injections, heartbeats on the meta topic,
# peer loss raising exactly one alert, the window across a restart,
# a killed router taking the unit down, and (as root) the router's
# credentials and memory.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
MEMSCAN="$HIVE_BIN/tests/hive-test-memscan"

start_broker
gen_node turq-18789
gen_node pg1-18890
mkdir -p "$T/rogue"
"$CLI" keygen --node turq-18789 --dir "$T/rogue" >/dev/null

# the router and injector drop to an unprivileged user when run as
# root; it must be able to reach the state dir and the double
chmod 755 "$T"
mkdir -m 700 "$T/secret"
cp "$T/priv/pg1-18890.key" "$T/secret/"
openclaw_double "$T"
box_conf "$T" pg1-18890 >"$T/hive.conf"
chmod 600 "$T/hive.conf"
mkdir -m 755 "$T/policy"
cat >"$T/policy/hive.policy" <<POLICY
allow from * ch command
allow from * ch sync
allow from * ch alert
allow from * ch status
POLICY

# systemd's side of sd_notify, to see READY, STATUS, WATCHDOG, STOPPING
"$HIVE_BIN/tests/hive-test-notifysink" "$T/notify.sock" >"$T/notify.log" &
PIDS+=("$!")
wait_for "$T/notify.log" '^ready$'
start_daemon() {	# start_daemon LOGNAME
	NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=2000000 \
	    "$DAEMON" -f -c "$T/hive.conf" 2>"$T/$1" &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
	wait_for "$T/$1" 'subscribed; ready'
}
calls() { wc -l <"$T/calls/calls.log"; }
# call N: the Nth recorded argv as a JSON array
call() { sed -n "${1}p" "$T/calls/calls.log"; }
TURQ=(-h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys"
    --sign-key "$T/priv/turq-18789.key")
PUB=(mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1)
has_calls() { [ "$(calls)" -ge "$1" ]; }
expect_calls() { wait_until has_calls "$1"; }	# until N calls recorded

start_daemon daemon.log
kid=$(awk '!/^#/ {print $2}' "$T/keys/turq-18789.pub" | base64 -d |
    b2sum -l 256 | cut -c1-16)

# --- routing table ------------------------------------------------------
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "check disk" \
    --corr c-1 >"$T/cmd.json"
check "command (now) is injected" expect_calls 1
check "argv is system event --text ... --mode now --json" \
    [ "$(call 1 | jq -r '.[0:3] + .[4:] | join(" ")')" = \
    "system event --text --mode now --json" ]
check "injected text carries verified provenance" \
    [ "$(call 1 | jq -r '.[3]')" = "Hive command [corr:c-1] from turq-18789 (signed, key $kid): check disk Response expected. Use the hive skill for protocol details." ]

"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text later-job \
    --urgency later >/dev/null
check "command (later) is injected" expect_calls 2
check "later maps to --mode next-heartbeat" \
    [ "$(call 2 | jq -r '.[5]')" = next-heartbeat ]

"$CLI" send "${TURQ[@]}" --to all --ch alert --text "disk 95%" \
    --urgency later >/dev/null
check "alert to all is injected" expect_calls 3
check "alert is always --mode now" [ "$(call 3 | jq -r '.[5]')" = now ]

"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch status --text "going down" \
    --urgency later >/dev/null
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch response --text "late" \
    --corr nobody-asked >/dev/null
"$CLI" send "${TURQ[@]}" --to all --ch heartbeat --text '{"load":1}' \
    --urgency later >/dev/null
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch sync --text "memory updated" \
    --urgency later >/dev/null
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch status --text "back soon" \
    --urgency now >/dev/null
check "status (now) is injected" expect_calls 4
check "...and status (later), response, heartbeat, sync were not" \
    grep -q 'Hive status from turq-18789 .*: back soon' <(call 4)
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "run it" \
    --action git-sync >/dev/null
check "an action without a handler is escalated" expect_calls 5
check "escalation says no handler is installed" \
    grep -q "Received action 'git-sync' but no handler installed" <(call 5)

# --- refusals: zero injections ------------------------------------------
before=$(calls)
"${PUB[@]}" -t hive/pg1-18890/command -f "$T/cmd.json"
wait_for "$T/daemon.log" 'refused reason=replay'
ok "replayed command refused"
sed 's/check disk/wipe disk/' "$T/cmd.json" >"$T/tampered.json"
"${PUB[@]}" -t hive/pg1-18890/command -f "$T/tampered.json"
wait_for "$T/daemon.log" 'refused reason=bad-signature'
ok "tampered command refused"
"$CLI" send -h 127.0.0.1 -p "$BROKER_PORT" \
    --force --sign-key "$T/rogue/turq-18789.key" --to pg1-18890 --ch command \
    --text forged >/dev/null
wait_for "$T/daemon.log" 'refused reason=unknown-key'
ok "forged command refused"
"${PUB[@]}" -t hive/pg1-18890/alert -f "$T/cmd.json"
wait_for "$T/daemon.log" 'refused reason=topic-mismatch'
ok "command re-published on the alert topic refused"
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text marker >/dev/null
check "a valid command after the hostile ones is injected" \
    expect_calls $((before + 1))
check "...and it is the only injection since" \
    bash -c '[ "$(wc -l <"$1")" -eq "$2" ] && grep -q marker <<<"$(tail -1 "$1")"' \
    _ "$T/calls/calls.log" $((before + 1))
check "no refused message was injected" \
    [ "$(grep -c 'wipe disk\|forged' "$T/calls/calls.log")" -eq 0 ]

# --- audit log and rate-limited refusal logs -----------------------------
AUDIT="$T/log/audit.log"
check "the audit log is mode 0600" [ "$(stat -c %a "$AUDIT")" = 600 ]
for reason in replay bad-signature unknown-key topic-mismatch unsolicited; do
	check "the audit log records a $reason refusal" \
	    grep -q "\"event\":\"refused\".*\"reason\":\"$reason\"" "$AUDIT"
done
check "the audit log records accepted messages and injections" \
    bash -c 'grep -q "\"event\":\"accepted\"" "$1" &&
    grep -q "\"event\":\"inject\"" "$1" &&
    grep -q "\"event\":\"inject-result\",.*delivered" "$1"' _ "$AUDIT"
check "every audit line is one JSON object" \
    bash -c 'jq -e . "$1" >/dev/null' _ "$AUDIT"
check "the audit log never holds message text" \
    bash -c '! grep -q "wipe disk\|check disk\|forged" "$1"' _ "$AUDIT"
audited() { grep -c '"reason":"replay"' "$AUDIT" || true; }
logged() { grep -c 'refused reason=replay' "$T/daemon.log" || true; }
a0=$(audited) l0=$(logged) t0=$SECONDS
for i in $(seq 1 30); do
	"${PUB[@]}" -t hive/pg1-18890/command -f "$T/cmd.json"
done
audit_has() { [ "$(audited)" -ge $((a0 + 30)) ]; }
check "a flood of 30 replays is audited in full" wait_until audit_has
# a burst of 10 lines, refilled at one line a second
check "...but logged at most 10 + 1/s times (rate limit)" \
    [ $(( $(logged) - l0 )) -le $(( 10 + SECONDS - t0 + 1 )) -a \
    $(( $(logged) - l0 )) -lt 30 ]

# --- sd_notify -------------------------------------------------------------
check "systemd is told READY with the broker status" \
    grep -q "^READY=1 STATUS=connected to 127.0.0.1:$BROKER_PORT" \
    "$T/notify.log"
check "the watchdog is fed while the router ticks" \
    wait_for "$T/notify.log" '^WATCHDOG=1$'

# --- heartbeats and meta state ------------------------------------------
mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t hive/meta/pg1-18890/state \
    -C 1 -W 10 >"$T/state.json"
check "retained state is a valid signed envelope" \
    "$CLI" verify --keys "$T/keys" "$T/state.json" >/dev/null
check "state is from the daemon's node" \
    [ "$(jq -r .from "$T/state.json")" = pg1-18890 ]
check "state text is the node's JSON state" \
    [ "$(jq -r '.text | fromjson | .status' "$T/state.json")" = online ]

# turq's one heartbeat above made it a peer; it sends no more
wait_for "$T/daemon.log" 'peer turq-18789 lost'
check "losing a peer injects one alert" \
    wait_for "$T/calls/calls.log" 'missed 3 heartbeats'
own_beats() { count_lines "$AUDIT" \
    '"ch":"heartbeat","event":"accepted","from":"pg1-18890"'; }
n=$(own_beats)
has_beats() { [ "$(own_beats)" -ge "$1" ]; }
beats_past() { wait_until has_beats "$1"; }	# until N own heartbeats
check "the daemon keeps beating while the peer is lost" beats_past $((n + 3))
check "three more heartbeats later there is still exactly one alert" \
    [ "$(grep -c 'missed 3 heartbeats' "$T/calls/calls.log")" -eq 1 ]
"$CLI" send "${TURQ[@]}" --to all --ch heartbeat --text '{}' \
    --urgency later >/dev/null
check "a returning peer publishes one status" \
    wait_for "$AUDIT" '"ch":"status","event":"accepted","from":"pg1-18890"'

# --- privileges and memory (root only) -----------------------------------
router=$(pgrep -P "$DAEMON_PID" -f -- '-P router' || true)
injector=$(pgrep -P "$DAEMON_PID" -f -- '-P injector' || true)
check "router and injector run" [ -n "$router" -a -n "$injector" ]
for who in router injector; do
	pid=${!who}
	check "$who has NoNewPrivs" grep -q '^NoNewPrivs:[[:space:]]1' \
	    "/proc/$pid/status"
	check "$who has no effective capabilities" \
	    grep -q '^CapEff:[[:space:]]0000000000000000' "/proc/$pid/status"
	check "$who runs under a seccomp filter (Seccomp: 2)" \
	    grep -q '^Seccomp:[[:space:]]2' "/proc/$pid/status"
	check "$who has no ambient capabilities" \
	    grep -q '^CapAmb:[[:space:]]0000000000000000' "/proc/$pid/status"
	if [ "$(id -u)" -eq 0 ]; then
		check "$who runs as a non-root uid" \
		    awk '/^Uid:/ { exit !($2 != 0 && $3 != 0 && $4 != 0) }' \
		    "/proc/$pid/status"
		check "$who has an empty bounding set" \
		    grep -q '^CapBnd:[[:space:]]0000000000000000' \
		    "/proc/$pid/status"
	fi
done
if [ "$(id -u)" -eq 0 ]; then
	# the seed: the payload's first 32 bytes (od -N reads a file,
	# not a pipe whose writer it would leave behind)
	awk '{print $2}' "$T/secret/pg1-18890.key" | base64 -d >"$T/key.bin"
	seed=$(od -An -tx1 -N32 "$T/key.bin" | tr -d ' \n')
	check "memscan finds the secret key in the monitor (control)" \
	    "$MEMSCAN" "$DAEMON_PID" "$seed"
	rc=0; "$MEMSCAN" "$router" "$seed" || rc=$?
	check "the router's memory never holds the secret key" [ "$rc" -eq 1 ]
	rc=0; "$MEMSCAN" "$injector" "$seed" || rc=$?
	check "the injector's memory never holds the secret key" [ "$rc" -eq 1 ]
else
	echo "# not root: uid and memory checks skipped"
fi

# --- SIGHUP reloads the keyring without dropping the connection ----------
chmod 755 "$T/keys"	# public keys: the router's user re-reads them
mkdir -p "$T/newkeys"
"$CLI" keygen --node mini1-18889 --dir "$T/newkeys" >/dev/null
MINI=(-h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys"
    --sign-key "$T/newkeys/mini1-18889.key")
unknown() { grep -c 'refused reason=unknown-key' "$T/daemon.log" || true; }
u0=$(unknown)
"$CLI" send "${MINI[@]}" --to pg1-18890 --ch alert --text "new node 1" \
    >/dev/null
has_unknown() { [ "$(unknown)" -gt "$u0" ]; }
check "a key not yet in the keyring is refused" wait_until has_unknown
cp "$T/newkeys/mini1-18889.pub" "$T/keys/"
kill -HUP "$DAEMON_PID"
check "SIGHUP reloads the keyring" \
    wait_for "$T/daemon.log" 'SIGHUP: keyring and policy reloaded'
before=$(calls)
"$CLI" send "${MINI[@]}" --to pg1-18890 --ch alert --text "new node 2" \
    >/dev/null
check "...after which the new node's messages are accepted" \
    expect_calls $((before + 1))
kid=$(awk '!/^#/ {print $2}' "$T/keys/mini1-18889.pub" | base64 -d |
    b2sum -l 256 | cut -c1-16)
echo "$kid" >"$T/keys/revoked"
kill -HUP "$DAEMON_PID"
reloads() { [ "$(grep -c 'SIGHUP: keyring and policy reloaded' "$T/daemon.log")" -ge 2 ]; }
check "a second SIGHUP reloads again" wait_until reloads
"$CLI" send "${MINI[@]}" --to pg1-18890 --ch alert --text "new node 3" \
    >/dev/null
check "...and a key revoked meanwhile is refused" \
    wait_for "$T/daemon.log" 'refused reason=revoked'
check "the reloads kept the router and its broker connection" \
    bash -c '[ "$(pgrep -P "$1" -f -- "-P router")" = "$2" ] &&
    ! grep -q "reconnecting to the broker" "$3"' _ "$DAEMON_PID" "$router" \
    "$T/daemon.log"
check "systemd heard RELOADING and READY again" \
    grep -q '^RELOADING=1$' "$T/notify.log"

# --- policy: denied senders and rate limits ------------------------------
cat >"$T/policy/hive.policy" <<POLICY
deny from turq-18789 ch status
allow from * ch command
allow from * ch sync
allow from * ch alert
rate unknown 1/m burst 1
POLICY
kill -HUP "$DAEMON_PID"
reloaded3() { [ "$(grep -c 'SIGHUP: keyring and policy reloaded' \
    "$T/daemon.log")" -ge 3 ]; }
check "SIGHUP reloads the policy" wait_until reloaded3
before=$(calls)
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch status --urgency now \
    --text "policy says no" >/dev/null
check "a message the policy denies is refused with the rule that decided" \
    wait_for "$T/daemon.log" \
    'refused reason=policy-denied detail="hive.policy:1: deny from turq-18789 ch status"'
check "...and the audit log names the reason" \
    grep -q '"reason":"policy-denied"' "$T/log/audit.log"
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch alert --text "still allowed" \
    >/dev/null
check "...while what it allows still arrives" expect_calls $((before + 1))
check "...and the denied status never reached the agent" \
    [ "$(grep -c 'policy says no' "$T/calls/calls.log")" -eq 0 ]
mkdir -m 700 "$T/stranger"
"$CLI" keygen --node rogue-1 --dir "$T/stranger" >/dev/null
ROGUE=(-h 127.0.0.1 -p "$BROKER_PORT" --force
    --sign-key "$T/stranger/rogue-1.key")
for i in 1 2 3; do
	"$CLI" send "${ROGUE[@]}" --to pg1-18890 --ch alert --text "r$i" \
	    >/dev/null
done
check "unknown senders share one bucket: past it, rate-limited" \
    wait_for "$T/daemon.log" \
    'refused reason=rate-limited detail="unknown senders"'
check "...and none of them reached the agent" \
    [ "$(grep -c '"r[123] ' "$T/calls/calls.log")" -eq 0 ]

# --- a killed router takes the unit down; the window survives ------------
kill -KILL "$router"
rc=0; wait "$DAEMON_PID" || rc=$?
check "monitor exits non-zero when the router dies" [ "$rc" -ne 0 ]
check "the monitor said why" grep -q 'router .* killed by signal 9' \
    "$T/daemon.log"
check "no child outlives the monitor" \
    bash -c '! pgrep -f -- "-c $1" >/dev/null' _ "$T/hive.conf"

start_daemon daemon2.log
before=$(calls)
"${PUB[@]}" -t hive/pg1-18890/command -f "$T/cmd.json"
wait_for "$T/daemon2.log" 'refused reason=replay'
ok "after a restart the old command is still a replay"
kill -TERM "$DAEMON_PID"
rc=0; wait "$DAEMON_PID" || rc=$?
check "SIGTERM stops the daemon with status 0" [ "$rc" -eq 0 ]
check "...after telling systemd STOPPING" grep -q '^STOPPING=1$' \
    "$T/notify.log"
check "the replay was not injected" [ "$(calls)" -eq "$before" ]

# --- a torn window stops the start; --reset-window, with its floor -------
size=$(stat -c %s "$T/state/window")
truncate -s $((size - 5)) "$T/state/window"
rc=0
"$DAEMON" -f -c "$T/hive.conf" 2>"$T/daemon3.log" || rc=$?
check "a torn window file stops the daemon (exit non-zero)" [ "$rc" -ne 0 ]
check "...saying so" grep -q 'replay window torn' "$T/daemon3.log"
rc=0
"$DAEMON" --reset-window -c "$T/hive.conf" >"$T/reset.out" 2>&1 || rc=$?
check "hive-daemon --reset-window exits 0" [ "$rc" -eq 0 ]
check "...and names the floor" \
    grep -Eq '/window: reset; envelopes with ts <= [0-9]+ are refused' \
    "$T/reset.out"
start_daemon daemon4.log
rc=0
"$DAEMON" --reset-window -c "$T/hive.conf" >/dev/null 2>"$T/reset2.err" || rc=$?
check "--reset-window refuses while the daemon holds the window (exit 1)" \
    [ "$rc" -eq 1 ]
before=$(calls)
"${PUB[@]}" -t hive/pg1-18890/command -f "$T/cmd.json"
check "the command the lost window had admitted is refused as window-reset" \
    wait_for "$T/daemon4.log" 'refused reason=window-reset'
kill -TERM "$DAEMON_PID"
rc=0; wait "$DAEMON_PID" || rc=$?
check "...not injected" [ "$(calls)" -eq "$before" ]
check "...and the daemon stops with status 0" [ "$rc" -eq 0 ]

finish
