#!/usr/bin/env bash
# test_handler_identity.sh - a handler is never the daemon (docs/policy.md,
# "Who a handler runs as"; docs/configuration.md, state_dir):
#   - a handler found without a block, whose default user (nobody) is
#     hive.conf's user, stops --check-policy and the daemon's start;
#   - state_dir, log_dir and secret_dir open to others, owned by a
#     handler's uid, or under a directory others may write: the same;
#   - a hostile handler (tests/handlers/hostile_state.c) run by the
#     daemon cannot plant an injection journal entry, write state_dir,
#     read the window, the audit log or a secret key, add a key to the
#     keyring, or signal the router, the injector or the monitor.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_root_for_handlers

start_broker
gen_node turq-18789
gen_node pg1-18890
chmod 755 "$T"

setup_sender_box turq turq-18789
setup_handler_box pg1 pg1-18890
mkdir -m 755 "$T/tools"
install -m 755 "$HIVE_BIN/tests/handlers/hostile-state" "$T/tools/"
: >"$T/pg1/pids"
chmod 644 "$T/pg1/pids"
# no handler block: it runs as the default user, nobody
printf '#!/bin/sh\nexec %s %s %s %s %s %s\n' "$T/tools/hostile-state" \
    "$T/pg1/state" "$T/pg1/log/audit.log" "$T/pg1/secret/pg1-18890.key" \
    "$T/keys" "$T/pg1/pids" >"$T/pg1/handlers/intruder"
chmod 755 "$T/pg1/handlers/intruder"

# --- refused before anything runs ------------------------------------------
refused() {	# refused DESCRIPTION CONF REGEX: --check-policy and start
	local rc=0
	"$DAEMON" --check-policy -c "$2" >/dev/null 2>"$T/check.err" || rc=$?
	check "$1: --check-policy exits 1" [ "$rc" -eq 1 ]
	check "...saying why" grep -Eq -- "$3" "$T/check.err"
	rc=0
	timeout 30 "$DAEMON" -f -c "$2" 2>"$T/start.err" || rc=$?
	check "...and the daemon does not start (rc $rc)" \
	    test "$rc" -ne 0 -a "$rc" -ne 124
	check "...saying why" grep -Eq -- "$3" "$T/start.err"
}
sed 's/^user .*/user nobody/' "$T/pg1/hive.conf" >"$T/pg1/nobody.conf"
chmod 600 "$T/pg1/nobody.conf"
refused "hive.conf's user is the default handler user" "$T/pg1/nobody.conf" \
    "handlers: intruder: no handler block, so the default user 'nobody' runs as uid $(id -u nobody), hive.conf's user 'nobody' \(the router's\); a handler needs an account of its own"

mkdir -p "$T/pg1/state" "$T/pg1/log"	# made by the refused start above
chown "$DUSER" "$T/pg1/state"
chmod 755 "$T/pg1/state"
refused "state_dir open to others" "$T/pg1/hive.conf" \
    "$T/pg1/state: mode 0755, open to group or others; refusing"
chmod 700 "$T/pg1/state"
chown nobody "$T/pg1/log"
refused "log_dir owned by a handler's uid" "$T/pg1/hive.conf" \
    "$T/pg1/log: owned by uid $(id -u nobody), not root, us or hive.conf's user"
chown root "$T/pg1/log"
chmod 777 "$T/pg1"
refused "state_dir under a directory anyone may write" "$T/pg1/hive.conf" \
    "$T/pg1/(state|log|secret): its parent $T/pg1 is writable by someone other"
chmod 755 "$T/pg1"

# --- a hostile handler against a running daemon -----------------------------
start_box turq
start_box pg1
MON=${PIDS[-1]}
role_pid() {	# role_pid ROLE: the monitor's child running -P ROLE
	ps -o pid=,args= --ppid "$MON" | awk -v r="$1" \
	    '{ for (i = 2; i < NF; i++) if ($i == "-P" && $(i + 1) == r) print $1 }'
}
# an injector forked just before the router may not have exec'd yet
roles_up() { ROUTER=$(role_pid router) && INJECTOR=$(role_pid injector) &&
    [ -n "$ROUTER" ] && [ -n "$INJECTOR" ]; }
wait_until roles_up || true
printf 'router %s\ninjector %s\nmonitor %s\n' "$ROUTER" "$INJECTOR" "$MON" \
    >"$T/pg1/pids"
check "the roles are found (router $ROUTER, injector $INJECTOR)" \
    test -n "$ROUTER" -a -n "$INJECTOR"

rc=0
"$CLI" send --socket "$T/turq/run/hive.sock" --to pg1-18890 --ch command \
    --action intruder --text "go" --wait 20 >"$T/intruder.out" \
    2>"$T/intruder.err" || rc=$?
check "the hostile handler ran and answered (rc $rc)" [ "$rc" -eq 0 ]
jq -r '.text | fromjson' "$T/intruder.out" >"$T/attempts.json" || true
tried() {	# tried KEY ERRNO: that attempt failed with ERRNO
	check "$3: $2" [ "$(jq -r ".$1" "$T/attempts.json")" = "$2" ]
}
tried journal EACCES "planting an injection journal entry"
tried state EACCES "writing state_dir"
tried window EACCES "reading the replay window"
tried audit EACCES "reading the audit log"
tried secret EACCES "reading the node secret key"
tried keyring EACCES "adding a key to the keyring"
tried router EPERM "signalling the router"
tried injector EPERM "signalling the injector"
tried monitor EPERM "signalling the monitor"
check "nothing was planted in the journal" \
    [ ! -e "$T/pg1/state/inject/00000000deadbeef" ]
check "...nor in the keyring" [ ! -e "$T/keys/evil.pub" ]
check "the router, the injector and the monitor still run" \
    kill -0 "$ROUTER" "$INJECTOR" "$MON"
again() {
	"$CLI" send --socket "$T/turq/run/hive.sock" --to pg1-18890 \
	    --ch command --action intruder --text "again" --wait 20 \
	    >/dev/null 2>&1
}
check "...and the daemon still answers" again
finish
