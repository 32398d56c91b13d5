#!/usr/bin/env bash
# demo.sh - hive on a private loopback broker, narrated.  Run through
# `make demo`.  Everything it starts lives in a temporary directory and
# is stopped on exit, Ctrl-C included.  Exits non-zero if any step does
# not behave as shown.
#
# Until hive-daemon lands, node pg1-18890 is played by the test
# responder (tests/tools/responder.c): the same verification gate
# (src/inbound.c) and replay window the daemon uses.
set -euo pipefail
: "${HIVE_BIN:?run through make demo}"
HIVE_SRC=$(cd "$(dirname "$0")/.." && pwd)
CLI="$HIVE_BIN/hive-cli"
RESPONDER="$HIVE_BIN/tests/hive-test-responder"
T=$(mktemp -d "${TMPDIR:-/tmp}/hive-demo.XXXXXX")
PIDS=()
STEP=0

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM
. "$HIVE_SRC/scripts/broker.sh"

say()  { STEP=$((STEP + 1)); printf '\n\033[1m%d. %s\033[0m\n' "$STEP" "$*"; }
show() { printf '   %s\n' "$@"; }
die()  { printf '\n   DEMO FAILED: %s (logs: %s)\n' "$*" "$T"; trap - EXIT; exit 1; }
wait_line() {
	local end=$((SECONDS + 10))
	while [ $SECONDS -lt $end ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

say "Start a private mosquitto broker on a free loopback port"
start_broker || die "mosquitto did not start"
show "broker on 127.0.0.1:$BROKER_PORT (log: $T/mosquitto.log)"

say "Generate an Ed25519 key for each node; share only the .pub files"
mkdir -m 700 "$T/priv" "$T/keys" "$T/rogue"
for n in turq-18789 pg1-18890; do
	kid=$("$CLI" keygen --node "$n" --dir "$T/priv")
	cp "$T/priv/$n.pub" "$T/keys/"
	show "$n  kid $kid"
done
"$CLI" keys list --keys "$T/keys" | cut -c1-42,116- | sed 's/^/   /'

say "pg1-18890 listens: every message passes parse, signature, freshness, replay window"
"$RESPONDER" -h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys" \
    --sign-key "$T/priv/pg1-18890.key" --state "$T/pg1.window" --count 2 \
    >"$T/pg1.out" 2>"$T/pg1.err" &
PIDS+=("$!")
wait_line "$T/pg1.out" '^ready$' || die "responder did not subscribe"
show "subscribed to hive/pg1-18890/+ (its output: $T/pg1.out)"

B=(-h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys")
say "turq-18789 sends a signed command and waits for the signed answer"
show '$ hive-cli send --to pg1-18890 --ch command --text "check disk usage" --wait 10'
"$CLI" send "${B[@]}" --sign-key "$T/priv/turq-18789.key" --to pg1-18890 \
    --ch command --text "check disk usage" --wait 10 >"$T/reply.json" \
    2>"$T/send.err" || die "no verified reply"
show "reply: $(jq -c '{from, ch, corr, text}' "$T/reply.json")"
sed -n 's/^sent: //p' "$T/send.err" >"$T/cmd.json"

say "Someone replays that exact command on the bus"
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 \
    -t hive/pg1-18890/command -f "$T/cmd.json"
wait_line "$T/pg1.out" 'refused reason=replay' || die "replay not refused"
show "pg1-18890: $(grep 'reason=replay' "$T/pg1.out")"

say "A rogue key claims to be turq-18789"
"$CLI" keygen --node turq-18789 --dir "$T/rogue" >/dev/null
"$CLI" send -h 127.0.0.1 -p "$BROKER_PORT" \
    --sign-key "$T/rogue/turq-18789.key" --to pg1-18890 --ch command \
    --text "rm -rf /" >/dev/null
wait_line "$T/pg1.out" 'refused reason=unknown-key' || die "forgery accepted"
show "pg1-18890: $(grep 'reason=unknown-key' "$T/pg1.out")"

say "A broker in the middle edits the text of a signed command"
sed 's/check disk usage/format the disk/' "$T/cmd.json" >"$T/tampered.json"
show "\$ hive-cli verify --keys keys/ tampered.json"
if "$CLI" verify --keys "$T/keys" "$T/tampered.json" >"$T/verify.out"; then
	die "tampered envelope verified"
fi
show "$(cat "$T/verify.out")"

say "A fresh, honest command still gets through"
"$CLI" send "${B[@]}" --sign-key "$T/priv/turq-18789.key" --to pg1-18890 \
    --ch command --text "still there?" --wait 10 >"$T/reply2.json" \
    2>/dev/null || die "honest command refused"
show "reply: $(jq -c '{from, text}' "$T/reply2.json")"
[ "$(grep -c '^accepted' "$T/pg1.out")" -eq 2 ] ||
    die "pg1 accepted something it should not have"

printf '\n\033[1mDemo complete:\033[0m 2 accepted, %s refused, nothing forged got through.\n' \
    "$(grep -c '^refused' "$T/pg1.out")"
