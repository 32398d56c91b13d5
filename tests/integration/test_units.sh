#!/usr/bin/env bash
# test_units.sh - the service files in systemd/: every *.service parses
# cleanly (systemd-analyze verify), scores an exposure of at most 1.0
# with systemd-analyze security --offline=true and explains what it
# does not set; the split units agree on the attach socket; the
# sysusers and tmpfiles files apply to an empty root; the launchd plist
# parses.
# Needs no running systemd (CI runs in a container as root);
# scripts/deps.sh installs systemd-analyze (package systemd).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

UNITS="$HIVE_SRC/systemd"
MAX_TENTHS=10		# 1.0: the issue's bar for every unit we ship

if ! command -v systemd-analyze >/dev/null; then
	fail "systemd-analyze is installed (run scripts/deps.sh as root)"
	finish
fi

# exposure FILE: the overall exposure in tenths (23 for "2.3"), or fail.
# systemd-analyze prints it as N.N, rounded up, and exits 0 whatever
# the score, so the number is parsed from its last line.
exposure() {
	local out
	out=$(SYSTEMD_COLORS=0 systemd-analyze security --offline=true \
	    --no-pager "$1" 2>&1) || { echo "$out" >&2; return 1; }
	sed -n 's/^.*Overall exposure level for .*: \([0-9]*\)\.\([0-9]\) .*$/\1\2/p' \
	    <<<"$out" | sed 's/^0*\([0-9]\)/\1/'
}

n=0
for unit in "$UNITS"/*.service; do
	[ -e "$unit" ] || continue
	n=$((n + 1))
	name=$(basename "$unit")

	# verify: exits 0 even for unknown keys and unparsable values (it
	# only warns), so any output at all is a failure.  It also wants
	# every Exec binary to exist: the copy points ExecStart at the
	# build tree's hive-daemon, everything else is checked as shipped.
	mkdir -p "$T/verify"
	sed "s#^ExecStart=/usr/sbin/hive-daemon #ExecStart=$HIVE_BIN/hive-daemon #" \
	    "$unit" >"$T/verify/$name"
	rc=0
	SYSTEMD_COLORS=0 systemd-analyze verify --no-pager "$T/verify/$name" \
	    >"$T/verify/$name.out" 2>&1 || rc=$?
	check "$name: systemd-analyze verify exits 0" [ "$rc" -eq 0 ]
	check "$name: ...and warns about nothing" [ ! -s "$T/verify/$name.out" ]
	sed 's/^/# /' "$T/verify/$name.out"

	x=$(exposure "$unit" || true)
	if [ -z "$x" ]; then
		fail "$name: systemd-analyze security gives an overall exposure"
		continue
	fi
	check "$name: exposure $((x / 10)).$((x % 10)) is at most $((MAX_TENTHS / 10)).$((MAX_TENTHS % 10))" \
	    [ "$x" -le "$MAX_TENTHS" ]
	check "$name: says what it could not set, and why" \
	    grep -q '^# --- could not set' "$unit"
	if [ "$x" -gt "$MAX_TENTHS" ]; then
		# what still counts, for whoever has to bring it down
		SYSTEMD_COLORS=0 systemd-analyze security --offline=true \
		    --no-pager "$unit" 2>/dev/null | grep '✗' | sed 's/^/# /' || true
	fi
done
check "systemd/ holds at least one unit" [ "$n" -gt 0 ]

# split mode: the monitor listens where the roles attach, runs as its
# own account without network; the roles run as users of their own
execstart() { sed -n 's/^ExecStart=//p' "$UNITS/$1"; }
sock=$(execstart hive-daemon.service | sed -n 's/.* -A \([^ ]*\) .*/\1/p')
check "hive-daemon.service starts the monitor in split mode (-A)" \
    [ -n "$sock" ]
