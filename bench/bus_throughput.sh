# bus_throughput.sh - bench/bus.sh throughput (sourced).
#
# Each round: the router is stopped (SIGSTOP) while N signed heartbeats
# from P simulated peers (each its own key in the keyring) are published
# at QoS 1, once to the daemon's {p}/all/heartbeat and once to a raw
# topic that a stopped mosquitto_sub is subscribed to; the broker holds
# both backlogs.  Then, in turn: the raw verify rate of one core
# (hive-bench-verify, 1 s), the raw subscriber's drain (the broker's
# delivery ceiling), the router's drain, timed from its SIGCONT to the
# Nth "accepted" line of the audit log (hive-bench-drain): parse,
# schema, key, signature, time, replay window (and its state file),
# policy and rate, peer table, audit line through the monitor.  The
# publisher is not in the measured interval.  Also the router's own CPU
# time (all its threads, user and system, from /proc) per message over
# the drain: its cost alone, steadier than a rate on a shared machine.

# cpu_ticks PID: user + system clock ticks of the process so far
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# With $BENCH_PERF set, `perf record -a -g` of the whole machine over
# each router drain, to $BENCH_PERF.ROUND (where the time goes: router,
# broker and monitor share the cores).  perf_start waits for perf's
# first sample file write, so the drain is inside the record.
PERF_PID=
perf_start() {
	[ -n "${BENCH_PERF:-}" ] || return 0
	perf record -a -g -o "$BENCH_PERF.$1" 2>"$T/perf.err" &
	PERF_PID=$!
	wait_until test -s "$BENCH_PERF.$1"
}
perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID"
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=
}

# flood_file ROUND P N OUT: N signed heartbeats, P peers interleaved
flood_file() {
	local round=$1 p=$2 n=$3 out=$4 k now d=$T/flood.d
	now=$(date +%s)
	rm -rf "$d"; mkdir "$d"
	for k in $(seq 1 "$p"); do
		# the text: a state document of the size a daemon sends
		awk -v r="$round" -v p="$p" -v k="$k" -v m=$(( n / p )) \
		    -v ts="$now" 'BEGIN { for (j = 0; j < m; j++)
		printf "{\"v\":2,\"id\":\"b%s-%s-%s-%s\",\"ts\":%s,\"from\":\"bpeer-%s\",\"to\":\"all\",\"ch\":\"heartbeat\",\"urgency\":\"later\",\"ttl\":3600,\"text\":\"{\\\"accepted\\\":%d,\\\"injected\\\":0,\\\"instances\\\":[\\\"bpeer-%s\\\"],\\\"jobs_active\\\":0,\\\"last_heartbeat\\\":%s,\\\"load\\\":0.25,\\\"node\\\":\\\"bpeer-%s\\\",\\\"pending\\\":0,\\\"refused\\\":0,\\\"since\\\":%s,\\\"status\\\":\\\"online\\\",\\\"uptime\\\":%d}\"}\n",
		    r, p, k, j, ts, k, j, k, ts, k, ts, j }' |
		    "$SIGN" "$T/priv/bpeer-$k.key" >"$d/$k"
	done
	(cd "$d" && paste -d '\n' $(seq 1 "$p")) | grep -v '^$' >"$out"
}

