#!/usr/bin/env bash
# test_split.sh - split mode (docs/systemd.md, src/attach.h) without
# systemd: the monitor runs as a non-root account (daemon) holding only
# the ambient capabilities its unit grants, the router and the injector
# are started separately as their user ($DUSER, lib.sh) and attach to it.  Bus
# traffic, signing and injection work; a wrong uid cannot attach, nor a
# second router; a killed router stops the monitor non-zero; SIGTERM to
# the monitor stops the attached roles.  Also privdrop() by capability:
# a non-root account with CAP_SETUID/SETGID/SETPCAP switches users.
# Needs root (to start processes as other accounts) and setpriv.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null ||
    ! id daemon >/dev/null 2>&1 || ! id bin >/dev/null 2>&1; then
	echo "# SKIP: needs root, setpriv and the accounts daemon and bin"
	exit 77
fi

CAPS=+setuid,+setgid,+setpcap,+kill
# AS_MONITOR: what the monitor unit gives: User=, the ambient set, the
# bounding set limited to it, no-new-privs.  as_user USER sets AS_USER:
# a role unit: User=, nothing else.  setpriv execs: $! is the daemon.
AS_MONITOR=(setpriv --reuid=daemon --regid=daemon --init-groups
    --inh-caps="-all,$CAPS" --ambient-caps="-all,$CAPS"
    --bounding-set="-all,$CAPS" --no-new-privs)
as_user() {
	AS_USER=(setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups
	    --inh-caps=-all --bounding-set=-all --no-new-privs)
}
PROBE="$HIVE_BIN/tests/hive-test-privdrop"
NOBODY=$(id -u nobody)

# --- privdrop() decides by capability, not by uid 0 ----------------------
out=$("${AS_MONITOR[@]}" "$PROBE" nobody 2>"$T/probe.log")
check "a non-root account with CAP_SETUID/SETGID/SETPCAP switches users" \
    [ "$out" = "uid $NOBODY gid $(id -g nobody) caps none bounding none nnp 1 regain no" ]
as_user bin
out=$("${AS_USER[@]}" "$PROBE" nobody 2>"$T/probe2.log")
check "without them it stays itself, with no capabilities" \
    [ "$out" = "uid $(id -u bin) gid $(id -g bin) caps none bounding none nnp 1 regain no" ]
check "...and says so" grep -q 'no CAP_SETUID/CAP_SETGID: running as uid' \
    "$T/probe2.log"

# --- the tree a split installation has -----------------------------------
start_broker
gen_node turq-18789
gen_node pg1-18890
chmod 755 "$T" "$T/keys"		# hive.conf, keyring: every role reads
mkdir -m 700 "$T/secret"		# the monitor's account alone
cp "$T/priv/pg1-18890.key" "$T/secret/"
chown -R daemon:daemon "$T/secret"
mkdir -m 755 "$T/run" && chown daemon "$T/run"	# RuntimeDirectory=
mkdir -m 700 "$T/log" && chown daemon "$T/log"	# LogsDirectory=
mkdir -m 700 "$T/state" && chown "$DUSER" "$T/state" # the router's StateDirectory=
mkdir -m 755 "$T/policy"
openclaw_double "$T"
box_conf "$T" pg1-18890 >"$T/hive.conf"
chmod 644 "$T/hive.conf"
cat >"$T/policy/hive.policy" <<POLICY
allow from * ch command
allow from * ch sync
allow from * ch alert
POLICY
SOCK="$T/run/monitor.sock"

"$HIVE_BIN/tests/hive-test-notifysink" "$T/notify.sock" >"$T/notify.log" &
PIDS+=("$!")
wait_for "$T/notify.log" '^ready$'
chmod 666 "$T/notify.sock"

