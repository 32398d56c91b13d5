#!/usr/bin/env bash
# test_handlers.sh - hostile handlers through the real runner
# (hive-test-runhandler): every escape attempt ends in its named
# outcome, nothing outlives a run, the handler's /proc status shows the
# sandbox, and root cannot be regained even when the runner holds
# CAP_SETUID as an ambient capability.  Needs root (it switches users).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"; exit 77
fi

# HIVE_TEST_ZYGOTE=always: every run of a configuration a zygote can
# serve goes through one (docs/handlers.md, "The zygote"), the same
# checks
ZYGOTE=${HIVE_TEST_ZYGOTE:-off}
RUNH="$T/runh"	# a file: setpriv runs it too
printf '#!/bin/sh\nexec "%s" --zygote %s "$@"\n' \
    "$HIVE_BIN/tests/hive-test-runhandler" "$ZYGOTE" >"$RUNH"
chmod 755 "$RUNH"
PROF="$HIVE_SRC/policy/seccomp"
H="$T/handlers"
M="$T/markers"
chmod 755 "$T"
mkdir -p "$H" "$M"
chmod 755 "$H"
chmod 1777 "$M"
for b in "$HIVE_BIN"/tests/handlers/hostile-*; do
	install -m 755 "$b" "$H/"
done

script() {	# script NAME <<body
	{ echo '#!/bin/sh'; cat; } >"$H/$1"
	chmod 755 "$H/$1"
}
script hello <<'EOF'
cat >/dev/null
printf '{"ok":true,"env":"%s"}\n' "$(env | sort | tr '\n' ' ')"
EOF
script loop <<'EOF'
trap '' TERM
while :; do :; done
EOF
script bigout <<'EOF'
head -c 10000000 /dev/zero | tr '\0' a
EOF
script badjson <<'EOF'
echo 'not json'
EOF
script array <<'EOF'
echo '[1, 2]'
EOF
script dupkeys <<'EOF'
echo '{"a": 1, "a": 2}'
EOF
script writeetc <<'EOF'
set -e
echo pwned >/etc/hive-handler-pwned
echo '{}'
EOF
script forkbomb <<'EOF'
b() { b | b & }
b
wait
EOF
script forkmany <<'EOF'
n=0
while [ $n -lt 1000 ]; do sleep 1000 & n=$((n + 1)); done
echo '{}'
EOF
script noisy <<'EOF'
head -c 100000 /dev/zero | tr '\0' e >&2
exit 7
EOF
script sedjson <<'EOF'
in=$(cat)
n=$(printf '%s' "$in" | sed -e 's/[^a-z]//g' | wc -c)
printf '{"letters":%s}\n' "$n"
EOF
mkfifo -m 666 "$M/go"
script status <<EOF
read x <"$M/go"
echo '{}'
EOF

# run ARGS...: the result line in $OUT, the survivors line in $SURV
# and checks that no process of the run outlived it
run() {
	local all
	all=$("$RUNH" --dir "$H" --profiles "$PROF" "$@")
	OUT=${all%%$'\n'*}
	SURV=${all##*$'\n'}
	[ "$SURV" = '{"survivors":0}' ] || fail "$*: $SURV"
}
field() { printf '%s\n' "$OUT" | jq -r "$1"; }
is() {	# is "description" JQ-EXPR EXPECTED
	local got
	got=$(field "$2")
	if [ "$got" = "$3" ]; then ok "$1"; else
		fail "$1: $2 is '$got', want '$3' ($OUT)"; fi
}
none_left() {
	if [ "$SURV" = '{"survivors":0}' ]; then ok "$1: nothing outlives it"
	else fail "$1: $SURV"; fi
}

# --- the contract ---
run --action hello --stdin '{"v":2}'
is "hello: ok" .outcome ok
if [ "$ZYGOTE" = always ]; then
	is "hello: through a zygote" .zygote true
else
	is "hello: forked" .zygote false
fi
is "hello: exact environment" .stdout.env "HIVE_ACTION=hello HIVE_FROM=peer \
HIVE_ID=id-1 HIVE_NODE=box HOME=/ LANG=C.UTF-8 \
PATH=/usr/local/bin:/usr/bin:/bin PWD=/ "
none_left hello
# the daemon's default (auto): the first run forked, a zygote made at
# the second, and the runs after it through the zygote once it is ready
all=$("$HIVE_BIN/tests/hive-test-runhandler" --zygote auto --dir "$H" \
    --profiles "$PROF" --action hello --runs 12 --concurrency 1 --queue 12)
ZR=$(printf '%s\n' "$all" | grep '"outcome"' | jq -s -c '[.[] | .zygote]')
check "auto: twelve runs, all ok" test "$(printf '%s\n' "$all" |
    grep -c '"outcome":"ok"')" = 12
