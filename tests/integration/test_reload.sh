#!/usr/bin/env bash
# test_reload.sh - reloading and stopping hive-daemon the way the docs
# say: the pid file (pid_file) holds the monitor's pid while it runs and
# is gone after SIGTERM; "hive-cli reload" and the documented kill -HUP
# line reload it and it stays up; a SIGHUP sent to the router or to an
# injector (they carry the monitor's program name) is passed on to the
# monitor, which reloads, and nothing dies; a second daemon with the same
# pid_file refuses to start; a stale pid file is never signalled.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_broker
gen_node pg1-18890
chmod 755 "$T" "$T/keys"	# the router re-reads the keyring on SIGHUP
PIDFILE="$T/pg1/run/hive-daemon.pid"	# box_conf's pid_file
CONF="$T/pg1/hive.conf"
LOG="$T/pg1/daemon.log"
setup_box pg1 pg1-18890 ""
start_box pg1
DPID=${PIDS[-1]}

reloads() { grep -c 'SIGHUP: keyring and policy reloaded' "$LOG" || true; }
reloaded() { [ "$(reloads)" -ge "$1" ]; }
alive() { kill -0 "$1" 2>/dev/null; }
serves() { "$CLI" status -c "$CONF" >"$T/status.out" 2>&1; }
# child_pid ROLE: the monitor's child re-executed with -P ROLE
child_pid() {
	local p cmd ppid
	for p in /proc/[0-9]*; do
		ppid=$(awk '{ print $4 }' "$p/stat" 2>/dev/null) || continue
		[ "$ppid" = "$DPID" ] || continue
		cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		if [[ $cmd == *" -P $1 "* ]]; then
			echo "${p#/proc/}"
			return 0
		fi
	done
	return 1
}

# --- the pid file ---------------------------------------------------------
check "the pid file exists while the daemon runs" [ -f "$PIDFILE" ]
check "...holding the monitor's pid" [ "$(cat "$PIDFILE")" = "$DPID" ]
check "...mode 0644" [ "$(stat -c %a "$PIDFILE")" = 644 ]
check "...and no temporary file is left beside it" \
    [ "$(find "$T/pg1/run" -name 'hive-daemon.pid.*' | wc -l)" -eq 0 ]
check "hive-daemon -n prints pid_file" \
    grep -qx "pid_file $PIDFILE" <("$DAEMON" -n -c "$CONF")

# --- hive-cli reload ----------------------------------------------------
n=$(reloads)
rc=0; "$CLI" reload -c "$CONF" >"$T/reload.out" 2>&1 || rc=$?
check "hive-cli reload -c CONF exits 0" [ "$rc" -eq 0 ]
check "...the daemon reloads" wait_until reloaded $((n + 1))
check "...and stays alive and serving" bash -c "kill -0 $DPID && \"\$0\" status -c \"\$1\" >/dev/null" "$CLI" "$CONF"
rc=0; "$CLI" reload --pid-file "$PIDFILE" >/dev/null 2>&1 || rc=$?
check "hive-cli reload --pid-file F exits 0" [ "$rc" -eq 0 ]
check "...the daemon reloads" wait_until reloaded $((n + 2))

# --- SIGHUP to the router and to an injector ----------------------------------
ROUTER=$(child_pid router) || ROUTER=
INJECTOR=$(child_pid injector) || INJECTOR=
check "the router is found (a child with -P router)" [ -n "$ROUTER" ]
check "an injector is found (a child with -P injector)" [ -n "$INJECTOR" ]
for role in router injector; do
	if [ "$role" = router ]; then p=$ROUTER; else p=$INJECTOR; fi
	[ -n "$p" ] || continue
	n=$(reloads)
	kill -HUP "$p"
	check "SIGHUP to the $role: passed on, the daemon reloads" \
	    wait_until reloaded $((n + 1))
	check "...the $role is alive" alive "$p"
	check "...the monitor is alive" alive "$DPID"
	check "...and the daemon serves (hive-cli status)" serves
done
check "the router and the injector say they passed SIGHUP on" \
    [ "$(grep -c 'SIGHUP: passed on to the monitor' "$LOG")" -ge 2 ]
