#!/usr/bin/env bash
# test_example_handlers.sh - the example handlers of handlers.d/, each
# run by a real daemon pair over a real mosquitto broker, under the
# handler blocks policy/hive.policy ships for them (seccomp enforcing):
#   turq  serves turq-18789 (the sender)
#   pg1   serves pg1-18890, with handlers.d/* installed
# echo, ping and health-check through `hive-cli send --action X --wait`;
# git-sync against a local bare repository and two clones (file://, no
# network needed), as a command and as a sync, and a workspace that
# fails; check-services against a local HTTP server that is up and a
# port that is not, as a command and as the sentinel that wakes the
# agent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_root_for_handlers

start_broker
gen_node turq-18789
gen_node pg1-18890
chmod 755 "$T"

setup_sender_box turq turq-18789
setup_handler_box pg1 pg1-18890

# --- the shipped handler blocks, as they are ------------------------------
# but for the schedules: git-sync runs only when asked (its hourly run
# would race the checks), check-services every 10 s from the start.
blocks() {
	awk '/^handler [a-z0-9_-]+ \{/ { on = 1 } on { print } /^\}/ { on = 0 }' \
	    "$HIVE_SRC/policy/hive.policy"
}
{
	echo "allow from turq-18789 ch command"
	echo "allow from turq-18789 ch sync"
	echo "allow from * ch alert"
	blocks | sed -e '/^handler git-sync {/,/^}/{/^[[:space:]]*\(every\|jitter\)[[:space:]]/d}' \
	    -e '/^handler check-services {/,/^}/{s/^\([[:space:]]*every\)[[:space:]].*/\1 10s/;s/^\([[:space:]]*jitter\)[[:space:]].*/\1 0s/}'
} >"$T/pg1/policy/hive.policy"
for h in echo ping health-check git-sync check-services; do
	grep -q "^handler $h {" "$T/pg1/policy/hive.policy" ||
	    fail "policy/hive.policy has a block for $h"
done

# --- the handlers, their configuration at paths under $V ------------------
# git-sync and check-services run with a private /tmp (their blocks say
# so), where $T is not: what they read lives in $V, under /var/tmp.
V=$(mktemp -d /var/tmp/hive-ex.XXXXXX)
chmod 755 "$V"
trap 'cleanup; if [ -d "$T" ]; then echo "and in $V" >&2; else rm -rf "$V"; fi' EXIT
# The CONF= line is the one place a handler's configuration path is
# chosen; the installed copy is edited, as an operator would.
install -m 755 "$HIVE_BIN"/handlers.d/echo "$HIVE_SRC"/handlers.d/ping \
    "$HIVE_SRC"/handlers.d/health-check "$T/pg1/handlers/"
for h in git-sync check-services; do
	sed "s|^CONF=.*|CONF=$V/$h.conf|" "$HIVE_SRC/handlers.d/$h" \
	    >"$T/pg1/handlers/$h"
	chmod 755 "$T/pg1/handlers/$h"
done

# git: a bare origin and two clones, owned by nobody (the handler's
# user; git refuses repositories of other users).  Our own git runs as
# root with a private global configuration that trusts them.
export GIT_CONFIG_GLOBAL="$V/gitconfig" GIT_CONFIG_NOSYSTEM=1
printf '[safe]\n\tdirectory = *\n[user]\n\temail = t@example.org\n\tname = t\n' \
    >"$GIT_CONFIG_GLOBAL"
G=$V/git
mkdir -m 755 "$G"
git init -q --bare -b main "$G/origin.git"
git clone -q "file://$G/origin.git" "$G/author" 2>/dev/null
git -C "$G/author" commit -q --allow-empty -m one
git -C "$G/author" push -q origin main
for w in ws1 ws2; do git clone -q "file://$G/origin.git" "$G/$w"; done
chown -R nobody "$G/origin.git" "$G/ws1" "$G/ws2"
printf '# workspaces to keep in sync\n%s\n\n%s\n' "$G/ws1" "$G/ws2" \
    >"$V/git-sync.conf"
chmod 644 "$V/git-sync.conf"

# an HTTP server that is up, and a port where nothing listens
mkdir -m 755 "$T/www"
echo up >"$T/www/index.html"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$T/www" \
    >"$T/http.out" 2>"$T/http.err" &
PIDS+=("$!")
wait_for "$T/http.out" '^Serving HTTP on 127\.0\.0\.1 port [0-9]+'
HTTP_PORT=$(sed -n 's/^Serving HTTP on 127\.0\.0\.1 port \([0-9]*\).*/\1/p' \
    "$T/http.out")
UP_URL="http://127.0.0.1:$HTTP_PORT/"
DOWN_URL="http://127.0.0.1:1/"
printf '# services\nurl %s\nurl %s\n' "$UP_URL" "$DOWN_URL" \
    >"$V/check-services.conf"
chmod 644 "$V/check-services.conf"

# --- the daemon accepts them, each with the profile its block names -------
"$DAEMON" --check-policy -c "$T/pg1/hive.conf" >"$T/check.out" 2>&1 || true
for hp in echo:strict ping:strict health-check:strict git-sync:default \
    check-services:default; do
	check "--check-policy: handler ${hp%%:*} under seccomp ${hp#*:}" \
	    grep -qx "# handler ${hp%%:*} (seccomp ${hp#*:})" "$T/check.out"
done

