# bus_memory.sh - bench/bus.sh memory (sourced).
#
# VmRSS and VmHWM (/proc/PID/status) of the monitor, the router and the
# injector of one daemon (window_capacity 1000000, the default):
#   idle    started, connected, its first heartbeat audited
#   flood   after FLOOD_S seconds of signed heartbeats at FLOOD_RATE/s
#           (signed as they go, ttl 5: the window holds about
#           (ttl + max_skew) * rate entries), VmRSS sampled every second
#   full    restarted on a window state file filled to its 1,000,000
#           entries by hive-bench-window (which prints its own figure:
#           the window module alone in a small process)
# The goal: every process at most 64 MB; the figure is the largest
# VmHWM over the ratio to 64 MB.

# mem_line LABEL: one line per role; the largest VmHWM (kB) kept in MEM_MAX
mem_line() {
	local role pid rss hwm
	for role in monitor router injector; do
		if [ "$role" = monitor ]; then pid=$MONITOR
		else pid=$(role_pid "$MONITOR" "$role"); fi
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
		hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
		printf '  %-6s %-9s VmRSS %6.1f MB  VmHWM %6.1f MB\n' "$1" "$role" \
		    "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
		    "$(awk -v k="$hwm" 'BEGIN { print k / 1024 }')"
		echo "$1 $role $rss $hwm" >>"$T/memory.dat"
		[ "$hwm" -le "$MEM_MAX" ] || MEM_MAX=$hwm
	done
}

# flood_gen RATE SECONDS: heartbeat templates from bpeer-1, paced
flood_gen() {
	python3 -c '
import sys, time
rate, secs = int(sys.argv[1]), float(sys.argv[2])
t0 = time.time(); i = 0
while time.time() - t0 < secs:
    now = int(time.time())
    for _ in range(max(rate // 20, 1)):
        sys.stdout.write("{\"v\":2,\"id\":\"m-%d-%d\",\"ts\":%d,\"from\":\"bpeer-1\",\"to\":\"all\",\"ch\":\"heartbeat\",\"urgency\":\"later\",\"ttl\":5,\"text\":\"memory flood %d\"}\n" % (t0 * 1000, i, now, i))
        i += 1
    sys.stdout.flush()
    time.sleep(max(0.0, t0 + i / rate - time.time()))
' "$1" "$2"
}

bench_memory() {
	local t0 acc owner
	echo "# memory: idle, a ${FLOOD_S}-second flood at ${FLOOD_RATE}/s, a full 1,000,000-entry window"
	[ -f "$T/keys/bpeer-1.pub" ] || gen_node bpeer-1
	bench_box mem
	start_box mem
	MONITOR=${PIDS[-1]}
	AUDIT=$T/mem/log/audit.log
	wait_for "$AUDIT" '"event":"accepted"'
	: >"$T/memory.dat"
	MEM_MAX=0
	mem_line idle
	flood_gen "$FLOOD_RATE" "$FLOOD_S" | "$SIGN" "$T/priv/bpeer-1.key" |
	    "${PUB[@]}" -q 1 -t hive/all/heartbeat -l &
	t0=$SECONDS
	while [ $((SECONDS - t0)) -lt "$FLOOD_S" ]; do
		sleep 1
		awk '/^VmRSS:/ { print $2 }' \
		    "/proc/$(role_pid "$MONITOR" router)/status" >>"$T/flood-rss.dat"
	done
	wait $! || true
	acc=$(count_lines "$AUDIT" '"event":"accepted","from":"bpeer-1"')
	mem_line flood
	echo "  (flood: $acc heartbeats accepted; router VmRSS max of the samples $(sort -n "$T/flood-rss.dat" | tail -1) kB)"
	kill -TERM "$MONITOR"
	wait "$MONITOR" || true
	# a new file, all of it live for an hour: the flood's entries would
	# expire while the daemon starts
	owner=$(stat -c %u:%g "$T/mem/state/window")
	rm "$T/mem/state/window"
	"$B/hive-bench-window" -n 1000000 -f "$T/mem/state/window" | sed 's/^/  alone: /'
	chown "$owner" "$T/mem/state/window"
	mv "$T/mem/daemon.log" "$T/mem/daemon-1.log"
	start_box mem
	MONITOR=${PIDS[-1]}
	check "memory: the daemon loaded the full window" \
	    grep -q 'replay window opened: 1000000 entries' "$T/mem/daemon.log"
	mem_line full
	awk -v k="$MEM_MAX" 'BEGIN { printf "  largest VmHWM %.1f MB; ratio %.3f (to 64 MB), goal <= 1: %s\n", k / 1024, k / 65536, (k <= 65536) ? "MET" : "MISSED" }'
	[ -z "$OUT" ] || cp "$T/memory.dat" "$OUT/"
	kill -TERM "$MONITOR"
	wait "$MONITOR" || true
}
