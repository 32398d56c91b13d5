# lib.sh - shared pieces of the integration tests (sourced, bash).
#
# A real mosquitto broker on a free loopback port, started in the
# test's own temporary directory; never a mock.  Waiting is always for
# a condition (a log line, a line of output) with a deadline, never a
# fixed sleep.

: "${HIVE_BIN:?HIVE_BIN (the build directory) must be set}"
: "${HIVE_SRC:?HIVE_SRC (the source directory) must be set}"
CLI="$HIVE_BIN/hive-cli"
RESPONDER="$HIVE_BIN/tests/hive-test-responder"

T=$(mktemp -d "${TMPDIR:-/tmp}/hive-it.XXXXXX")
PIDS=()
FAILS=0
PASSES=0
FAILED=()

cleanup() {
	local rc=$? p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	# a skip (77) has nothing to look at
	if { [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; } || [ "$FAILS" -ne 0 ] ||
	    [ -n "${KEEP_TMP:-}" ]; then
		echo "logs kept in $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
# A command that stops the test under set -e says which one it was: the
# log of a CI run shows the line, not just an exit status.  set -E: also
# inside functions (a failed assignment in a helper stops the test too).
set -E
trap 'err_=$?; [[ $- != *e* ]] ||
    echo "not ok - ${BASH_SOURCE[0]##*/}:$LINENO: \"$BASH_COMMAND\" exited $err_" >&2' ERR

ok()   { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILS=$((FAILS + 1)); FAILED+=("$*"); echo "not ok - $*"; }
check() {	# check "description" command...
	local d=$1; shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}
finish() {
	echo "$PASSES passed, $FAILS failed"
	local f
	for f in "${FAILED[@]}"; do echo "# failed: $f"; done
	[ "$FAILS" -eq 0 ] && [ "$PASSES" -gt 0 ]
}

# wait_for FILE REGEX [SECONDS]: until a line of FILE matches.
wait_for() {
	local file=$1 re=$2 secs=${3:-10} end
	end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "timed out waiting for /$re/ in $file" >&2
	return 1
}

# wait_until CMD...: until CMD succeeds, for at most 15 seconds.
wait_until() { wait_until_s 15 "$@"; }

# wait_until_s SECS CMD...: the same with a deadline of SECS seconds.
wait_until_s() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# send_stream FIRST LAST: QoS 1 commands "job-FIRST".."job-LAST" from
# ${TURQ[@]} (hive-cli connection and key flags) to pg1-18890, one
# hive-cli each; those the broker acknowledged are noted in $T/acked.
send_stream() {
	local i
	for i in $(seq "$1" "$2"); do
		if "$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command \
		    --text "job-$i" >/dev/null 2>&1; then
			echo "job-$i" >>"$T/acked"
		fi
	done
}

# count_lines FILE REGEX
count_lines() { grep -Ec -- "$2" "$1" 2>/dev/null || true; }

. "$HIVE_SRC/scripts/broker.sh"

# gen_node NAME: secret in $T/priv, public copied into the keyring $T/keys
gen_node() {
	mkdir -p "$T/priv" "$T/keys"
	chmod 700 "$T/priv" "$T/keys"
	"$CLI" keygen --node "$1" --dir "$T/priv" >/dev/null
	cp "$T/priv/$1.pub" "$T/keys/"
}

# The daemon's account (hive.conf `user`, the router's and by default
# the injectors'): one of its own, as the daemon insists, since handlers
# run as nobody by default.  As root it is created on first use, under
# a lock (tests run in parallel and useradd is not atomic); without
# root the daemon cannot switch users and runs as the invoking one.
DUSER=hive-test-d
test_account() {	# test_account NAME: a system account, made if missing
	getent passwd "$1" >/dev/null && return 0
	(
		flock 9
		getent passwd "$1" >/dev/null ||
		    useradd --system --user-group --no-create-home \
		    --home-dir /nonexistent --shell /usr/sbin/nologin "$1"
	) 9>>/tmp/hive-test-accounts.lock
}
if [ "$(id -u)" -eq 0 ]; then
	test_account "$DUSER"
else
	DUSER=$(id -un)
fi

DAEMON="$HIVE_BIN/hive-daemon"
# box_conf DIR NODES: the hive.conf lines of a box whose files are under
# DIR (secret, state, run, log, policy, bin/openclaw), on $BROKER_PORT;
# run/ holds the control socket and the pid file, so boxes of tests
# running in parallel never meet in /run/hive; log lines carry no time
# (tests match them from the role on) unless BOX_LOG_TIMESTAMPS says
box_conf() {
	cat <<CONF
node $2
host ${BROKER_ADDR:-127.0.0.1}
port $BROKER_PORT
keys $T/keys
secret_dir $1/secret
state_dir $1/state
handler_state_dir $1/handler-state
control_socket $1/run/hive.sock
pid_file $1/run/hive-daemon.pid
log_dir $1/log
policy_dir $1/policy
user $DUSER
heartbeat_interval 1
openclaw $1/bin/openclaw
log_timestamps ${BOX_LOG_TIMESTAMPS:-no}
CONF
}
# openclaw_double DIR: DIR/bin/openclaw, the double, recording into
# DIR/calls (calls.log, env.log), writable by the injector's user
openclaw_double() {
	mkdir -p -m 755 "$1/bin"
	mkdir -m 777 "$1/calls"
	cp "$HIVE_SRC/tests/tools/openclaw-double" "$1/bin/openclaw"
	: >"$1/calls/calls.log"
	: >"$1/calls/env.log"
	chmod 666 "$1/calls/calls.log" "$1/calls/env.log"
}
# A daemon's box under $T/NAME: its secret keys, state, log and control
# socket, and an openclaw double recording into $T/NAME/calls.
# setup_box NAME NODES EXTRA-CONFIG [EXTRA-POLICY]
# The policy lets every keyring member command, sync and alert the box.
# The broker is $BROKER_ADDR (default 127.0.0.1) port $BROKER_PORT.
setup_box() {
	local box=$1 nodes=$2 n
	mkdir -p "$T/$box"
	mkdir -m 755 "$T/$box/policy"
	cat >"$T/$box/policy/hive.policy" <<POLICY
allow from * ch command
allow from * ch sync
allow from * ch alert
${4:-}
POLICY
	mkdir -m 700 "$T/$box/secret"
	for n in ${nodes//,/ }; do cp "$T/priv/$n.key" "$T/$box/secret/"; done
	openclaw_double "$T/$box"
	{ box_conf "$T/$box" "$nodes"; echo "openclaw_port auto"; echo "$3"; } \
	    >"$T/$box/hive.conf"
	chmod 600 "$T/$box/hive.conf"
}
# setup_handler_box NAME NODES [EXTRA-CONFIG]: a box with a handlers directory
# ($T/NAME/handlers, root's, 0755) and the shipped seccomp profiles in
# its policy; the policy file is the caller's to write.
setup_handler_box() {
	setup_box "$1" "$2" "handlers_dir $T/$1/handlers
${3:-}"
	mkdir -m 755 "$T/$1/policy/seccomp" "$T/$1/handlers"
	cp "$HIVE_SRC"/policy/seccomp/* "$T/$1/policy/seccomp/"
	chmod 644 "$T/$1/policy/seccomp/"*
}
# setup_sender_box NAME NODE: a box that only sends (corr_ttl 30); the
# invoking user may send and reply through its socket
setup_sender_box() {
	local me
	me=$(id -un)
	setup_box "$1" "$2" "corr_ttl 30" "socket send $me
socket reply $me"
}
# Handlers run as other users: a test that needs them skips (77)
# unless root.
need_root_for_handlers() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "# handlers run as another user: needs root; skipped"
		exit 77
	fi
}
start_box() {	# start_box NAME [NETNS]: in network namespace NETNS if given
	local ns=()
	[ -z "${2:-}" ] || ns=(ip netns exec "$2")	# which execs the daemon
	"${ns[@]}" "$DAEMON" -f -c "$T/$1/hive.conf" 2>"$T/$1/daemon.log" &
	PIDS+=("$!")
	wait_for "$T/$1/daemon.log" 'subscribed; ready'
}

