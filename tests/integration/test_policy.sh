#!/usr/bin/env bash
# test_policy.sh - hive-daemon --check-policy and hive-cli policy explain
# on the shipped example policy, as an operator meets them (no broker).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DAEMON="$HIVE_BIN/hive-daemon"
mkdir -m 755 "$T/pol" "$T/pol2" "$T/keys" "$T/pol/seccomp" "$T/pol2/seccomp"
# the profiles themselves belong to the handler sandbox; here they
# only need to exist
for p in default nonet strict; do
	: >"$T/pol/seccomp/$p"
	: >"$T/pol2/seccomp/$p"
done
cat >"$T/hive.conf" <<CONF
node turq-18789,mini1-18889
user $DUSER
keys $T/keys
policy_dir $T/pol
openclaw_port auto
CONF
chmod 600 "$T/hive.conf"
sed "s|$T/pol|$T/pol2|" "$T/hive.conf" >"$T/hive2.conf"
chmod 600 "$T/hive2.conf"

rc=0; "$DAEMON" --check-policy -c "$T/hive.conf" >"$T/out" 2>"$T/err" || rc=$?
check "a missing policy file is an error (exit 1)" [ "$rc" -eq 1 ]
check "... that names the file" grep -qx \
    "hive-daemon: $T/pol/hive.policy: no policy file" "$T/err"

install -m 644 "$HIVE_SRC/policy/hive.policy" "$T/pol/hive.policy"
rm "$T/pol/seccomp/default"
rc=0; "$DAEMON" --check-policy -c "$T/hive.conf" >"$T/out" 2>"$T/err" || rc=$?
check "a handler block's seccomp profile must exist" [ "$rc" -eq 1 ] && \
    grep -q "hive.policy:[0-9]*: seccomp profile 'default': .* is not a regular file" "$T/err"
: >"$T/pol/seccomp/default"
rc=0; "$DAEMON" --check-policy -c "$T/hive.conf" >"$T/out" 2>"$T/err" || rc=$?
check "the shipped example policy checks (exit 0)" [ "$rc" -eq 0 ]
check "the printout has every local instance" \
    grep -qx 'instance mini1-18889 {' "$T/out"
check "the printout lists the handler defaults" \
    grep -qx '#	timeout 30s' "$T/out"
install -m 644 "$T/out" "$T/pol2/hive.policy"
"$DAEMON" --check-policy -c "$T/hive2.conf" >"$T/out2"
check "the printout parses back to the same printout" cmp -s "$T/out" "$T/out2"

printf 'max-handlers 2\n\nallow from * ch bogus\n' >"$T/pol2/hive.policy"
rc=0; "$DAEMON" --check-policy -c "$T/hive2.conf" >"$T/out" 2>"$T/err" || rc=$?
check "a bad line: exit 1" [ "$rc" -eq 1 ]
check "... with FILE:LINE: why" grep -qx \
    "hive-daemon: $T/pol2/hive.policy:3: unknown channel 'bogus'" "$T/err"
check "... and nothing on stdout" [ ! -s "$T/out" ]
printf 'max-handlers 2\n' >"$T/pol2/hive.policy"
chmod 664 "$T/pol2/hive.policy"
rc=0; "$DAEMON" --check-policy -c "$T/hive2.conf" 2>"$T/err" >/dev/null || rc=$?
check "a group-writable policy is refused" [ "$rc" -eq 1 ] && \
    grep -q 'writable by group or others' "$T/err"
chmod 644 "$T/pol2/hive.policy"
"$CLI" policy explain -c "$T/hive2.conf" --from a --ch status >"$T/v"
check "explain: the built-in rate says default" \
    grep -qx 'rate	20/s burst 100 (default)' "$T/v"
rm -rf "$T/keys"
rc=0; "$DAEMON" --check-policy -c "$T/hive.conf" 2>"$T/err" >/dev/null || rc=$?
check "an unreadable keyring is an error too" [ "$rc" -eq 1 ]
mkdir -m 755 "$T/keys"

grep -v '^node ' "$T/hive.conf" >"$T/hive3.conf"
chmod 600 "$T/hive3.conf"
rc=0; "$DAEMON" --check-policy -c "$T/hive3.conf" 2>"$T/err" >/dev/null || rc=$?
check "a configuration without node is an error" [ "$rc" -eq 1 ] && \
    grep -qx "hive-daemon: $T/hive3.conf: configuration names no 'node'" "$T/err"

x() { "$CLI" policy explain -c "$T/hive.conf" "$@"; }
rc=0; x --from turq-18789 --ch command --action git-sync >"$T/v" || rc=$?
check "explain: the master may run git-sync (exit 0)" [ "$rc" -eq 0 ]
line=$(grep -n '^allow from @masters ch command$' "$T/pol/hive.policy" | cut -d: -f1)
check "... and names the deciding line" grep -qx \
    "allow	hive.policy:$line: allow from @masters ch command" "$T/v"
check "... and the sender's rate with its line" grep -Eqx \
    'rate	50/s burst 500 \(hive.policy:[0-9]+\)' "$T/v"
rc=0; x --from turq-18789 --ch command --action reboot >"$T/v" || rc=$?
check "explain: a reboot is denied to everyone (exit 1)" [ "$rc" -eq 1 ] && \
    grep -q '^deny	hive.policy:[0-9]*: deny from \* ch command action reboot$' "$T/v"