for u in hive-router.service hive-injector@.service; do
	check "$u attaches to the monitor's socket $sock" \
	    grep -q -- "^ExecStart=.* -P [a-z]* -A $sock " "$UNITS/$u"
	check "...is stopped with it and ordered before it" \
	    grep -q '^BindsTo=hive-daemon.service$' "$UNITS/$u"
done
check "the monitor runs as hive-monitor with no network" \
    grep -q '^User=hive-monitor$' "$UNITS/hive-daemon.service"
check "...and PrivateNetwork=yes" \
    grep -q '^PrivateNetwork=yes$' "$UNITS/hive-daemon.service"

# sysusers and tmpfiles: applied to an empty root, they create the
# account and the configuration tree with the modes the daemon wants.
if [ "$(id -u)" -eq 0 ] && command -v systemd-sysusers >/dev/null &&
    command -v systemd-tmpfiles >/dev/null; then
	R="$T/root"
	mkdir -p "$R/etc" "$R/usr/lib/sysusers.d" "$R/usr/lib/tmpfiles.d"
	cp "$UNITS/hive.sysusers" "$R/usr/lib/sysusers.d/hive.conf"
	cp "$UNITS/hive.tmpfiles" "$R/usr/lib/tmpfiles.d/hive.conf"
	quiet() { "$@" >>"$T/quiet.out" 2>&1; }	# chatter to the log
	check "systemd-sysusers applies hive.sysusers" \
	    quiet systemd-sysusers --root="$R"
	check "...creating user hive with no login shell" grep -Eq \
	    '^hive:x:[0-9]+:[0-9]+:[^:]*:/:/usr/sbin/nologin$' "$R/etc/passwd"
	check "...and user hive-monitor, likewise" grep -Eq \
	    '^hive-monitor:x:[0-9]+:[0-9]+:[^:]*:/:/usr/sbin/nologin$' \
	    "$R/etc/passwd"
	mkdir -p "$R/etc/hive/secret"
	echo key >"$R/etc/hive/secret/n.key"	# as root, e.g. by keygen
	chmod 600 "$R/etc/hive/secret/n.key"
	: >"$R/etc/hive/hive.conf"; chmod 600 "$R/etc/hive/hive.conf"
	check "systemd-tmpfiles applies hive.tmpfiles" \
	    quiet systemd-tmpfiles --root="$R" --create
	# uids as the empty root's passwd has them, not the host's
	mon=$(awk -F: '$1 == "hive-monitor" { print $3 }' "$R/etc/passwd")
	check "...secret/ is 0700 hive-monitor" \
	    [ "$(stat -c '%a %u' "$R/etc/hive/secret")" = "700 $mon" ]
	check "...a key written there as root goes to hive-monitor, still 0600" \
	    [ "$(stat -c '%a %u' "$R/etc/hive/secret/n.key")" = "600 $mon" ]
	check "...hive.conf is readable by every role (0644 root)" \
	    [ "$(stat -c '%a %U' "$R/etc/hive/hive.conf")" = "644 root" ]
	check "...keys/ is 0755 root" \
	    [ "$(stat -c '%a %U' "$R/etc/hive/keys")" = "755 root" ]
else
	ok "# SKIP sysusers/tmpfiles (needs root and systemd-sysusers)"
fi

# launchd: a well-formed plist with the job's essentials.
plist="$UNITS/org.hive.daemon.plist"
if command -v python3 >/dev/null; then
	check "org.hive.daemon.plist parses, runs hive-daemon -f -c, KeepAlive" \
	    python3 - "$plist" <<'PY'
import plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
a = d["ProgramArguments"]
assert d["Label"] == "org.hive.daemon"
assert a[0].endswith("/hive-daemon") and a[1:] == ["-f", "-c", "/etc/hive/hive.conf"]
assert d["KeepAlive"] and d["RunAtLoad"] is True
assert d["StandardErrorPath"].startswith("/")
PY
else
	check "org.hive.daemon.plist names hive-daemon and KeepAlive" \
	    grep -q '<key>KeepAlive</key>' "$plist"
fi

finish