check "auto: the first two forked ($ZR)" test "$(printf '%s' "$ZR" |
    jq -c '.[0:2]')" = '[false,false]'
check "auto: later ones through the zygote ($ZR)" test "$(printf '%s' "$ZR" |
    jq 'any')" = true
check "auto: nothing left" test "${all##*$'\n'}" = '{"survivors":0}'
run --action hello --seccomp strict
is "hello under strict: ok" .outcome ok
is "hello under strict: forked (strict has no setsid)" .zygote false
run --action sedjson --seccomp strict --stdin '{"abc":1}'
is "sed script under strict: ok" .stdout.letters 3
# the child's last step fails (the kernel finds no interpreter): the
# step named, as a forked child's setup failure is; through a zygote
# that is its run child's failure message (ZYG_RUNFAIL), and the zygote
# serves the runs after it
printf '#!/no/such/interpreter\n' >"$H/nointerp"
chmod 755 "$H/nointerp"
all=$("$RUNH" --dir "$H" --profiles "$PROF" --action nointerp --runs 3 \
    --concurrency 1 --queue 3)
check "no interpreter: three runs, each an error" test "$(printf '%s\n' \
    "$all" | grep -c '"outcome":"error"')" = 3
check "no interpreter: the step named" test "$(printf '%s\n' "$all" |
    grep -c '"error":"sandbox: execveat: No such file or directory"')" = 3
[ "$ZYGOTE" = always ] && zy=true || zy=false
check "no interpreter: each run through a zygote: $zy" test \
    "$(printf '%s\n' "$all" | grep -c "\"zygote\":$zy")" = 3
check "no interpreter: nothing left" test "${all##*$'\n'}" = \
    '{"survivors":0}'

# --- seccomp ---
# the runner reads the call from the filter's listener and kills the
# run itself (SIGKILL), naming the call
for h in ptrace mount unshare; do
	run --action "hostile-$h"
	is "$h: killed by seccomp" .outcome killed-by-seccomp
	is "$h: the syscall is named" .syscall "$h"
	is "$h: ...in the error" .error "syscall $h refused by seccomp profile default"
	is "$h: killed by the runner" .signal 9
	none_left "$h"
done
run --action hostile-ptrace --seccomp strict
is "ptrace under strict: killed by seccomp" .outcome killed-by-seccomp
is "ptrace under strict: named" .syscall ptrace
script lnsym <<EOF
cat >/dev/null
exec ln -s nowhere "$M/sym"
EOF
run --action lnsym --seccomp strict
is "strict's default kill: named" .syscall symlinkat
check "strict's default kill: the call never ran" test ! -L "$M/sym"
# a signal that interrupts a call before the runner has read it takes
# the notification back (EINTR): the run still ends, unnamed or named
run --action hostile-sigptrace
is "forbidden calls under a fast timer: killed by seccomp" .outcome \
    killed-by-seccomp