rc=0; x --from stranger --ch sync >"$T/v" || rc=$?
check "explain: the built-in default for sync" [ "$rc" -eq 1 ] && \
    grep -qx 'deny	default: sync needs an allow rule' "$T/v"
check "explain: the fallback rate names its line" grep -Eqx \
    'rate	20/s burst 100 \(hive.policy:[0-9]+\)' "$T/v"
rc=0; x --from stranger --ch heartbeat >"$T/v" || rc=$?
check "explain: heartbeats are allowed by default" [ "$rc" -eq 0 ] && \
    grep -qx 'allow	default: heartbeat allowed' "$T/v"
rc=0; x --from stranger --ch nope 2>/dev/null || rc=$?
check "explain: a bad channel is a usage error (exit 2)" [ "$rc" -eq 2 ]
rc=0; x --ch command 2>/dev/null || rc=$?
check "explain: --from is required (exit 2)" [ "$rc" -eq 2 ]
rc=0; "$CLI" policy explain -c "$T/hive2.conf" --from a --ch alert >/dev/null \
    2>/dev/null || rc=$?
check "explain: alert needs an allow rule (exit 1)" [ "$rc" -eq 1 ]
rm "$T/pol2/hive.policy"
rc=0; "$CLI" policy explain -c "$T/hive2.conf" --from a --ch alert 2>"$T/err" \
    >/dev/null || rc=$?
check "explain: no policy file is exit 2" [ "$rc" -eq 2 ] && \
    grep -q 'no policy file' "$T/err"
# --- who a handler may not be: refused with FILE:LINE ---------------------
# (hive.conf's user is $DUSER; the instances default to it)
rejects() {	# rejects DESCRIPTION LINE REGEX: pol2/hive.policy refused there
	local rc=0
	"$DAEMON" --check-policy -c "$T/hive2.conf" >"$T/out" 2>"$T/err" || rc=$?
	check "$1: exit 1" [ "$rc" -eq 1 ]
	check "...naming $T/pol2/hive.policy:$2" grep -Eq \
	    "^hive-daemon: $T/pol2/hive.policy:$2: $3" "$T/err"
}
printf 'max-handlers 2\n\nhandler x {\n\tuser root\n}\n' \
    >"$T/pol2/hive.policy"
rejects "a handler as root" 3 "handler x: user 'root' runs as root"
printf 'handler y {\n\tuser %s\n}\n' "$DUSER" >"$T/pol2/hive.policy"
rejects "a handler as the daemon's user" 1 \
    "handler y: user '$DUSER' runs as uid [0-9]+, hive.conf's user"
printf 'instance turq-18789 {\n\tuser daemon\n}\nhandler z {\n\tuser daemon\n}\n' \
    >"$T/pol2/hive.policy"
rejects "a handler as an instance's user" 4 \
    "handler z: user 'daemon' runs as uid 1, the user of instance turq-18789"
rc=0; "$CLI" policy explain -c "$T/hive2.conf" --from a --ch alert \
    >/dev/null 2>"$T/err" || rc=$?
check "...and policy explain refuses it too" [ "$rc" -eq 2 ] && \
    grep -q 'handler z: user .daemon. runs as uid 1' "$T/err"
printf 'instance turq-18789 {\n\tuser daemon\n}\nhandler z {\n\tuser bin\n}\n' \
    >"$T/pol2/hive.policy"
check "a handler with an account of its own passes" \
    "$DAEMON" --check-policy -c "$T/hive2.conf" >/dev/null

# --- the policy file and its directory -------------------------------------
rm "$T/pol2/hive.policy"
mkfifo -m 644 "$T/pol2/hive.policy"
rc=0; timeout 10 "$DAEMON" --check-policy -c "$T/hive2.conf" >/dev/null \
    2>"$T/err" || rc=$?
check "a FIFO for hive.policy: refused at once, not waited on (rc $rc)" \
    [ "$rc" -eq 1 ]
check "...as not a regular file" grep -qx \
    "hive-daemon: $T/pol2/hive.policy: not a regular file" "$T/err"
rc=0; timeout 10 "$DAEMON" -f -c "$T/hive2.conf" >/dev/null 2>"$T/err" ||
    rc=$?
check "...and the daemon does not start on it (rc $rc)" [ "$rc" -eq 2 ] &&
    grep -q 'hive.policy: not a regular file' "$T/err"
rm "$T/pol2/hive.policy"
printf 'max-handlers 2\n' >"$T/real.policy"
chmod 644 "$T/real.policy"
ln -s "$T/real.policy" "$T/pol2/hive.policy"
rc=0; "$DAEMON" --check-policy -c "$T/hive2.conf" >/dev/null 2>"$T/err" ||
    rc=$?
check "a symbolic link for hive.policy is refused" [ "$rc" -eq 1 ] && \
    grep -qx "hive-daemon: $T/pol2/hive.policy: a symbolic link; refusing" \
    "$T/err"
rm "$T/pol2/hive.policy"
install -m 644 "$T/real.policy" "$T/pol2/hive.policy"
chmod 777 "$T/pol2"
rc=0; "$DAEMON" --check-policy -c "$T/hive2.conf" >/dev/null 2>"$T/err" ||
    rc=$?
check "a world-writable policy_dir is refused, as keys/ is" [ "$rc" -eq 1 ] && \
    grep -qx "hive-daemon: $T/pol2: not owned by root (or us), or group/world writable; refusing" \
    "$T/err"
chmod 755 "$T/pol2"
check "...and accepted once it is not" \
    "$DAEMON" --check-policy -c "$T/hive2.conf" >/dev/null
finish