start_monitor() {	# start_monitor LOG
	NOTIFY_SOCKET="$T/notify.sock" "${AS_MONITOR[@]}" "$DAEMON" -f \
	    -A "$SOCK" \
	    -c "$T/hive.conf" 2>"$T/$1" &
	MON=$!
	PIDS+=("$MON")
	wait_for "$T/$1" 'split mode: waiting on'
}
start_role() {	# start_role ROLE LOG: as $DUSER; sets ROLE_PID
	as_user "$DUSER"
	"${AS_USER[@]}" "$DAEMON" -P "$1" -A "$SOCK" -c "$T/hive.conf" \
	    2>"$T/$2" &
	ROLE_PID=$!
	PIDS+=("$ROLE_PID")
}
calls() { wc -l <"$T/calls/calls.log"; }
has_calls() { [ "$(calls)" -ge "$1" ]; }
TURQ=(-h 127.0.0.1 -p "$BROKER_PORT" --keys "$T/keys"
    --sign-key "$T/priv/turq-18789.key")

start_monitor monitor.log
check "the monitor runs as its own account with the ambient set only" \
    awk '/^Uid:/ { u = $2 } /^CapEff:/ { e = $2 } /^CapAmb:/ { a = $2 }
    END { exit !(u == 1 && e == "00000000000001e0" && a == e) }' \
    "/proc/$MON/status"
check "...and told systemd it is ready for the role units" \
    wait_for "$T/notify.log" '^READY=1 STATUS=waiting for the router'
check "the attach socket exists" [ -S "$SOCK" ]

# --- who may attach --------------------------------------------------------
rc=0
as_user bin
"${AS_USER[@]}" "$DAEMON" -P router -A "$SOCK" -c "$T/hive.conf" \
    2>"$T/intruder.log" || rc=$?
check "a wrong uid cannot attach as the router" [ "$rc" -ne 0 ]
check "...it is told why" grep -q 'the monitor refused us: not a user' \
    "$T/intruder.log"
check "...the monitor logs the refusal with the uid" \
    wait_for "$T/monitor.log" "attach: refused pid [0-9]+ uid $(id -u bin)"
rc=0
"${AS_USER[@]}" "$DAEMON" -P injector -A "$SOCK" -c "$T/hive.conf" \
    2>"$T/intruder2.log" || rc=$?
check "...nor as an injector" [ "$rc" -ne 0 ]
check "...and the monitor keeps running" kill -0 "$MON"

start_role router router.log
ROUTER=$ROLE_PID
check "the router attaches and connects" \
    wait_for "$T/router.log" 'subscribed; ready'
check "...as the monitor logs, with its pid" \
    wait_for "$T/monitor.log" "router attached: pid $ROUTER, user $DUSER"
rc=0
as_user "$DUSER"
"${AS_USER[@]}" "$DAEMON" -P router -A "$SOCK" -c "$T/hive.conf" \
    2>"$T/second.log" || rc=$?
check "a second router cannot attach" [ "$rc" -ne 0 ]
check "...the router is attached already" \
    grep -q 'refused us: the router is attached already' "$T/second.log"
start_role injector injector.log
INJECTOR=$ROLE_PID
check "the injector attaches (slot chosen by the monitor)" \
    wait_for "$T/monitor.log" "injector 0 attached: pid $INJECTOR, user $DUSER"
check "every role attached: the socket stops listening" \
    wait_for "$T/monitor.log" 'split mode: every role attached'
check "the monitor forwarded the router's READY to systemd" \
    wait_for "$T/notify.log" 'STATUS=connected to 127.0.0.1'

for who in ROUTER INJECTOR; do
	pid=${!who}
	check "$who runs as $DUSER with no capabilities and no-new-privs" \
	    awk -v u="$(id -u "$DUSER")" '/^Uid:/ { id = $2 } /^CapEff:/ { e = $2 }
	    /^CapBnd:/ { b = $2 } /^NoNewPrivs:/ { n = $2 }
	    END { exit !(id == u && e == "0000000000000000" &&
	    b == "0000000000000000" && n == 1) }' "/proc/$pid/status"
	check "$who runs under its seccomp filter" \
	    grep -q '^Seccomp:[[:space:]]2' "/proc/$pid/status"
done