# one_round ROUND P N: "verify raw hive cpu" (messages/s, and the
# router's CPU microseconds per message) in $T/round.out
one_round() {
	local round=$1 p=$2 n=$3 f=$T/flood.txt sub v raw hive c0 c1
	flood_file "$round" "$p" "$n" "$f"
	[ "$(wc -l <"$f")" -eq "$n" ] || { echo "flood file short" >&2; exit 1; }
	: >"$T/raw.out"
	# line-buffered, as the audit log is written line by line
	stdbuf -oL "${SUB[@]}" -q 1 -t bench/raw >"$T/raw.out" &
	sub=$!
	PIDS+=("$sub")
	wait_until bash -c '"$@" -q 1 -t bench/raw -m probe; grep -q probe "$0"' \
	    "$T/raw.out" "${PUB[@]}"
	kill -STOP "$sub" "$ROUTER"
	STOPPED=$ROUTER
	"${PUB[@]}" -q 1 -t bench/raw -l <"$f"
	"${PUB[@]}" -q 1 -t hive/all/heartbeat -l <"$f"
	v=$("$B/hive-bench-verify" -t 1000 "$f" | awk '{ print $2 }')
	raw=$("$B/hive-bench-drain" -p "$sub" -f "$T/raw.out" -n "$n" -m '"ch":"heartbeat"' |
	    awk '{ print $4 }')
	perf_start "$round"
	c0=$(cpu_ticks "$ROUTER")
	hive=$("$B/hive-bench-drain" -p "$ROUTER" -f "$AUDIT" -n "$n" \
	    -m '"event":"accepted","from":"bpeer-' | awk '{ print $4 }')
	c1=$(cpu_ticks "$ROUTER")
	perf_stop
	STOPPED=
	kill "$sub"
	wait "$sub" 2>/dev/null || true
	echo "$v $raw $hive $(awk -v d=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
	    -v n="$n" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')" >"$T/round.out"
}

bench_throughput() {
	local p r np line v raw hive cpu rf0 k
	echo "# throughput: $FLOOD_N heartbeats a round, $ROUNDS round(s) per peer count ($PEERS)"
	np=$(tr ',' '\n' <<<"$PEERS" | sort -n | tail -1)
	for k in $(seq 1 "$np"); do
		[ -f "$T/keys/bpeer-$k.pub" ] || gen_node "bpeer-$k"
	done
	bench_box tput
	start_box tput
	MONITOR=${PIDS[-1]}
	ROUTER=$(role_pid "$MONITOR" router)
	AUDIT=$T/tput/log/audit.log
	wait_for "$AUDIT" '"event":"accepted"'	# our own heartbeat
	rf0=$(count_lines "$AUDIT" '"event":"refused"')
	: >"$T/throughput.dat"
	for p in ${PEERS//,/ }; do
		for r in $(seq 1 "$ROUNDS"); do
			one_round "$p.$r" "$p" $(( FLOOD_N / p * p ))
			line=$(cat "$T/round.out")
			echo "$p $line" >>"$T/throughput.dat"
			read -r v raw hive cpu <<<"$line"
			printf '  peers %3d round %d: verify %6.0f/s  raw sub %6.0f/s  router %6.0f/s  router/verify %.3f  router cpu %.1f us/msg\n' \
			    "$p" "$r" "$v" "$raw" "$hive" "$(awk -v a="$hive" -v b="$v" 'BEGIN { print a / b }')" "$cpu"
		done
	done
	check "throughput: nothing refused during the floods" \
	    [ "$(count_lines "$AUDIT" '"event":"refused"')" -eq "$rf0" ]
	check "throughput: no message lost in the receive queue" \
	    bash -c '! grep -q "receive queue full" "$1"' _ "$T/tput/daemon.log"
	"$B/hive-bench-verify" -t 1000 -j "$(nproc)" "$T/flood.txt" |
	    awk '/_j/ { printf "  verify on %d processes at once: %.0f/s\n", $2, $3 }'
	for p in ${PEERS//,/ }; do
		v=$(awk -v p="$p" '$1 == p { print $2 }' "$T/throughput.dat" | median)
		raw=$(awk -v p="$p" '$1 == p { print $3 }' "$T/throughput.dat" | median)
		hive=$(awk -v p="$p" '$1 == p { print $4 }' "$T/throughput.dat" | median)
		cpu=$(awk -v p="$p" '$1 == p { print $5 }' "$T/throughput.dat" | median)
		awk -v p="$p" -v v="$v" -v raw="$raw" -v h="$hive" -v c="$cpu" 'BEGIN {
		    printf "  peers %d, medians: router %.0f/s, verify %.0f/s, raw subscriber %.0f/s; router/raw %.3f; router cpu %.1f us/msg\n", p, h, v, raw, h / raw, c
		    printf "  ratio %.3f (router / verify), goal >= 0.85: %s\n", h / v, (h / v >= 0.85) ? "MET" : "MISSED" }'
	done
	[ -z "$OUT" ] || cp "$T/throughput.dat" "$OUT/"
	kill -TERM "$MONITOR"
	wait "$MONITOR" || true
}