check "nothing said it exits" \
    bash -c '! grep -q "exiting so the service manager\|died\|killed by" "$1"' \
    _ "$LOG"

# a pid file that names the router is not the monitor's: never signalled
echo "$ROUTER" >"$T/router.pid"
rc=0; "$CLI" reload --pid-file "$T/router.pid" 2>"$T/reload-router.err" ||
    rc=$?
check "hive-cli reload refuses a pid that is a child role (exit 3)" \
    [ "$rc" -eq 3 ]
check "...and the router is alive" alive "$ROUTER"

# --- the documented lines, as written -------------------------------------
# every "hive-cli reload" and "kill -HUP" line of the docs, with the
# default paths replaced by this box's; those of the trial on one
# machine (docs/operations.md, paths under $TRIAL) are run by
# test_walkthrough.sh, with the rest of their walk-through
docs=("$HIVE_SRC/handlers.d/README.md" "$HIVE_SRC/docs/operations.md")
grep -hE '^[[:space:]]*(hive-cli reload|kill -HUP)' "${docs[@]}" |
    grep -vF '$TRIAL' |
    sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*#.*$//' | sort -u \
    >"$T/documented"
check "the docs give a hive-cli reload line" \
    grep -q '^hive-cli reload' "$T/documented"
check "the docs give a kill -HUP line with the pid file" \
    grep -qF 'kill -HUP "$(cat /run/hive/hive-daemon.pid)"' "$T/documented"
check "no doc signals what pidof finds" \
    bash -c '! grep -rn "kill.*pidof\|systemctl reload hive\( \|$\)" "$@"' _ \
    "${docs[@]}" "$HIVE_SRC/docs" "$HIVE_SRC/README.md" "$HIVE_SRC/skills" \
    "$HIVE_SRC/policy" "$HIVE_SRC/systemd"
while IFS= read -r line; do
	cmd=${line//\/run\/hive\/hive-daemon.pid/$PIDFILE}
	cmd=${cmd//\/etc\/hive\/hive.conf/$CONF}
	cmd=${cmd/#hive-cli /\"\$CLI\" }
	n=$(reloads)
	rc=0; CLI=$CLI bash -c "set -e; $cmd" >/dev/null 2>&1 || rc=$?
	check "documented: '$line' exits 0" [ "$rc" -eq 0 ]
	check "...the daemon reloads" wait_until reloaded $((n + 1))
	check "...and is alive" alive "$DPID"
done <"$T/documented"

# --- one daemon per pid_file ------------------------------------------------
rc=0; "$DAEMON" -f -c "$CONF" 2>"$T/second.log" || rc=$?
check "a second daemon with the same pid_file refuses to start" \
    [ "$rc" -ne 0 ]
check "...saying which pid runs" \
    grep -q "hive-daemon is running as pid $DPID" "$T/second.log"
check "...and the first keeps its control socket" serves
check "...and its pid file" [ "$(cat "$PIDFILE")" = "$DPID" ]

# --- SIGTERM: the pid file goes ------------------------------------------------
kill -TERM "$DPID"
rc=0; wait "$DPID" || rc=$?
check "SIGTERM: the daemon exits 0" [ "$rc" -eq 0 ]
check "...and removes its pid file" [ ! -e "$PIDFILE" ]
rc=0; "$CLI" reload -c "$CONF" 2>"$T/reload-stopped.err" || rc=$?
check "hive-cli reload with the daemon stopped: exit 3" [ "$rc" -eq 3 ]

# --- a stale pid file -------------------------------------------------------
echo $$ >"$PIDFILE"	# this shell: alive, and not hive-daemon
rc=0; "$CLI" reload -c "$CONF" 2>"$T/reload-stale.err" || rc=$?
check "hive-cli reload with a stale pid file: exit 3, nothing signalled" \
    [ "$rc" -eq 3 ]
check "...saying it is stale" grep -q 'stale pid file' "$T/reload-stale.err"
mv "$LOG" "$T/pg1/daemon-first.log"	# start_box writes a new one
start_box pg1
DPID=${PIDS[-1]}
check "a stale pid file is replaced at start" [ "$(cat "$PIDFILE")" = "$DPID" ]

finish
