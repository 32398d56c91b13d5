# bus_rtt.sh - bench/bus.sh rtt and send (sourced).
#
# rtt: TRIPS round trips of each kind, interleaved, each a whole
# process timed from its fork to its exit (bash's EPOCHREALTIME, no
# process of its own):
#   hive  hive-cli send --sign-key K --ch command --action echo --wait 10
#         to bench-1, a daemon running handlers.d/echo sandboxed under
#         its shipped policy block (seccomp strict, as nobody); the
#         answer is a signed response that hive-cli verifies
#   raw   mosquitto_rr -q 1 (publish, wait for one reply) against an
#         echo made of mosquitto_sub piped into mosquitto_pub -l
#   nop   as hive, to a handler "nop" under the same block: /bin/sh
#         echoing {"ok":true}, beside the C echo
#   alone the echo handler (C, handlers.d/echo.c) run directly (no
#         sandbox, no bus)
# All pay a process start; hive, nop and raw a connection and a
# subscription; hive and nop also signing, the daemon's checks, a
# sandboxed handler run and the response's signature (by the monitor)
# and verification.
#
# send: hive-cli send (build, sign, publish at QoS 1, PUBACK) against
# mosquitto_pub -q 1 of the same signed envelope to the same topic,
# SENDS processes each, interleaved; ratio of the median times.

# percentile P FILE (values one per line)
percentile() { sort -g "$2" | awk -v p="$1" '{ v[NR] = $1 }
    END { i = int(p / 100 * NR + 0.999999); if (i < 1) i = 1; print v[i] }'; }
# timed OUTFILE CMD...: append CMD's wall time in ms to OUTFILE
timed() {
	local out=$1 t0 t1; shift
	t0=$EPOCHREALTIME
	"$@" >/dev/null 2>"$T/timed.err" ||
	    { echo "failed: $*" >&2; cat "$T/timed.err" >&2; return 1; }
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$out"
}

bench_rtt() {
	local i
	if [ "$(id -u)" -ne 0 ]; then
		echo "# rtt: handlers run as another user: needs root; skipped"
		return 0
	fi
	echo "# rtt: $TRIPS round trips each, interleaved"
	[ -f "$T/keys/bench-cli.pub" ] || gen_node bench-cli
	setup_handler_box rt bench-1 "audit_max_size 1099511627776"
	block() { awk '/^handler echo \{/ { on = 1 } on { print } /^\}/ { on = 0 }' \
	    "$HIVE_SRC/policy/hive.policy"; }
	{
		echo "allow from bench-cli ch command"
		echo "rate from bench-cli 100000/s burst 1000000"
		block
		block | sed 's/^handler echo/handler nop/'
	} >"$T/rt/policy/hive.policy"
	install -m 755 "$HIVE_BIN/handlers.d/echo" "$T/rt/handlers/"
	printf '#!/bin/sh\necho %s\n' "'{\"ok\":true}'" >"$T/rt/handlers/nop"
	chmod 755 "$T/rt/handlers/nop"
	start_box rt
	wait_for "$T/rt/daemon.log" 'start: 2 handler\(s\)'
	MONITOR=${PIDS[-1]}
	# the raw echo: every request line comes back on the reply topic
	mkfifo "$T/echo.fifo"
	stdbuf -oL "${SUB[@]}" -q 1 -t bench/echo/req >"$T/echo.fifo" &
	PIDS+=("$!")
	"${PUB[@]}" -q 1 -t bench/echo/rep -l <"$T/echo.fifo" &
	PIDS+=("$!")
	wait_until timeout 2 mosquitto_rr -h 127.0.0.1 -p "$BROKER_PORT" -q 1 \
	    -t bench/echo/req -e bench/echo/rep -m warm -W 1 >/dev/null 2>&1
	HIVE_RTT=("$CLI" send -h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys"
	    --sign-key "$T/priv/bench-cli.key" --to bench-1 --ch command
	    --action echo --text "round trip" --wait 10)
	NOP_RTT=("${HIVE_RTT[@]/echo/nop}")
	RAW_RTT=(mosquitto_rr -h 127.0.0.1 -p "$BROKER_PORT" -q 1
	    -t bench/echo/req -e bench/echo/rep -m "round trip" -W 10)
	: >"$T/rtt-hive.dat"; : >"$T/rtt-raw.dat"; : >"$T/rtt-nop.dat"
	: >"$T/rtt-alone.dat"
	printf '{"text":"round trip"}' >"$T/req.json"
	for i in 1 2 3 4 5; do		# warm up: caches, the handler's files
		"${HIVE_RTT[@]}" >/dev/null 2>&1; "${RAW_RTT[@]}" >/dev/null
	done
	for i in $(seq 1 "$TRIPS"); do
		timed "$T/rtt-hive.dat" "${HIVE_RTT[@]}"
		timed "$T/rtt-raw.dat" "${RAW_RTT[@]}"
		timed "$T/rtt-nop.dat" "${NOP_RTT[@]}"
		timed "$T/rtt-alone.dat" "$T/rt/handlers/echo" <"$T/req.json"
	done
	check "rtt: every round trip answered ($TRIPS each)" \
	    [ "$(wc -l <"$T/rtt-hive.dat")" -eq "$TRIPS" -a \
	    "$(wc -l <"$T/rtt-raw.dat")" -eq "$TRIPS" -a \
	    "$(wc -l <"$T/rtt-nop.dat")" -eq "$TRIPS" ]
	awk -v h50="$(percentile 50 "$T/rtt-hive.dat")" \
	    -v h99="$(percentile 99 "$T/rtt-hive.dat")" \
	    -v r50="$(percentile 50 "$T/rtt-raw.dat")" \
	    -v r99="$(percentile 99 "$T/rtt-raw.dat")" \
	    -v n50="$(percentile 50 "$T/rtt-nop.dat")" \
	    -v n99="$(percentile 99 "$T/rtt-nop.dat")" \
	    -v j50="$(percentile 50 "$T/rtt-alone.dat")" 'BEGIN {
	    printf "  hive-cli send --wait, echo handler: p50 %.2f ms, p99 %.2f ms\n", h50, h99
	    printf "  hive-cli send --wait, nop handler:  p50 %.2f ms, p99 %.2f ms\n", n50, n99
	    printf "  mosquitto_rr, raw echo:             p50 %.2f ms, p99 %.2f ms\n", r50, r99
	    printf "  the echo handler alone (no bus):   p50 %.2f ms\n", j50
	    printf "  hive / raw: p50 %.2f, p99 %.2f; nop / raw: p50 %.2f\n", h50 / r50, h99 / r99, n50 / r50
	    printf "  p50 %.2f ms (whole processes), goal <= 10 ms: %s\n", h50, (h50 <= 10) ? "MET" : "MISSED" }'
	[ -z "$OUT" ] || cp "$T"/rtt-*.dat "$OUT/"
	kill -TERM "$MONITOR"
	wait "$MONITOR" || true
}