none_left sigptrace
# no listener (files 4: no descriptor left for it): the kill program,
# SIGSYS, the call not named; a zygote, whose files limit is set in
# each run's child, has its listener all the same
run --action hostile-ptrace --files 4
is "no listener: killed by seccomp all the same" .outcome killed-by-seccomp
if [ "$ZYGOTE" = always ]; then
	is "files 4, zygote: the runner kills" .signal 9
	is "files 4, zygote: named" .syscall ptrace
else
	is "no listener: SIGSYS" .signal 31
	is "no listener: not named" .syscall ""
fi
run --action hostile-socket --seccomp nonet --network 1
is "AF_INET socket under nonet: error" .outcome error
is "AF_INET socket under nonet: refused by the filter" .stderr \
    "inet: Address family not supported by protocol"
run --action hostile-netprobe --seccomp nonet --network 1
NOAF="Address family not supported by protocol"
is "nonet: AF_UNIX works" .stdout.unix open
for f in inet raw inet6 netlink packet; do
	is "nonet: $f refused" .stdout.$f "$NOAF"
done
run --action hostile-netprobe --network 1
is "network yes: AF_INET works" .stdout.inet open
run --action hostile-socket --network 0
is "AF_INET socket with network no: error" .outcome error
run --action hostile-socket --seccomp strict --network 1
is "AF_INET socket under strict: error, not killed" .outcome error

# --- files, processes, time, output ---
rm -f /etc/hive-handler-pwned
run --action writeetc
is "write to /etc as nobody: error" .outcome error
check "write to /etc: no file" test ! -e /etc/hive-handler-pwned
# The bombs run as an account no other test runs handlers as: RLIMIT_NPROC
# counts every process of the user on the machine, so 40 of nobody's
# would make a concurrent test's handler fail its exec (EAGAIN).
BOMBER=games
run --action forkbomb --procs 40 --timeout-ms 3000 --grace-ms 500 \
    --user "$BOMBER"
check "fork bomb: not ok" test "$(field .outcome)" != ok
none_left "fork bomb"
run --action forkmany --procs 40 --user "$BOMBER"
is "1000 background sleeps: error" .outcome error
check "1000 background sleeps: stopped by RLIMIT_NPROC" \
    grep -q "Cannot fork" <<<"$(field .stderr)"
check "1000 background sleeps: at most 40 processes, all killed" \
    test "$(field .leftovers)" -le 40 -a "$(field .leftovers)" -ge 1
none_left "1000 background sleeps"
run --action loop --timeout-ms 300 --grace-ms 200
is "infinite loop ignoring SIGTERM: timeout" .outcome timeout
is "infinite loop: SIGKILL after the grace period" .signal 9
check "infinite loop: ran at least timeout + grace" \
    test "$(field .duration_ms)" -ge 500
none_left "infinite loop"
run --action bigout
is "10 MB of stdout: bad-output" .outcome bad-output
none_left "10 MB of stdout"
for h in badjson array dupkeys; do
	run --action "$h"
	is "$h: bad-output" .outcome bad-output
done
run --action noisy
is "noisy stderr: error" .outcome error
is "noisy stderr: exit status" .exit 7
is "noisy stderr: capped at 8 KiB" '.stderr | length' 8192

OUT=$("$RUNH" --dir "$H" --profiles "$PROF" --action hello --timeout-ms 0 |
    head -n 1)
is "no timeout: refused" .outcome refused

# --- the other limits: CPU, file size, memory; other signals ---
script segv <<'EOF'
kill -SEGV $$
EOF
script spin <<'EOF'
while :; do :; done
EOF
script bigfile <<'EOF'
exec head -c 10000000 /dev/zero >/tmp/hive-big
EOF
script hog <<'EOF'
x=$(head -c 200000000 /dev/zero | tr '\0' a)
echo '{}'
EOF
run --action segv
is "SIGSEGV: killed" .outcome killed
is "SIGSEGV: the signal" .signal 11
run --action spin --cpu 1 --timeout-ms 30000
is "RLIMIT_CPU 1 s: killed" .outcome killed
is "RLIMIT_CPU 1 s: SIGXCPU" .signal 24
run --action bigfile --fsize 1000000 --private-tmp 1
is "RLIMIT_FSIZE 1 MB, 10 MB written: killed" .outcome killed
is "RLIMIT_FSIZE: SIGXFSZ" .signal 25
run --action hog --memory 67108864
check "RLIMIT_AS 64 MiB, 200 MB in a variable: not ok" \
    test "$(field .outcome)" != ok