start_box turq
start_box pg1
wait_for "$T/pg1/daemon.log" 'start: 5 handler\(s\)'
TURQ=(--socket "$T/turq/run/hive.sock")
send() { "$CLI" send "${TURQ[@]}" --to pg1-18890 "$@"; }
# result FILE JQ: JQ applied to the handler's result in a response
result() { jq -r -c ".text | fromjson | $2" "$1"; }
# ask ACTION [ARGS...]: a command with --wait, the response in $T/ACTION.out
ask() {
	local a=$1; shift
	rc=0
	send --ch command --action "$a" --text "example $a" --wait 30 "$@" \
	    >"$T/$a.out" 2>"$T/$a.err" || rc=$?
}

# --- echo --------------------------------------------------------------------
ask echo --args '{"colour":"blue","n":3}'
check "echo: --wait returns 0" [ "$rc" -eq 0 ]
check "echo: the result is the request's text and args" \
    [ "$(result "$T/echo.out" .)" = \
    '{"text":"example echo","args":{"colour":"blue","n":3}}' ]
check "echo: signed by pg1-18890" [ "$(jq -r .from "$T/echo.out")" = pg1-18890 ]

# --- ping --------------------------------------------------------------------
ask ping
check "ping: --wait returns 0" [ "$rc" -eq 0 ]
check "ping: pong from pg1-18890" \
    [ "$(result "$T/ping.out" '"\(.pong) \(.node)"')" = "true pg1-18890" ]
ts=$(result "$T/ping.out" .ts)
check "ping: ts is now" [ $((ts - $(date +%s))) -le 5 -a $(($(date +%s) - ts)) -le 60 ]

# --- health-check ------------------------------------------------------------
ask health-check
check "health-check: --wait returns 0" [ "$rc" -eq 0 ]
check "health-check: load, cpus, memory and disk of /" \
    jq -e '.text | fromjson | (.load["1m"] | test("^[0-9]+\\.[0-9]+$"))
    and .cpus >= 1 and .memory.total_kb > 0
    and .memory.available_kb <= .memory.total_kb
    and .disk.path == "/" and .disk.total_kb > 0
    and (.disk.used_pct >= 0 and .disk.used_pct <= 100)' \
    "$T/health-check.out" >/dev/null

# --- git-sync ----------------------------------------------------------------
git -C "$G/author" commit -q --allow-empty -m two
git -C "$G/author" push -q origin main
want=$(git -C "$G/author" rev-parse --short HEAD)
ask git-sync --args '{"config":"/etc/shadow","path":"/root"}'
check "git-sync: --wait returns 0" [ "$rc" -eq 0 ]
check "git-sync: both workspaces updated to the pushed commit" \
    [ "$(result "$T/git-sync.out" '[.workspaces[] | [.path, .commit, .status]]')" = \
    "$(jq -n -c --arg a "$G/ws1" --arg b "$G/ws2" --arg c "$want" \
    '[[$a, $c, "updated"], [$b, $c, "updated"]]')" ]
check "git-sync: the clones are at the pushed commit" \
    [ "$(git -C "$G/ws1" rev-parse --short HEAD) $(git -C "$G/ws2" rev-parse --short HEAD)" = \
    "$want $want" ]
check "git-sync: the message's args chose nothing (only the configured paths)" \
    [ "$(result "$T/git-sync.out" '[.workspaces[].path]')" = \
    "$(jq -n -c --arg a "$G/ws1" --arg b "$G/ws2" '[$a, $b]')" ]
send --ch sync --action git-sync --text "MEMORY.md updated" >/dev/null
synced() { "$CLI" sync-status "${TURQ[@]}" --action git-sync --json |
    jq -e '.[] | select(.data.node == "pg1-18890" and .data.status == "ok"
    and .data.from == "turq-18789" and
    ([.data.result.workspaces[].status] == ["up-to-date", "up-to-date"]))' \
    >/dev/null; }
check "git-sync as a sync: up to date, in sync-status" wait_until synced
printf '%s\n' /nonexistent >>"$V/git-sync.conf"
ask git-sync
check "git-sync: a broken workspace fails the run, named in the error" \
    grep -q "error: handler git-sync on pg1-18890: error: exit 1; stderr: git-sync: /nonexistent: fatal: cannot change to" \
    "$T/git-sync.out"
check "...outcome error, and send --wait exits 5" \
    [ "$(jq -r .outcome "$T/git-sync.out")" = error -a "$rc" -eq 5 ]

# --- check-services ------------------------------------------------------------
check "check-services: the sentinel wakes the agent, naming what is down" \
    wait_for "$T/pg1/calls/calls.log" \
    "Hive alert from sentinel check-services on pg1-18890 \(this box.s daemon\): 1 of 2 services down: url ${DOWN_URL//./\\.} \(" 30
check "...and not what is up" \
    bash -c '! grep "sentinel check-services" "$1" | grep -e "$2" >/dev/null' _ \
    "$T/pg1/calls/calls.log" "$UP_URL"
ask check-services
check "check-services: --wait returns 0" [ "$rc" -eq 0 ]
check "check-services: one down, the wake asked for" \
    [ "$(result "$T/check-services.out" '[.wake, [.down[].target]]')" = \
    "[\"alert\",[\"$DOWN_URL\"]]" ]
printf 'url %s\n' "$UP_URL" >"$V/check-services.conf"
ask check-services
check "check-services: all up is {}" \
    [ "$(result "$T/check-services.out" .)" = '{}' ]
quiet() { "$CLI" sync-status "${TURQ[@]}" --action check-services --json |
    jq -e '.[] | select(.data.trigger_id == "sentinel" and
    .data.status == "ok" and .data.result == {})' >/dev/null; }
# the next run is due within 10 s; a loaded machine may take longer
check "...and so is the sentinel's next published result" \
    wait_until_s 40 quiet

check "no handler was killed by its seccomp profile" \
    bash -c '! grep -q "killed-by-seccomp" "$1"' _ "$T/pg1/log/audit.log"

finish
