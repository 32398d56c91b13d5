#!/usr/bin/env bash
# test_walkthrough.sh - hive-cli setup, and docs/operations.md's "Three
# nodes on one machine" run as written.
#
# First setup itself: what it makes (owners and modes, with stat), that
# hive-daemon -n and --check-policy accept it, the public key on
# stdout, and its refusals (a file that exists, a directory the daemon
# would refuse: exit 2, nothing changed).  Then the walk-through: the
# ```sh blocks of docs/operations.md whose first line is "# trial:
# NAME", each run by its own bash -e with the settings block in front,
# in the order printed.  Only the settings block's three documented
# placeholders are replaced (TRIAL, PORT, ECHO: our directory, a free
# port, the build tree's echo handler), and hive-cli and hive-daemon
# are the build tree's, first on PATH.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "# setup makes accounts and gives state_dir away: needs root; skipped"
	exit 77
fi
DOC="$HIVE_SRC/docs/operations.md"
export PATH="$HIVE_BIN:$PATH"

# --- setup ------------------------------------------------------------
# $T is mktemp's, 0700: the daemon's user (the router) must pass
# through it to reach state_dir, as setup checks
chmod 711 "$T"
mkdir -m 755 "$T/open"
R="$T/open/one/node-a"
"$CLI" setup --node node-a --broker 127.0.0.1:1884 --root "$R" \
    --prefix trial/hive >"$T/setup.out" 2>"$T/setup.err"
check "setup prints the node's .pub file on stdout" \
    cmp -s "$T/setup.out" "$R/etc/hive/keys/node-a.pub"
check "the key line is node-a's" grep -Eqx \
    'hive-ed25519 [A-Za-z0-9+/]{43}= node-a' "$T/setup.out"
check "setup names the next step on stderr" grep -Fq \
    "hive-daemon -c $R/etc/hive/hive.conf" "$T/setup.err"

# mode owner path, as the daemon checks them (docs/operations.md)
while read -r mode owner path; do
	got=$(stat -c '%a %U' "$R$path")
	check "setup: $path is $mode $owner" [ "$got" = "$mode $owner" ]
done <<'TREE'
755 root 
755 root /etc/hive
644 root /etc/hive/hive.conf
755 root /etc/hive/keys
644 root /etc/hive/keys/node-a.pub
700 root /etc/hive/secret
600 root /etc/hive/secret/node-a.key
755 root /etc/hive/policy
644 root /etc/hive/policy/hive.policy
755 root /etc/hive/policy/seccomp
644 root /etc/hive/policy/seccomp/strict
755 root /etc/hive/handlers.d
700 hive /var/lib/hive
700 root /var/log/hive
755 root /run/hive
755 root /var
TREE
check "the seccomp profiles are the shipped ones" \
    diff -r "$HIVE_SRC/policy/seccomp" "$R/etc/hive/policy/seccomp"
check "the handlers directory is empty" \
    [ -z "$(ls -A "$R/etc/hive/handlers.d")" ]
check "every path of hive.conf is under the root" [ -z "$(awk -v r="$R" \
    '$2 ~ /^\// && index($2, r "/") != 1' "$R/etc/hive/hive.conf")" ]
"$DAEMON" -n -c "$R/etc/hive/hive.conf" >"$T/n.out"
check "hive-daemon -n accepts it: pid_file under the root" grep -qx \
    "pid_file $R/run/hive/hive-daemon.pid" "$T/n.out"
check "... the broker and prefix given" grep -qx "port 1884" "$T/n.out"
check "... prefix" grep -qx "prefix trial/hive" "$T/n.out"
rc=0
"$DAEMON" --check-policy -c "$R/etc/hive/hive.conf" >/dev/null || rc=$?
check "hive-daemon --check-policy accepts it" [ "$rc" -eq 0 ]
"$CLI" policy explain -c "$R/etc/hive/hive.conf" --from node-b --ch command \
    >"$T/explain" 2>&1 || true
