#!/usr/bin/env bash
# demo.sh - two hive nodes on a private loopback broker, narrated.  Run
# through `make demo`, as root (the daemon runs handlers as another
# user).  Everything it starts lives in a temporary directory and is
# stopped on exit, Ctrl-C included; the daemons' logs are there, never
# on the screen.  The directory is removed at the end unless the demo
# failed or HIVE_DEMO_KEEP=1 (`make demo KEEP=1`), which also keeps the
# daemons running, when run from a terminal, until Enter is pressed, so
# that every command shown can be run again as printed.  Exits non-zero
# if any step does not behave as shown.  The daemons run as the account
# hive, which it creates if missing.
#
#   turq-18789  the master: sends through its daemon's control socket
#   pg1-18890   a member: runs the example handlers ping and echo
#               (handlers.d/) and a deliberately slow one, sandboxed
#
# Both daemons wake an OpenClaw gateway through the `openclaw` test
# double (tests/tools/openclaw-double, which records what it is told:
# the demo prints the very text an agent would read), unless a real
# `openclaw` is on PATH.  Real or stand-in, hive counts a
# call as delivered only if it prints {"ok":true} on stdout
# (docs/openclaw.md, "What openclaw must print").
set -euo pipefail
: "${HIVE_BIN:?run through make demo}"
HIVE_SRC=$(cd "$(dirname "$0")/.." && pwd)
CLI="$HIVE_BIN/hive-cli"
DAEMON="$HIVE_BIN/hive-daemon"
if [ "$(id -u)" -ne 0 ]; then
	echo "make demo needs root: hive-daemon runs handlers as nobody" >&2
	exit 2
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/hive-demo.XXXXXX")
chmod 755 "$T"
PIDS=()
STEP=0
FAILED=
KEEP=${HIVE_DEMO_KEEP:-}
# colour for a terminal only: never escape codes into a pipe or a file
if [ -t 1 ]; then BOLD=$'\033[1m' DIM=$'\033[2m' OFF=$'\033[0m'
else BOLD= DIM= OFF=; fi