# --- a grandchild that double-forks and setsid()s ---
run --action hostile-escape --stdin "$M/escape.pid"
is "escape: ok" .outcome ok
check "escape: the grandchild was counted" test "$(field .leftovers)" -ge 1
if [ -s "$M/escape.pid" ] && ! kill -0 "$(cat "$M/escape.pid")" 2>/dev/null
then ok "escape: the grandchild is dead"
else fail "escape: grandchild $(cat "$M/escape.pid" 2>/dev/null) alive"; fi
none_left escape

# --- the same, after the handler stopped reaping its own orphans ---
install -m 755 "$H/hostile-escape" "$H/hostile-unreap"
run --action hostile-unreap --stdin "$M/unreap.pid"
is "escape, handler not a subreaper: ok" .outcome ok
check "escape, handler not a subreaper: the grandchild was counted" \
    test "$(field .leftovers)" -ge 1
if [ -s "$M/unreap.pid" ] && ! kill -0 "$(cat "$M/unreap.pid")" 2>/dev/null
then ok "escape, handler not a subreaper: the grandchild is dead"
else fail "escape, handler not a subreaper: $(cat "$M/unreap.pid" \
    2>/dev/null) alive"; fi
none_left "escape, handler not a subreaper"

# --- one run ending kills its own leftovers, not another run's ---
# The first of two runs at once keeps an orphan of its own (re-parented
# to it) and reports whether it is still alive after the second run,
# which waits for that orphan, has ended and been swept.
script pair <<EOF
if mkdir "$M/pair.lock" 2>/dev/null; then
	( sleep 30 & echo \$! >"$M/pair.orphan" )
	n=0
	until [ -e "$M/pair.short" ] || [ \$n -ge 200 ]; do
		sleep 0.05; n=\$((n + 1)); done
	sleep 0.5
	kill -0 "\$(cat "$M/pair.orphan")" && a=alive || a=dead
	printf '{"orphan":"%s"}\n' \$a
else
	n=0
	until [ -s "$M/pair.orphan" ] || [ \$n -ge 200 ]; do
		sleep 0.05; n=\$((n + 1)); done
	touch "$M/pair.short"
	echo '{}'
fi
EOF
rm -rf "$M/pair.lock" "$M/pair.orphan" "$M/pair.short"
all=$("$RUNH" --dir "$H" --profiles "$PROF" --action pair --runs 2 \
    --concurrency 2 --max 2)
OUT=$(grep orphan <<<"$all" || true)
is "two runs: the other run's orphan survives the first's end" \
    .stdout.orphan alive
check "two runs: both ok" test "$(grep -c '"outcome":"ok"' <<<"$all")" = 2
SURV=$(tail -n 1 <<<"$all")
none_left "two runs"
check "two runs: the orphan died with its run" \
    sh -c '! kill -0 "$(cat "$1")" 2>/dev/null' - "$M/pair.orphan"

# --- a runner that could not stop the handler refuses to start it ---
SPK=(setpriv --reuid=daemon --regid=daemon --init-groups)
OUT=$("${SPK[@]}" --inh-caps=+setuid,+setgid --ambient-caps=+setuid,+setgid \
    "$RUNH" --dir "$H" --profiles "$PROF" --action hello | sed -n 1p)
