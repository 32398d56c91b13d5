#!/usr/bin/env bash
# test_mqtt_queue.sh - nothing the MQTT layer has acknowledged is lost
# when libmosquitto reads many packets in one call: 1,500 messages (more
# than the receive queue's usual 1,024) wait in the subscriber's socket
# while 1,500 QoS 1 publications of its own are in flight, which makes
# libmosquitto 2.0 read them all at once (tests/tools/mqttqueue.c).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# all_taken N: the tool took all N messages in order and dropped none
all_taken() {
	local out rc=0
	out=$("$HIVE_BIN/tests/hive-test-mqttqueue" "$BROKER_PORT" "$1") ||
	    rc=$?
	echo "# $out"
	[ "$rc" -eq 0 ] && [[ $out == "received $1 dropped 0 largest-read "+([0-9]) ]]
}

shopt -s extglob
start_broker
check "all 1,500 messages taken, in order, none dropped" all_taken 1500
# the control: below the queue's usual size the same read was always fine
check "200 messages the same way" all_taken 200
finish
