#!/usr/bin/env bash
# bus.sh - the bus benchmarks: whole processes over a real mosquitto
# started here (scripts/broker.sh), each figure printed as a ratio to
# its limit or to a peer measured in the same run (bench/README.md).
#
#   bench/bus.sh [options] [throughput|rtt|send|memory|all]...
#
#   throughput  signed heartbeats verified and routed per second by a
#               running hive-daemon, over the raw Ed25519 verify rate of
#               one core (hive-bench-verify); goal >= 0.85
#   rtt         hive-cli send --wait to a sandboxed echo handler of a
#               daemon, beside a raw mosquitto echo; goal p50 <= 10 ms
#   send        hive-cli send against mosquitto_pub, same payload and
#               broker, interleaved; goal <= 1.3x
#   memory      VmRSS/VmHWM of monitor, router and injector: idle, after
#               a flood, with a full 1,000,000-entry window; goal <= 64 MB
#
# Options (defaults: a quick run, about a minute per part):
#   -n N        heartbeats per throughput round (20000)
#   -r R        throughput rounds per peer count (3)
#   -P LIST     peer counts, comma-separated (1,16,256)
#   -t TRIPS    round trips of each kind (1000; rtt)
#   -s RUNS     processes of each kind (200; send)
#   -d SECONDS  memory: the flood's length (10; 600 for the 10-minute
#               figure of docs/benchmarks.md)
#   -f RATE     memory: the flood's rate, messages/s (5000)
#   -o DIR      write the data files (and, with gnuplot, the plots)
#               to DIR (bench/plot.sh)
#
# Needs the build (HIVE_BIN, default build/) and mosquitto; rtt needs
# root (handlers run as nobody) and skips otherwise.  Never run by ctest.
set -euo pipefail
HIVE_SRC=${HIVE_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
HIVE_BIN=${HIVE_BIN:-$HIVE_SRC/build}
export HIVE_SRC HIVE_BIN
. "$HIVE_SRC/tests/integration/lib.sh"
B=$HIVE_BIN/bench
SIGN=$HIVE_BIN/tests/hive-test-sign

FLOOD_N=20000 ROUNDS=3 PEERS=1,16,256 TRIPS=1000 SENDS=200
FLOOD_S=10 FLOOD_RATE=5000 OUT=
while getopts n:r:P:t:s:d:f:o: c; do
	case $c in
	n) FLOOD_N=$OPTARG ;; r) ROUNDS=$OPTARG ;; P) PEERS=$OPTARG ;;
	t) TRIPS=$OPTARG ;; s) SENDS=$OPTARG ;; d) FLOOD_S=$OPTARG ;;
	f) FLOOD_RATE=$OPTARG ;; o) OUT=$OPTARG ;;
	*) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;$d' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
PARTS=${*:-all}
[ "$PARTS" = all ] && PARTS="throughput rtt send memory"
[ -z "$OUT" ] || mkdir -p "$OUT"

# A stopped router would not hear the cleanup's SIGTERM.
STOPPED=
trap 'rc_=$?; [ "$rc_" -eq 0 ] || KEEP_TMP=1
    [ -z "$STOPPED" ] || kill -CONT "$STOPPED" 2>/dev/null || true
    cleanup' EXIT

# The broker queues a stopped subscriber's backlog whole (QoS 1, no
# limit), so that a drain measures the subscriber, not the publisher.
BROKER_EXTRA="allow_anonymous true
max_queued_messages 0
set_tcp_nodelay true"
start_broker
chmod 755 "$T"
PUB=(mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT")
SUB=(mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT")

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan";
    else if (NR % 2) print v[(NR + 1) / 2];
    else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# role_pid MONITOR ROLE: the child of the daemon running as ROLE
role_pid() {
	local p
	for p in $(pgrep -P "$1"); do
		grep -q -- "-P $2" <<<"$(tr '\0' ' ' <"/proc/$p/cmdline")" &&
		    { echo "$p"; return 0; }
	done
	return 1
}

# A daemon serving bench-1 that accepts any flood: every sender's rate
# at the policy's maximum, one sender's window share the whole window
# (a flood from one peer fills it as before the share), the audit log
# never rotated.
bench_box() {	# bench_box NAME [EXTRA-CONFIG] [EXTRA-POLICY]
	setup_box "$1" bench-1 "audit_max_size 1099511627776
window_share 1000000
${2:-}" "rate from * 100000/s burst 1000000
${3:-}"
}

. "$HIVE_SRC/bench/bus_throughput.sh"
. "$HIVE_SRC/bench/bus_rtt.sh"
. "$HIVE_SRC/bench/bus_memory.sh"

gen_node bench-1
for part in $PARTS; do
	case $part in
	throughput) bench_throughput ;;
	rtt) bench_rtt ;;
	send) bench_send ;;
	memory) bench_memory ;;
	*) echo "unknown part $part" >&2; exit 2 ;;
	esac
done
# the sanity checks (nothing refused, nothing lost, every trip answered)
# fail the run; a missed goal does not
[ "$FAILS" -eq 0 ]