is "runner without CAP_KILL, handler as nobody: refused" .outcome refused
is "runner without CAP_KILL: says why" '.error | contains("CAP_KILL")' true
OUT=$("${SPK[@]}" --inh-caps=+setuid,+setgid,+kill \
    --ambient-caps=+setuid,+setgid,+kill \
    "$RUNH" --dir "$H" --profiles "$PROF" --action hello | sed -n 1p)
is "runner with CAP_KILL, handler as nobody: ok" .outcome ok

# --- root cannot come back ---
run --action hostile-setuid
is "setuid as root runner: setresuid fails" .stdout.setresuid -1
is "setuid as root runner: setuid fails" .stdout.setuid -1
is "setuid as root runner: uid nobody" .stdout.euid 65534
SP=(setpriv --reuid=nobody --regid=nogroup --init-groups
    --inh-caps=+setuid,+setgid --ambient-caps=+setuid,+setgid)
amb=$("${SP[@]}" grep CapAmb /proc/self/status | awk '{print $2}')
check "setpriv grants ambient capabilities (the test can fail)" \
    test "$amb" != 0000000000000000
OUT=$("${SP[@]}" "$RUNH" --dir "$H" --profiles "$PROF" \
    --action hostile-setuid | sed -n 1p)
is "ambient CAP_SETUID runner: setresuid(0,0,0) fails" .stdout.setresuid -1
is "ambient CAP_SETUID runner: setuid(0) fails" .stdout.setuid -1
is "ambient CAP_SETUID runner: setgid(0) fails" .stdout.setgid -1
is "ambient CAP_SETUID runner: no effective caps" .stdout.eff \
    0000000000000000
is "ambient CAP_SETUID runner: no ambient caps" .stdout.amb \
    0000000000000000

# --- /proc/<handler>/status while it runs ---
"$RUNH" --dir "$H" --profiles "$PROF" --action status \
    --pidfile "$M/status.pid" >"$T/status.out" &
RPID=$!
PIDS+=("$RPID")
wait_until test -s "$M/status.pid"
HP=$(cat "$M/status.pid")
st() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' \
    "/proc/$HP/status"; }
check "status: Uid non-root" test "$(st Uid)" = "65534 65534 65534 65534"
check "status: Gid nogroup" test "$(st Gid)" = "65534 65534 65534 65534"
check "status: no supplementary groups" test -z "$(st Groups)"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
	check "status: $c zero" test "$(st $c)" = 0000000000000000