bench_send() {
	local i env
	echo "# send: $SENDS processes each, interleaved"
	[ -f "$T/keys/bench-cli.pub" ] || gen_node bench-cli
	# to a node nobody serves: only the broker sees them
	HIVE_SEND=("$CLI" send -h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys"
	    --sign-key "$T/priv/bench-cli.key" --force --to bench-2 --ch status
	    --text "process cost")
	# the same envelope, signed once, for mosquitto_pub
	printf '{"v":2,"id":"%s","ts":%s,"from":"bench-cli","to":"bench-2","ch":"status","urgency":"later","ttl":3600,"text":"process cost"}\n' \
	    "$(cat /proc/sys/kernel/random/uuid)" "$(date +%s)" |
	    "$SIGN" "$T/priv/bench-cli.key" | tr -d '\n' >"$T/send.env"
	RAW_SEND=(mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1
	    -t hive/bench-2/status -f "$T/send.env")
	: >"$T/send-hive.dat"; : >"$T/send-raw.dat"
	for i in 1 2 3 4 5; do "${HIVE_SEND[@]}" >/dev/null; "${RAW_SEND[@]}"; done
	for i in $(seq 1 "$SENDS"); do
		timed "$T/send-hive.dat" "${HIVE_SEND[@]}"
		timed "$T/send-raw.dat" "${RAW_SEND[@]}"
	done
	awk -v h="$(median <"$T/send-hive.dat")" -v r="$(median <"$T/send-raw.dat")" \
	    -v n="$(wc -c <"$T/send.env")" 'BEGIN {
	    printf "  hive-cli send: %.2f ms, mosquitto_pub (same %d-byte envelope): %.2f ms (medians)\n", h, n, r
	    printf "  ratio %.3f, goal <= 1.30: %s\n", h / r, (h / r <= 1.3) ? "MET" : "MISSED" }'
	[ -z "$OUT" ] || cp "$T/send-hive.dat" "$T/send-raw.dat" "$OUT/"
}
