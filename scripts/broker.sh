# broker.sh - start a private mosquitto on a free loopback port (sourced
# by the integration tests and the demo).  Needs $T (a private
# directory) and the PIDS array; waits for the broker's own log line,
# with a deadline, never a fixed sleep.

# start_broker: sets BROKER_PORT and BROKER_PID.  Lines in
# $BROKER_EXTRA (e.g. TLS or password settings) are added after the
# listener line; $BROKER_PERSIST replaces "persistence false";
# $BROKER_TAIL ends the file (a bridge's "connection" section, which
# takes every line after it).  With $BROKER_SETSID set, the broker runs
# in a session of its own, out of reach of a Ctrl-C meant for the
# script (the demo stops it last).  For several brokers in one test:
# $BROKER_NAME names its files in $T (default mosquitto: mosquitto.conf,
# mosquitto.log), $BROKER_ADDR is the listener's address (default
# 127.0.0.1) and $BROKER_NS a network namespace to run it in
# (ip netns exec).
start_broker() {
	local try port conf log name=${BROKER_NAME:-mosquitto}
	local ns=()
	[ -z "${BROKER_NS:-}" ] || ns=(ip netns exec "$BROKER_NS")
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 40000))
		conf="$T/$name.conf"
		log="$T/$name.log"
		cat >"$conf" <<-CONF
		per_listener_settings true
		listener $port ${BROKER_ADDR:-127.0.0.1}
		${BROKER_EXTRA:-allow_anonymous true}
		user $(id -un)
		${BROKER_PERSIST:-persistence false}
		log_dest file $log
		log_type error
		log_type warning
		log_type notice
		log_type information
		${BROKER_TAIL:-}
		CONF
		: >"$log"
		${BROKER_SETSID:+setsid} "${ns[@]}" mosquitto -c "$conf" \
		    >>"$T/$name.out" 2>&1 &
		BROKER_PID=$!
		PIDS+=("$BROKER_PID")
		end=$((SECONDS + 10))
		while [ $SECONDS -lt $end ]; do
			# "Opening ... listen socket" comes before the bind;
			# "running" only once every listener is bound
			if grep -q "mosquitto version .* running" "$log"; then
				BROKER_PORT=$port
				return 0
			fi
			kill -0 "$BROKER_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$BROKER_PID" 2>/dev/null || true
	done
	echo "could not start mosquitto" >&2
	return 1
}


# restart_broker SIGNAL: stop the broker with SIGNAL and start it again
# on the same port with the same configuration (and so the same
# persistence file), in the same namespace ($BROKER_NAME and $BROKER_NS
# as for start_broker).  Waits for the new listen line.
restart_broker() {
	local sig=$1 name=${BROKER_NAME:-mosquitto} end
	local log="$T/$name.log" ns=()
	[ -z "${BROKER_NS:-}" ] || ns=(ip netns exec "$BROKER_NS")
	kill "-$sig" "$BROKER_PID"
	wait "$BROKER_PID" 2>/dev/null || true
	: >"$log"
	end=$((SECONDS + 15))
	while [ $SECONDS -lt $end ]; do
		"${ns[@]}" mosquitto -c "$T/$name.conf" >>"$T/$name.out" 2>&1 &
		BROKER_PID=$!
		PIDS+=("$BROKER_PID")
		while kill -0 "$BROKER_PID" 2>/dev/null; do
			grep -q "mosquitto version .* running" "$log" &&
			    return 0
			sleep 0.05
		done
		sleep 0.2	# the port may still be in TIME_WAIT: try again
	done
	echo "could not restart mosquitto on $BROKER_PORT" >&2
	return 1
}
