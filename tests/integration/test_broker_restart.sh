#!/usr/bin/env bash
# test_broker_restart.sh - the broker is restarted (SIGTERM, with
# persistence) in the middle of a stream of QoS 1 commands to a running
# daemon.  Every command the broker acknowledged (hive-cli exit 0) must
# reach the agent exactly once; the daemon reconnects on its own.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BROKER_PERSIST="persistence true
persistence_location $T/
autosave_interval 1
autosave_on_changes true" start_broker
gen_node turq-18789
gen_node pg1-18890
chmod 755 "$T"
setup_box pg1 pg1-18890 ""
start_box pg1

TURQ=(-h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys"
    --sign-key "$T/priv/turq-18789.key")
: >"$T/acked"
send_stream 1 20 &
sender=$!
wait_until grep -q job-5 "$T/acked"
restart_broker TERM
ok "broker restarted (SIGTERM) while commands were flowing"
wait "$sender" || true
send_stream 21 30
wait_for "$T/pg1/daemon.log" 'reconnecting to the broker'
ok "the daemon noticed and reconnected by itself"

n_acked=$(wc -l <"$T/acked")
check "most commands were acknowledged" [ "$n_acked" -ge 20 ]
all_there() {
	local j
	while read -r j; do
		grep -q ": $j Response" "$T/pg1/calls/calls.log" || return 1
	done <"$T/acked"
}
check "every acknowledged command reached the agent" wait_until all_there
dups=$(jq -r '.[3]' "$T/pg1/calls/calls.log" | grep -o 'job-[0-9]*' | sort |
    uniq -d | wc -l)
check "...exactly once" [ "$dups" -eq 0 ]
finish