check "the policy it writes denies commands" grep -qi deny "$T/explain"

before=$(sha256sum "$R/etc/hive/secret/node-a.key" "$R/etc/hive/hive.conf")
rc=0
"$CLI" setup --node node-a --broker 127.0.0.1 --root "$R" >/dev/null \
    2>"$T/again.err" || rc=$?
check "setup again: exit 2" [ "$rc" -eq 2 ]
check "... says it refuses to overwrite" grep -q \
    'hive.conf exists; refusing to overwrite' "$T/again.err"
check "... the key and hive.conf are untouched" [ "$(sha256sum \
    "$R/etc/hive/secret/node-a.key" "$R/etc/hive/hive.conf")" = "$before" ]

# a directory the daemon would refuse: setup stops before making anything
mkdir -p "$T/open/bad/var/lib/hive"
chmod 755 "$T/open/bad" "$T/open/bad/var" "$T/open/bad/var/lib" \
    "$T/open/bad/var/lib/hive"
rc=0
"$CLI" setup --node node-b --broker 127.0.0.1 --root "$T/open/bad" >/dev/null \
    2>"$T/bad.err" || rc=$?
check "a state_dir of mode 0755: exit 2" [ "$rc" -eq 2 ]
check "... naming it and the mode" grep -q \
    "$T/open/bad/var/lib/hive: mode 0755" "$T/bad.err"
check "... nothing made" [ ! -e "$T/open/bad/etc" ]
# under a directory the daemon's user cannot pass
mkdir -m 700 "$T/shut"
rc=0
"$CLI" setup --node node-b --broker 127.0.0.1 --root "$T/shut/node-b" \
    >/dev/null 2>"$T/shut.err" || rc=$?
check "a root the daemon's user cannot reach: exit 2" [ "$rc" -eq 2 ]
check "... naming the directory that stops it" grep -q \
    "^hive-cli: $T/shut: mode 0700; hive (the daemon's user) cannot reach" \
    "$T/shut.err"
check "... nothing made" [ -z "$(ls -A "$T/shut")" ]
rc=0
"$CLI" setup --node all --broker 127.0.0.1 --root "$T/x" 2>/dev/null || rc=$?
check "a reserved node id: exit 2" [ "$rc" -eq 2 ]
rc=0
"$CLI" setup --node node-c --broker 127.0.0.1 --root "$T/y" \
    --username u 2>/dev/null || rc=$?
check "--username without --password-file: exit 2" [ "$rc" -eq 2 ]

# --- the walk-through -------------------------------------------------
# trial_blocks: each "# trial: NAME" block of the document into
# $T/blocks/NN, its name into $T/blocks/NN.name
mkdir "$T/blocks"
awk -v dir="$T/blocks" '
	/^```sh$/ { fence = 1; next }
	fence && /^# trial: / { n++; f = sprintf("%s/%02d", dir, n);
		sub(/^# trial: /, ""); print > (f ".name"); close(f ".name");
		body = 1; fence = 0; next }
	{ fence = 0 }
	body && /^```$/ { body = 0; close(f); next }
	body { print > f }