# Stop the daemons first and the broker (PIDS[0]) last: a daemon told to
# stop publishes what it still owes (a handler's outcome) before it
# exits, and without a broker it would wait for its 30 s deadline.
cleanup() {
	local p
	trap "" INT TERM	# a second Ctrl-C must not cut the cleanup short
	for p in "${PIDS[@]:1}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]:1}"; do wait "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]:0:1}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -n "$FAILED" ] || [ -n "$KEEP" ]; then
		printf '   files kept in %s (remove with: rm -rf %s)\n' "$T" "$T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM
. "$HIVE_SRC/scripts/broker.sh"
# The broker and the daemons run in sessions of their own: Ctrl-C
# reaches this script, whose cleanup stops them in order.
BROKER_SETSID=1

say()  { STEP=$((STEP + 1)); printf '\n%s%d. %s%s\n' "$BOLD" "$STEP" "$*" "$OFF"; }
show() { printf '   %s\n' "$@"; }
# a word as a shell reads it back: bare if safe, else single-quoted
shq()  { local q="'"
	if [[ $1 =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then printf '%s' "$1"
	else printf "'%s'" "${1//$q/$q\\$q$q}"; fi; }
# cmd ARGV...: the command exactly as the demo runs it, full paths and
# all, so that it can be copied and run again while the daemons run
cmd()  { local w line=
	for w in "$@"; do line+="$(shq "$w") "; done
	printf '   %s$ %s%s\n' "$DIM" "${line% }" "$OFF"; }
# agent_text BOX: the text of the last call BOX's openclaw recorded
# (--text of a system event, --message of an agent turn)
agent_text() {
	tail -n 1 "$T/$1/calls/calls.log" | jq -r '
	    . as $a | [range(length)] | map(select($a[.] == "--text" or
	    $a[.] == "--message")) | .[0] as $i | $a[$i + 1]'
}
calls_of() { wc -l <"$T/$1/calls/calls.log" 2>/dev/null || echo 0; }
more_calls() { [ "$(calls_of "$1")" -gt "$2" ]; }
die()  {	# a step that failed because of Ctrl-C is an interruption
	[ $? -eq 130 ] && { echo; echo "interrupted"; exit 130; }
	FAILED=1; printf '\n   DEMO FAILED: %s\n' "$*"; exit 1
}
wait_line() {	# wait_line FILE REGEX [SECONDS]
	local end=$((SECONDS + ${3:-10}))
	while [ $SECONDS -lt $end ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
wait_cmd() {	# wait_cmd CMD...: until it succeeds, 15 s at most
	local end=$((SECONDS + 15))
	while [ $SECONDS -lt $end ]; do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# box NAME NODE: hive.conf, policy, secret key, openclaw for one daemon
box() {
	local b=$T/$1
	mkdir -m 755 "$b" "$b/policy" "$b/policy/seccomp" "$b/handlers" "$b/bin"
	mkdir -m 700 "$b/secret"
	mkdir -m 777 "$b/calls"
	cp "$T/priv/$2.key" "$b/secret/"
	install -m 644 "$HIVE_SRC"/policy/seccomp/* "$b/policy/seccomp/"
	if command -v openclaw >/dev/null; then
		OPENCLAW=$(command -v openclaw)
	else
		# a stand-in: it records its argv and prints {"ok":true},
		# which is what tells hive the event was delivered
		cp "$HIVE_SRC/tests/tools/openclaw-double" "$b/bin/openclaw"
		: >"$b/calls/calls.log"
		: >"$b/calls/env.log"
		chmod 666 "$b/calls/calls.log" "$b/calls/env.log"
		OPENCLAW=$b/bin/openclaw
	fi
	cat >"$b/hive.conf" <<-CONF
	node $2
	host 127.0.0.1
	port $BROKER_PORT
	keys $T/keys
	secret_dir $b/secret
	state_dir $b/state
	control_socket $b/run/hive.sock
	pid_file $b/run/hive-daemon.pid
	log_dir $b/log
	policy_dir $b/policy
	handlers_dir $b/handlers
	user hive
	heartbeat_interval 2
	openclaw $OPENCLAW
	openclaw_port auto
	CONF
	chmod 600 "$b/hive.conf"
}
start() {	# start NAME
	setsid "$DAEMON" -f -c "$T/$1/hive.conf" 2>"$T/$1/daemon.log" &
	PIDS+=("$!")
	wait_line "$T/$1/daemon.log" 'subscribed; ready' ||
	    die "hive-daemon for $1 did not start (see $T/$1/daemon.log)"
}

# The daemons' own account (hive.conf `user`): hive-daemon refuses to
# run a handler as it, and the handlers here run as nobody.  An
# installed system has it from systemd/hive.sysusers; made if missing.
getent passwd hive >/dev/null ||
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin hive || die "cannot create the account hive"

say "Start a private mosquitto broker on a free loopback port"
start_broker || die "mosquitto did not start"
show "broker on 127.0.0.1:$BROKER_PORT"
if [ -n "$KEEP" ]; then
	show "files (keys, configurations, logs) in $T, kept at the end"
else
	show "files (keys, configurations, logs) in $T, removed at the end" \
	    "(make demo KEEP=1 keeps them, and the daemons running)"
fi

say "Generate an Ed25519 key for each node; share only the .pub files"
mkdir -m 700 "$T/priv" "$T/keys" "$T/rogue"
for n in turq-18789 pg1-18890; do
	kid=$("$CLI" keygen --node "$n" --dir "$T/priv")
	cp "$T/priv/$n.pub" "$T/keys/"
	show "$n  kid $kid"
done
chmod 755 "$T/keys"

say "Start a hive-daemon for each node"
box turq turq-18789
box pg1 pg1-18890
cat >"$T/turq/policy/hive.policy" <<-'POLICY'
	allow from pg1-18890 ch alert
POLICY
# pg1 obeys turq for three actions, each handler in its own sandbox
cat >"$T/pg1/policy/hive.policy" <<-'POLICY'
	allow from turq-18789 ch command action none
	allow from turq-18789 ch command action ping
	allow from turq-18789 ch command action echo
	allow from turq-18789 ch command action slow
	handler ping {
		timeout 2s
		memory 32M
		processes 32
		fsize 0
		seccomp strict
	}
	handler echo {
		timeout 5s
		memory 64M
		processes 32
		fsize 0
		seccomp strict
	}
	handler slow {
		timeout 2s
		grace 1s
		seccomp strict
		alert no
	}
POLICY
chmod 644 "$T"/*/policy/hive.policy
install -m 755 "$HIVE_SRC/handlers.d/ping" "$HIVE_BIN/handlers.d/echo" \
    "$T/pg1/handlers/"
printf '#!/bin/sh\n# never answers in time\nsleep 67\n' >"$T/pg1/handlers/slow"
chmod 755 "$T/pg1/handlers/slow"
start turq
start pg1
show "turq-18789: master, no handlers     (log: $T/turq/daemon.log)"
show "pg1-18890:  handlers ping, echo, slow (log: $T/pg1/daemon.log)"
show "policy on pg1: turq-18789 may command its agent and run ping, echo," \
    "  slow; nobody else anything"
show "openclaw: $OPENCLAW" \
    "  hive wakes each agent by running it; a call counts as delivered only" \
    "  if it prints {\"ok\":true} on stdout (a stand-in must too:" \
    "  docs/openclaw.md, \"What openclaw must print\")"

TURQ=(--socket "$T/turq/run/hive.sock")
PG1=(--socket "$T/pg1/run/hive.sock")
say "turq-18789 asks pg1-18890 to run 'ping' and waits for the signed answer"
c=("$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --action ping
    --text "are you there?" --wait 10)
cmd "${c[@]}"
"${c[@]}" >"$T/ping.json" 2>"$T/ping.err" ||
    die "no answer to ping ($(tail -n 1 "$T/ping.err"))"
jq -e '.from == "pg1-18890" and (.text | fromjson | .pong)' "$T/ping.json" \
    >/dev/null || die "the answer is not pg1-18890's pong: $(cat "$T/ping.json")"
show "answer from $(jq -r .from "$T/ping.json") (signed, key $(jq -r .kid "$T/ping.json")): $(jq -r .text "$T/ping.json")"
show "(handlers.d/ping, run as nobody under seccomp 'strict', without network)"
sed -n 's/^sent: //p' "$T/ping.err" >"$T/cmd.json"

c=("$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --action echo
    --args '{"n":42}' --text hello --wait 10)
cmd "${c[@]}"
"${c[@]}" >"$T/echo.json" 2>"$T/echo.err" || die "no answer to echo"
[ "$(jq -r .text "$T/echo.json")" = '{"text":"hello","args":{"n":42}}' ] ||
    die "echo answered $(jq -r .text "$T/echo.json")"
show "answer: $(jq -r .text "$T/echo.json")"

say "What pg1-18890's agent reads when turq-18789 sends it a command"
show "A command without an action goes to the agent itself: hive wakes it" \
    "by running openclaw with this text (recorded by the stand-in):"
n=$(calls_of pg1)
c=("$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command
    --text "check the disk usage on /var and report")
cmd "${c[@]}"
"${c[@]}" >/dev/null 2>"$T/agent-cmd.err" ||
    die "the command was not sent ($(tail -n 1 "$T/agent-cmd.err"))"
if [ -e "$T/pg1/calls/calls.log" ]; then
	wait_cmd more_calls pg1 "$n" || die "pg1-18890's agent was not woken"
	agent_text pg1 | sed 's/^/     | /'
	show "The agent answers with hive-cli reply (the skill in" \
	    "skills/hive-member tells it how); [corr:...] ties the answer to" \
	    "the command."
else
	show "(delivered to the real openclaw on PATH: see its gateway)"
fi

say "What turq-18789's agent reads when pg1-18890 raises an alert"
n=$(calls_of turq)
c=("$CLI" send "${PG1[@]}" --to turq-18789 --ch alert
    --text "disk /var is 91% full")
cmd "${c[@]}"
"${c[@]}" >/dev/null 2>"$T/agent-alert.err" ||
    die "the alert was not sent ($(tail -n 1 "$T/agent-alert.err"))"
if [ -e "$T/turq/calls/calls.log" ]; then
	wait_cmd more_calls turq "$n" || die "turq-18789's agent was not woken"
	agent_text turq | sed 's/^/     | /'
else
	show "(delivered to the real openclaw on PATH: see its gateway)"
fi

say "The cluster as the master's daemon sees it"
roster_ok() { "$CLI" roster "${TURQ[@]}" --json 2>/dev/null |
    jq -e '[.[].data.node] | index("turq-18789") and index("pg1-18890")' \
    >/dev/null; }
status_ok() { "$CLI" status "${TURQ[@]}" --json 2>/dev/null |
    jq -e '[.[].data.node] | index("turq-18789") and index("pg1-18890")' \
    >/dev/null; }
wait_cmd status_ok || die "status does not show both nodes"
wait_cmd roster_ok || die "roster does not show both nodes"
cmd "$CLI" status "${TURQ[@]}"
"$CLI" status "${TURQ[@]}" | sed 's/^/   /'
cmd "$CLI" roster "${TURQ[@]}"
"$CLI" roster "${TURQ[@]}" | sed 's/^/   /'

say "Someone replays the ping command on the bus, byte for byte"
c=(mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1
    -t hive/pg1-18890/command -f "$T/cmd.json")
cmd "${c[@]}"
runs=$(grep -c 'handler ping for pg1-18890' "$T/pg1/daemon.log" || true)
"${c[@]}"
wait_line "$T/pg1/daemon.log" 'refused reason=replay' ||
    die "the replay was not refused"
show "pg1-18890's log: $(grep -m 1 -o 'refused reason=replay.*' \
    "$T/pg1/daemon.log" | sed 's/ detail=""//')"

say "A rogue key claims to be turq-18789"
"$CLI" keygen --node turq-18789 --dir "$T/rogue" >/dev/null
# the rogue has no keyring to name pg1-18890 from: --force sends anyway
c=("$CLI" send -h 127.0.0.1 -p "$BROKER_PORT"
    --sign-key "$T/rogue/turq-18789.key" --force --to pg1-18890
    --ch command --action ping --text "rm -rf /")
cmd "${c[@]}"
"${c[@]}" >/dev/null 2>"$T/rogue.err" ||
    die "could not publish the forgery ($(tail -n 1 "$T/rogue.err"))"
wait_line "$T/pg1/daemon.log" 'refused reason=(unknown-key|bad-signature)' ||
    die "the forgery was not refused"
show "pg1-18890's log: $(grep -m 1 -Eo \
    'refused reason=(unknown-key|bad-signature).*' "$T/pg1/daemon.log" |
    sed 's/ detail=""//')"
[ "$(grep -c 'handler ping for pg1-18890' "$T/pg1/daemon.log" || true)" -eq "$runs" ] ||
    die "a refused message ran a handler"
show "neither ran a handler"

say "A broker in the middle edits the text of a signed command"
sed 's/are you there?/format the disk/' "$T/cmd.json" >"$T/tampered.json"
cmd "$CLI" verify --keys "$T/keys" "$T/tampered.json"
if "$CLI" verify --keys "$T/keys" "$T/tampered.json" >"$T/verify.out" 2>&1; then
	die "the tampered envelope verified"
fi
show "$(cat "$T/verify.out")"

say "A handler that overruns its 2 s timeout is stopped, and the sender told"
c=("$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --action slow
    --text "take your time" --wait 15)
cmd "${c[@]}"
rc=0
"${c[@]}" >"$T/slow.json" 2>"$T/slow.err" || rc=$?
# exit 5: an answer came, and its outcome says the remote work failed
[ "$rc" -eq 5 ] || die "no answer about the slow handler (exit $rc)"
grep -q 'error: handler slow on pg1-18890: timeout' "$T/slow.json" ||
    die "the slow handler did not time out: $(jq -r .text "$T/slow.json")"
show "answer: $(jq -r .text "$T/slow.json")"
show "outcome: $(jq -r .outcome "$T/slow.json"), and hive-cli exited 5"
gone() { ! pgrep -u nobody -f 'sleep 67' >/dev/null; }
wait_cmd gone || die "the slow handler's sleep is still running"
show "nothing of it is left running"

printf '\n%sDemo complete:%s signed commands answered by sandboxed handlers; the agents woken with the texts shown; a replay, a forgery and a tampered copy refused; a runaway handler stopped.\n' "$BOLD" "$OFF"
if [ -n "$KEEP" ] && [ -t 0 ]; then
	printf '\nThe broker and both daemons are still running: the commands above\nwork as printed.  Press Enter to stop them.\n'
	read -r _ || true
fi