# the seed: the payload's first 32 bytes (od -N reads a file, not a
# pipe whose writer it would leave behind)
awk '{print $2}' "$T/secret/pg1-18890.key" | base64 -d >"$T/key.bin"
seed=$(od -An -tx1 -N32 "$T/key.bin" | tr -d ' \n')
check "memscan finds the secret key in the monitor (control)" \
    "$HIVE_BIN/tests/hive-test-memscan" "$MON" "$seed"
for who in ROUTER INJECTOR; do
	rc=0; "$HIVE_BIN/tests/hive-test-memscan" "${!who}" "$seed" || rc=$?
	check "$who's memory never holds the secret key" [ "$rc" -eq 1 ]
done

# --- bus traffic: routing, injection, signing --------------------------------
"$CLI" send "${TURQ[@]}" --to pg1-18890 --ch command --text "check disk" \
    --corr c-1 >/dev/null
check "a command is injected through the attached injector" \
    wait_until has_calls 1
check "...by the injector's user" \
    wait_for "$T/calls/env.log" "\"uid\":\"$(id -u "$DUSER")\""
check "the monitor signs for the router (its heartbeats come back verified)" \
    wait_for "$T/log/audit.log" \
    '"ch":"heartbeat","event":"accepted","from":"pg1-18890"' 15
"$CLI" send --socket "$T/run/hive.sock" --to turq-18789 --ch status \
    --text "from the split daemon" >"$T/sent.json" 2>"$T/sent.err" || true
check "a send through the control socket (handed over by SCM_RIGHTS) is signed" \
    jq -e '.from == "pg1-18890" and (.sig | length) > 0' "$T/sent.json" \
    >/dev/null
check "the audit log is the monitor's" \
    bash -c '[ "$(stat -c %U "$1/log/audit.log")" = daemon ]' _ "$T"

# --- SIGHUP to a role's unit: passed on to the monitor, which reloads ---------
reloads() { grep -c 'SIGHUP: keyring and policy reloaded' "$T/router.log" ||
    true; }
reloaded() { [ "$(reloads)" -ge "$1" ]; }
for who in ROUTER INJECTOR; do
	n=$(reloads)
	kill -HUP "${!who}"
	check "SIGHUP to the $who: the monitor reloads" 	    wait_until reloaded $((n + 1))
	check "...and every role is alive" 	    kill -0 "$MON" "$ROUTER" "$INJECTOR"
done

# --- a dead role stops the monitor -------------------------------------------
kill -KILL "$ROUTER"
wait "$ROUTER" 2>/dev/null || true
rc=0; wait "$MON" || rc=$?
check "the monitor exits non-zero when the router dies" [ "$rc" -ne 0 ]
# the injector's link to the router closes at the same moment, so the
# monitor may hear of either first
check "...and said why" grep -Eq '(router|injector) closed its link; exiting' \
    "$T/monitor.log"
rc=0; wait "$INJECTOR" || rc=$?
check "the injector does not outlive it" [ "$rc" -ne 0 ]
check "the attach socket is gone" [ ! -e "$SOCK" ]

# --- SIGTERM: the monitor stops the attached roles (CAP_KILL, pidfd) ---------
# the units' order: the roles start first and wait for the socket
start_role router router2.log
ROUTER=$ROLE_PID
start_role injector injector2.log
INJECTOR=$ROLE_PID
check "roles started before the monitor wait for its socket" \
    wait_for "$T/router2.log" 'waiting for the monitor at'
start_monitor monitor2.log
check "...and attach once it listens" \
    wait_for "$T/router2.log" 'subscribed; ready'
wait_for "$T/monitor2.log" 'split mode: every role attached'
kill -TERM "$MON"
rc=0; wait "$MON" || rc=$?
check "SIGTERM stops the split monitor with status 0" [ "$rc" -eq 0 ]
rr=0; wait "$ROUTER" || rr=$?
ri=0; wait "$INJECTOR" || ri=$?
check "...after the router and the injector drained and exited 0" \
    [ "$rr" -eq 0 ] && [ "$ri" -eq 0 ]
check "...the router kept its window" grep -q 'stopped' "$T/router2.log"

finish