' "$DOC"
names=$(cat "$T"/blocks/*.name | tr '\n' ',')
check "the document has the trial's blocks, in order" [ "$names" = \
    "settings,broker,setup,keys,handler,start,round trip,reload,stop one,restart,stop all," ]

TRIAL="$T/open/trial"
# settings: only the documented placeholders change
settings="$T/blocks/01"
check "settings sets TRIAL, PORT and ECHO" [ "$(grep -Ec \
    '^(TRIAL|PORT|ECHO)=' "$settings")" -eq 3 ]
set_settings() {	# set_settings PORT
	sed -E -e "s|^TRIAL=[^ ]*|TRIAL=$TRIAL|" -e "s|^PORT=[^ ]*|PORT=$1|" \
	    -e "s|^ECHO=[^ ]*|ECHO=$HIVE_BIN/handlers.d/echo|" \
	    "$T/blocks/01" >"$T/settings.sh"
}
# run_block NN [SECONDS]: the block after the settings, output in
# $T/out.NN; its exit status
run_block() {
	cat "$T/settings.sh" "$T/blocks/$1" >"$T/run.$1.sh"
	timeout "${2:-60}" bash -e "$T/run.$1.sh" >"$T/out.$1" 2>&1
}
# cleanup of what the trial started, whatever happened to it
trial_stop() {
	local f
	for f in "$TRIAL"/node*/run/hive/hive-daemon.pid "$TRIAL/mosquitto.pid"; do
		[ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
	done
	wait_until_s 20 trial_gone || true
}
trial_gone() {
	local f
	for f in "$TRIAL"/node*/run/hive/hive-daemon.pid; do
		[ -e "$f" ] && return 1
	done
	! { [ -e "$TRIAL/mosquitto.pid" ] &&
	    kill -0 "$(cat "$TRIAL/mosquitto.pid")" 2>/dev/null; }
}
trap 'rc_=$?; trial_stop; (exit $rc_); cleanup' EXIT

# a free port: the broker block fails (timeout) when mosquitto cannot
# bind; another port then, as scripts/broker.sh does
started=0
for try in 1 2 3 4 5 6 7 8; do
	set_settings $((20000 + RANDOM % 40000))
	if run_block 02 10; then
		started=1
		break
	fi
	trial_stop
	rm -rf "$TRIAL"
done
check "broker block: mosquitto running" [ "$started" -eq 1 ]

check "setup block" run_block 03
for n in 1 2 3; do
	check "setup printed node$n's key line" grep -Eqx \
	    "hive-ed25519 [A-Za-z0-9+/]{43}= node$n" "$T/out.03"
done
check "keys block" run_block 04
check "node1 trusts node2 and node3" [ "$(ls "$TRIAL/node1/etc/hive/keys")" = \
    "$(printf 'node1.pub\nnode2.pub\nnode3.pub')" ]
check "handler block (check-policy passes)" run_block 05
check "start block: three daemons ready" run_block 06

check "round trip block: send --wait answered" run_block 07
check "the answer is node2's echo of hello" grep -Eq \
    '"from":"node2".*"text":"\{\\"text\\":\\"hello\\"' "$T/out.07"
for n in 1 2 3; do
	check "status lists node$n" grep -Eq "^node$n +online " "$T/out.07"
done

monitor2=$(cat "$TRIAL/node2/run/hive/hive-daemon.pid")
check "reload block: reloaded, node3's echo answered" run_block 08
check "the reload said so" grep -q 'SIGHUP sent' "$T/out.08"
check "node2's monitor lived through the reload" kill -0 "$monitor2"
check "... the same one" [ "$(cat "$TRIAL/node2/run/hive/hive-daemon.pid")" \
    = "$monitor2" ]
check "node3's answer came from node2" grep -Eq \
    '"from":"node2".*again' "$T/out.08"

check "stop one block" run_block 09
check "node3 stopped" [ ! -e "$TRIAL/node3/run/hive/hive-daemon.pid" ]
check "status shows node3 stopped" grep -Eq "^node3 +stopped " "$T/out.09"
check "status shows node1 online" grep -Eq "^node1 +online " "$T/out.09"

check "restart block: node3 online again" run_block 10
check "no alert about node3's planned restart" \
    grep -qx 'no alert about node3' "$T/out.10"
check "node1 watches node3 (its policy takes node3's alerts)" \
    grep -q 'allow from node3 ch alert' "$TRIAL/node1/etc/hive/policy/hive.policy"

check "stop all block" run_block 11
check "every daemon and the broker stopped" wait_until trial_gone
for n in 1 2 3; do
	check "node$n exited cleanly" grep -q 'monitor: info: stopped' \
	    "$TRIAL/node$n.log"
done

finish