done
check "status: NoNewPrivs 1" test "$(st NoNewPrivs)" = 1
check "status: Seccomp 2" test "$(st Seccomp)" = 2
check "status: own session" test "$(awk '{print $6}' "/proc/$HP/stat")" = "$HP"
# 0-2 pipes, 3 the script (and dash's own copy of it at 10): nothing of
# the runner's
fds_clean() {
	local f l
	for f in /proc/"$HP"/fd/*; do
		l=$(readlink "$f")
		case "$l" in pipe:*|"$H/status") ;; *) echo "$f -> $l"; return 1;;
		esac
	done
}
check "status: only the pipes and the script are open" fds_clean
# the filter's listener is the runner's, never the handler's own
listener() {
	local f
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f")" = "anon_inode:seccomp notify" ] && return 0
	done
	return 1
}
check "status: the handler holds no seccomp listener" bash -c \
    "$(declare -f listener); ! listener $HP"
check "status: the runner holds the listener" listener "$RPID"
check "status: stdin, stdout, stderr are pipes" test \
    "$(readlink /proc/$HP/fd/0 /proc/$HP/fd/1 /proc/$HP/fd/2 | cut -c1-5 |
    sort -u)" = "pipe:"
echo go >"$M/go"
wait "$RPID"
OUT=$(head -n 1 "$T/status.out")
is "status handler: ok" .outcome ok

# --- concurrency and queue ---
script slow <<EOF
read x <"$M/go2"
echo '{}'
EOF
mkfifo -m 666 "$M/go2"
"$RUNH" --dir "$H" --profiles "$PROF" --action slow --runs 3 \
    --concurrency 1 --queue 1 >"$T/conc.out" &
RPID=$!
PIDS+=("$RPID")
wait_for "$T/conc.out" refused
echo go >"$M/go2"
wait_for "$T/conc.out" '"id":1,"outcome":"ok"'
echo go >"$M/go2"
wait "$RPID"
check "concurrency 1, queue 1, 3 runs: one refused" \
    test "$(grep -c '"outcome":"refused"' "$T/conc.out")" = 1
check "concurrency 1, queue 1, 3 runs: two ok" \
    test "$(grep -c '"outcome":"ok"' "$T/conc.out")" = 2
OUT=$("$RUNH" --dir "$H" --profiles "$PROF" --action hello --runs 3 \
    --concurrency 3 --queue 0 --max 2 | grep refused)
is "max_handlers 2, 3 runs, no queue: refused" .outcome refused

# --- private /tmp and read-only root (mount namespace, root only) ---
script fs <<'EOF'
a=ok; echo x >/tmp/hive-fs-probe 2>/dev/null || a=fail
b=ok; echo x >/var/tmp/hive-fs-probe 2>/dev/null || b=fail
printf '{"tmp":"%s","vartmp":"%s","tmpfiles":%s}\n' $a $b "$(ls -A /tmp | wc -l)"
EOF
rm -f /tmp/hive-fs-probe /var/tmp/hive-fs-probe
run --action fs --private-tmp 1 --read-only-root 1
is "private-tmp: /tmp writable" .stdout.tmp ok
is "private-tmp: /tmp empty" .stdout.tmpfiles 1
is "read-only-root: /var/tmp read-only" .stdout.vartmp fail
check "private-tmp: nothing reached the host's /tmp" \
    test ! -e /tmp/hive-fs-probe -a ! -e /var/tmp/hive-fs-probe
run --action fs --read-only-root 1
is "read-only-root alone: /tmp read-only too" .stdout.tmp fail
OUT=$(setpriv --reuid=nobody --regid=nogroup --init-groups "$RUNH" \
    --dir "$H" --profiles "$PROF" --action fs --private-tmp 1 | sed -n 1p)
is "private-tmp when not root: refused" .outcome refused
is "private-tmp when not root: says unsupported" \
    '.error | endswith("unsupported here")' true

# --- discovery refuses what it cannot trust ---
D="$T/disc"
mkdir -p "$D"
chmod 755 "$D"
install -m 755 "$H/hello" "$D/good"
ln -s "$H/hello" "$D/symlink"
install -m 775 "$H/hello" "$D/groupw"
install -m 757 "$H/hello" "$D/worldw"
install -m 644 "$H/hello" "$D/noexec"
install -m 755 -o daemon "$H/hello" "$D/otheruser"
install -m 755 "$H/hello" "$D/Upper"
mkdir "$D/subdir"
install -m 755 -o nobody "$H/hello" "$D/runas"
OUT=$("$RUNH" --discover --dir "$D")
is "discover: the good ones" '.handlers | sort | join(",")' good,runas
is "discover: symlink" '.refused.symlink' "a symbolic link"
is "discover: group writable" '.refused.groupw' "group or world writable"
is "discover: world writable" '.refused.worldw' "group or world writable"
is "discover: not executable" '.refused.noexec' "not executable"
is "discover: other owner" '.refused.otheruser' \
    "not owned by root or its run-as user"
is "discover: bad name" '.refused.Upper | startswith("name is not")' true
is "discover: directory" '.refused.subdir' "not a regular file"
chmod 775 "$D"
if "$RUNH" --discover --dir "$D" 2>"$T/disc.err"; then
	fail "discover: group-writable directory accepted"
else
	check "discover: group-writable directory refused" \
	    grep -q "group/world writable" "$T/disc.err"
fi

finish
