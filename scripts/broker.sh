# broker.sh - start a private mosquitto on a free loopback port (sourced
# by the integration tests and the demo).  Needs $T (a private
# directory) and the PIDS array; waits for the broker's own log line,
# with a deadline, never a fixed sleep.

# start_broker: sets BROKER_PORT and BROKER_PID.  Lines in
# $BROKER_EXTRA (e.g. TLS or password settings) are added after the
# listener line.
start_broker() {
	local try port conf log
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 40000))
		conf="$T/mosquitto.conf"
		log="$T/mosquitto.log"
		cat >"$conf" <<-CONF
		per_listener_settings true
		listener $port 127.0.0.1
		${BROKER_EXTRA:-allow_anonymous true}
		user $(id -un)
		persistence false
		log_dest file $log
		log_type error
		log_type warning
		log_type notice
		log_type information
		CONF
		: >"$log"
		mosquitto -c "$conf" >>"$T/mosquitto.out" 2>&1 &
		BROKER_PID=$!
		PIDS+=("$BROKER_PID")
		end=$((SECONDS + 10))
		while [ $SECONDS -lt $end ]; do
			if grep -q "listen socket on port $port" "$log"; then
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

