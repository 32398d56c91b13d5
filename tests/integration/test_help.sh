#!/usr/bin/env bash
# test_help.sh - the manual pages, --help, the sources and the bash
# completion tell the same story (no broker needed):
#  - every flag a hive-cli verb's --help lists is in that verb's
#    section of docs/man/hive-cli.1, and the reverse; likewise for
#    hive-daemon --help and hive-daemon.8 (every option src/daemon.c
#    parses is in the page); hive-daemon --help and --version exit 0
#    and the version is hive-cli's;
#  - asked for (--help, -h, help, VERB --help), the help goes to stdout
#    with exit 0; a usage error prints it on stderr with exit 2;
#  - every long option in cli/*.c that a verb accepts is in its --help,
#    and every flag its --help lists is accepted;
#  - every hive.conf keyword in src/config.c is in hive.conf.5 with the
#    default hive-daemon -n prints, and in docs/configuration.md's
#    table, and the reverse: every keyword either documents is one the
#    parser knows;
#  - the completion knows every verb, each verb's flags, the channels of
#    src/envelope.c and the urgency values;
#  - the pages render without warnings.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
unset POSIXLY_CORRECT	# the probes rely on getopt permuting arguments

DAEMON="$HIVE_BIN/hive-daemon"
MAN="$HIVE_SRC/docs/man"
COMPLETION="$HIVE_SRC/scripts/completion/hive-cli.bash"

# --- helpers -----------------------------------------------------------

# stdin -> the flags it mentions (-x, --long-name), one per line, sorted
flags_in() {
	grep -oE '(^|[^A-Za-z0-9_./-])--?[A-Za-z][A-Za-z0-9-]*' |
	    sed -E 's/^[^-]//' | sort -u || true
}

# like flags_in, but "-dfn" (bundled short flags, as in a synopsis)
# counts as -d -f -n
flags_in_bundled() {
	flags_in | while read -r f; do
		case $f in
		--*|-?) printf '%s\n' "$f" ;;
		*) for ((i = 1; i < ${#f}; i++)); do
			printf -- '-%s\n' "${f:i:1}"
		   done ;;
		esac
	done | sort -u
}

# roff source on stdin -> plain words
roff_plain() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f\[[^]]*\]//g' \
	    -e 's/\\(..//g' -e 's/\\e/\\/g' -e 's/\\&//g'
}

# man_sh FILE TITLE: the lines of section .SH TITLE (with its .SS)
man_sh() {
	awk -v t="$2" '
	    /^\.SH / { s = substr($0, 5); gsub(/"/, "", s); on = (s == t); next }
	    on' "$1"
}

# man_ss FILE WORD: the lines of the subsection whose title begins
# with WORD (".SS keys list" for keys), up to the next .SS or .SH
man_ss() {
	awk -v w="$2" '
	    /^\.S[SH] / { split(substr($0, 5), a, " "); gsub(/"/, "", a[1])
		on = ($0 ~ /^\.SS / && a[1] == w); next }
	    on' "$1"
}

# tp_tags: the tag line of every .TP on stdin
tp_tags() {
	awk 'tag { print; tag = 0; next } /^\.TP/ { tag = 1 }'
}

# same_set DESC A B: two newline lists are the same set; says what
# differs when not
same_set() {
	local d=$1 only_a only_b
	only_a=$(comm -23 <(sort -u <<<"$2" | sed '/^$/d') \
	    <(sort -u <<<"$3" | sed '/^$/d'))
	only_b=$(comm -13 <(sort -u <<<"$2" | sed '/^$/d') \
	    <(sort -u <<<"$3" | sed '/^$/d'))
	if [ -z "$only_a" ] && [ -z "$only_b" ] && [ -n "$2" ]; then
		ok "$d"
	else
		fail "$d"
		[ -z "$only_a" ] || echo "    only in the first: $(printf '%s ' $only_a)"
		[ -z "$only_b" ] || echo "    only in the second: $(printf '%s ' $only_b)"
		[ -n "$2" ] || echo "    the first is empty"
	fi
}

# subset DESC A B: every line of A is in B
subset() {
	local d=$1 extra
	extra=$(comm -23 <(sort -u <<<"$2" | sed '/^$/d') \
	    <(sort -u <<<"$3" | sed '/^$/d'))
	if [ -z "$extra" ] && [ -n "$2" ]; then
		ok "$d"
	else
		fail "$d"
		[ -z "$extra" ] || echo "    missing: $(printf '%s ' $extra)"
	fi
}

# --- the pages render cleanly ----------------------------------------

for page in hive-cli.1 hive-daemon.8 hive.conf.5 hive-policy.5; do
	f="$MAN/$page"
	check "$page exists" [ -s "$f" ]
	w=$(groff -ww -mandoc -z "$f" 2>&1 || echo "groff failed")
	check "$page: groff -ww -mandoc: no warnings" [ -z "$w" ]
	[ -z "$w" ] || echo "$w" | sed 's/^/    /'
	if command -v mandoc >/dev/null; then
		w=$(mandoc -Tlint -Wwarning "$f" 2>&1 || echo "mandoc failed")
		check "$page: mandoc -Tlint: no warnings" [ -z "$w" ]
		[ -z "$w" ] || echo "$w" | sed 's/^/    /'
	fi
	if command -v man >/dev/null; then
		w=$(man --warnings -E UTF-8 -l -Tutf8 "$f" 2>&1 >/dev/null ||
		    echo "man failed")
		check "$page: man --warnings: no warnings" [ -z "$w" ]
		[ -z "$w" ] || echo "$w" | sed 's/^/    /'
	fi
done

# --- hive-cli: verbs --------------------------------------------------

CLI1="$MAN/hive-cli.1"

# help_ok DESC ARGV...: asked for, the help is the output: usage on
# stdout, nothing on stderr, exit 0 (so "hive-cli send --help | less"
# shows it)
help_ok() {
	local d=$1 rc=0
	shift
	"$@" >"$T/h.out" 2>"$T/h.err" </dev/null || rc=$?
	check "$d: usage on stdout, nothing on stderr, exit 0" \
	    bash -c '[ "$1" -eq 0 ] && grep -q "^usage: " "$2" && [ ! -s "$3" ]' \
	    _ "$rc" "$T/h.out" "$T/h.err"
}

# usage_err DESC ARGV...: a usage error: usage on stderr, stdout empty,
# exit 2
usage_err() {
	local d=$1 rc=0
	shift
	"$@" >"$T/h.out" 2>"$T/h.err" </dev/null || rc=$?
	check "$d: usage on stderr, nothing on stdout, exit 2" \
	    bash -c '[ "$1" -eq 2 ] && grep -q "^usage: " "$3" && [ ! -s "$2" ]' \
	    _ "$rc" "$T/h.out" "$T/h.err"
}

help_ok "hive-cli --help" "$CLI" --help
help_ok "hive-cli -h" "$CLI" -h
help_ok "hive-cli help" "$CLI" help
usage_err "hive-cli (no verb)" "$CLI"
usage_err "hive-cli no-such-verb" "$CLI" no-such-verb
"$CLI" --help >"$T/top"
verbs=$(awk '/^verbs:/ { on = 1; next } on && /^  [a-z]/ { print $1 }
    on && /^$/ { exit }' "$T/top")
check "hive-cli --help lists verbs" [ -n "$verbs" ]
man_verbs=$(man_sh "$CLI1" VERBS | awk '/^\.SS / { print $2 }')
same_set "verbs: hive-cli --help = hive-cli.1 VERBS" "$verbs" "$man_verbs"
same_set "hive-cli --help flags = hive-cli.1 OPTIONS" \
    "$(flags_in <"$T/top")" "$(man_sh "$CLI1" OPTIONS | tp_tags |
    roff_plain | flags_in)"

# the argv that reaches a verb's options
verb_argv() {
	case $1 in
	admin) echo "admin keygen" ;;
	trust) echo "trust show" ;;
	keys) echo "keys list" ;;
	policy) echo "policy explain" ;;
	*) echo "$1" ;;
	esac
}

common=$(man_sh "$CLI1" "COMMON OPTIONS" | tp_tags | roff_plain | flags_in)
check "hive-cli.1 has COMMON OPTIONS" [ -n "$common" ]
src_longs=$(grep -ohE '\{ "[a-z][a-z0-9-]*", (no|required|optional)_argument' \
    "$HIVE_SRC"/cli/*.c "$HIVE_SRC"/cli/*.h |
    sed -E 's/^\{ "([^"]+)".*/--\1/' | sort -u)
check "long options found in cli/" [ "$(wc -l <<<"$src_longs")" -gt 20 ]

# accepts VERB FLAG: the verb's getopt takes FLAG (its --help, after
# FLAG and a value, exits 0; a refused flag is a usage error, 2)
accepts() {
	# shellcheck disable=SC2046
	"$CLI" $(verb_argv "$1") "$2" 1 --help </dev/null >/dev/null 2>&1
}

for v in $verbs; do
	# shellcheck disable=SC2046
	help_ok "hive-cli $v --help" "$CLI" $(verb_argv "$v") --help
	# shellcheck disable=SC2046
	usage_err "hive-cli $v --no-such-flag" "$CLI" $(verb_argv "$v") \
	    --no-such-flag
	# shellcheck disable=SC2046
	"$CLI" $(verb_argv "$v") --help >"$T/help.$v" 2>/dev/null ||
	    fail "hive-cli $v --help exits 0"
	help=$(flags_in <"$T/help.$v")
	man_ss "$CLI1" "$v" >"$T/man.$v"
	check "hive-cli.1 has a section for $v" [ -s "$T/man.$v" ]
	man=$(tp_tags <"$T/man.$v" | roff_plain | flags_in)
	text=$(roff_plain <"$T/man.$v" | sed -E 's/^\.[A-Z]+ //; s/"//g' |
	    tr '\n' ' ') || text=
	if grep -q 'takes the COMMON OPTIONS' <<<"$text"; then
		man=$(printf '%s\n%s\n' "$man" "$common" | sort -u)
	fi
	same_set "$v: --help flags = hive-cli.1 flags" "$help" "$man"

	accepted=
	for o in $src_longs; do
		if accepts "$v" "$o"; then accepted+="$o"$'\n'; fi
	done
	subset "$v: every option in cli/ it accepts is in its --help" \
	    "$accepted" "$help"
	refused=
	for o in $help; do
		accepts "$v" "$o" || refused+="$o"$'\n'
	done
	check "$v: every flag its --help lists is accepted" [ -z "$refused" ]
	[ -z "$refused" ] || echo "    refused: $(printf '%s ' $refused)"
done

help_ok "hive-cli admin --help" "$CLI" admin --help
help_ok "hive-cli keys --help" "$CLI" keys --help
help_ok "hive-cli policy --help" "$CLI" policy --help
usage_err "hive-cli admin (no keygen)" "$CLI" admin
help_ok "hive-cli trust --help" "$CLI" trust --help
usage_err "hive-cli trust (no operation)" "$CLI" trust
usage_err "hive-cli keys (no list)" "$CLI" keys
usage_err "hive-cli policy (no explain)" "$CLI" policy

# a reply must not take what comes from the original
for o in --to --ch --action --args --corr --wait; do
	if accepts reply "$o"; then fail "reply refuses $o"; else ok "reply refuses $o"; fi
done

# --- hive-daemon -------------------------------------------------------

D8="$MAN/hive-daemon.8"
rc=0; "$DAEMON" --help >"$T/dusage" 2>"$T/dusage.err" || rc=$?
check "hive-daemon --help exits 0" [ "$rc" -eq 0 ]
check "hive-daemon --help prints the usage on stdout, nothing on stderr" \
    bash -c 'grep -q "^usage: hive-daemon" "$1" && [ ! -s "$2" ]' _ \
    "$T/dusage" "$T/dusage.err"
help_ok "hive-daemon -h" "$DAEMON" -h
rc=0; "$DAEMON" --no-such-flag >"$T/dbad" 2>"$T/dbad.err" || rc=$?
check "hive-daemon with an unknown flag: usage on stderr, exit 2" \
    bash -c '[ "$1" -eq 2 ] && [ ! -s "$2" ] && grep -q "^usage: hive-daemon" "$3"' \
    _ "$rc" "$T/dbad" "$T/dbad.err"
rc=0; dver=$("$DAEMON" --version) || rc=$?
cver=$("$CLI" --version)
vre='^hive-daemon [0-9]+\.[0-9]+\.[0-9]+$'
check "hive-daemon --version exits 0 and says hive-daemon VERSION" \
    bash -c '[ "$1" -eq 0 ] && [[ $2 =~ $3 ]]' _ "$rc" "$dver" "$vre"
check "...the version hive-cli --version gives" \
    [ "${dver#hive-daemon }" = "${cver#hive-cli }" ]
check "...the version hive-daemon.8 names" \
    grep -qF "\"hive ${dver#hive-daemon }\"" "$D8"
usage=$(flags_in_bundled <"$T/dusage")
check "hive-daemon usage lists flags" [ -n "$usage" ]
man_all=$(man_sh "$D8" OPTIONS | tp_tags | roff_plain | flags_in)
internal=$(man_sh "$D8" OPTIONS | man_ss /dev/stdin INTERNAL | tp_tags |
    roff_plain | flags_in)
check "hive-daemon.8 has INTERNAL OPTIONS" [ -n "$internal" ]
same_set "hive-daemon usage = hive-daemon.8 OPTIONS (less internal ones)" \
    "$usage" "$(comm -23 <(printf '%s\n' "$man_all") <(printf '%s\n' "$internal"))"
optstring=$(grep -oE 'getopt_long\(argc, argv, "[^"]*"' \
    "$HIVE_SRC/src/daemon.c" | sed -E 's/.*"([^"]*)"/\1/')
check "hive-daemon's getopt string found" [ -n "$optstring" ]
src_d=$( { tr -d ':' <<<"$optstring" | grep -o . | sed 's/^/-/'
    grep -ohE '\{ "[a-z][a-z0-9-]*", (no|required|optional)_argument' \
    "$HIVE_SRC/src/daemon.c" | sed -E 's/^\{ "([^"]+)".*/--\1/'; } | sort -u)
same_set "hive-daemon options in src/daemon.c = hive-daemon.8 OPTIONS" \
    "$src_d" "$man_all"

# --- hive.conf ---------------------------------------------------------

C5="$MAN/hive.conf.5"
src_kw=$(grep -oE '^[[:space:]]*(KW_[A-Z]+\("[a-z_]+"|\{ "[a-z_]+", CT_)' \
    "$HIVE_SRC/src/config.c" | grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
man_kw=$(man_sh "$C5" KEYWORDS | tp_tags | awk '{ print $2 }' | sort -u)
check "keywords found in src/config.c" [ "$(wc -l <<<"$src_kw")" -gt 20 ]
same_set "hive.conf keywords: src/config.c = hive.conf.5" "$src_kw" "$man_kw"
# docs/configuration.md's table under "## Keywords": its first column
CONFMD="$HIVE_SRC/docs/configuration.md"
md_kw=$(awk '/^## / { on = ($0 == "## Keywords"); next }
    on && /^\| `[a-z_]+` \|/ { split($0, a, "`"); print a[2] }' "$CONFMD" |
    sort -u)
same_set "hive.conf keywords: src/config.c = docs/configuration.md's table" \
    "$src_kw" "$md_kw"

# the parser itself: every documented keyword is known to it (a probe
# value may be bad, never the keyword unknown), and every keyword that
# hive-daemon -n prints is documented in both
unknown=
for kw in $(printf '%s\n%s\n' "$man_kw" "$md_kw" | sort -u); do
	[ "$kw" != node ] || continue
	printf 'node turq-18789\n%s 1\n' "$kw" >"$T/probe.conf"
	chmod 600 "$T/probe.conf"
	"$DAEMON" -n -c "$T/probe.conf" >/dev/null 2>"$T/probe.err" || true
	! grep -q "unknown keyword" "$T/probe.err" || unknown+="$kw "
done
check "every documented keyword is accepted by the parser" [ -z "$unknown" ]
[ -z "$unknown" ] || echo "    unknown: $unknown"
printf 'node turq-18789\n' >"$T/probe.conf"
chmod 600 "$T/probe.conf"
"$DAEMON" -n -c "$T/probe.conf" >"$T/probe.out" 2>&1 ||
    fail "hive-daemon -n on a minimal file"
printed=$(awk '{ print $1 }' "$T/probe.out" | sort -u)
subset "every keyword hive-daemon -n prints is in hive.conf.5" \
    "$printed" "$man_kw"
subset "every keyword hive-daemon -n prints is in docs/configuration.md" \
    "$printed" "$md_kw"

# every default hive-daemon -n prints is the page's "Default:"
printf 'node turq-18789\n' >"$T/hive.conf"
chmod 600 "$T/hive.conf"
"$DAEMON" -n -c "$T/hive.conf" >"$T/normal" 2>&1 ||
    fail "hive-daemon -n on a minimal file"
bad=
while read -r kw val; do
	[ "$kw" != node ] || continue
	# captured, then matched: grep -q at the end of the pipe would
	# stop its writers early (SIGPIPE, a failure under pipefail)
	text=$(man_sh "$C5" KEYWORDS | awk -v k="$kw" '
	    /^\.TP/ { tag = 1; on = 0; next }
	    tag { split($0, a, " "); on = (a[2] == k); tag = 0; next }
	    /^\.S[HS] / { on = 0 }
	    on' | roff_plain | sed -E 's/^\.[A-Z]+ //; s/"//g' | tr '\n' ' ') ||
	    text=
	grep -qF "Default: $val" <<<"$text" || bad+="$kw=$val "
done <"$T/normal"
check "hive.conf.5 gives every default that hive-daemon -n prints" \
    [ -z "$bad" ]
[ -z "$bad" ] || echo "    wrong or missing: $bad"

# --- bash completion --------------------------------------------------

# comp WORD...: what the completion offers for the last word
comp() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
	    _hive_cli; printf "%s\n" "${COMPREPLY[@]}"' comp "$COMPLETION" "$@"
}

check "completion script is valid bash" bash -n "$COMPLETION"
same_set "completion: verbs = hive-cli --help verbs (+ help, --help, --version)" \
    "$(comp hive-cli "")" "$(printf '%s\nhelp\n--help\n--version\n' "$verbs")"
for v in $verbs; do
	# shellcheck disable=SC2046
	same_set "completion: $v flags = its --help flags" \
	    "$(comp hive-cli $(verb_argv "$v") -)" "$(flags_in <"$T/help.$v")"
done
check "completion: keys offers list" grep -qx list <(comp hive-cli keys "")
check "completion: policy offers explain" \
    grep -qx explain <(comp hive-cli policy "")
channels=$(grep -oE '\[CH_[A-Z]+\] = "[a-z]+"' "$HIVE_SRC/src/envelope.c" |
    grep -oE '"[a-z]+"' | tr -d '"')
check "channels found in src/envelope.c" [ "$(wc -l <<<"$channels")" -ge 6 ]
same_set "completion: send --ch = the channels of src/envelope.c" \
    "$(comp hive-cli send --ch "")" "$channels"
same_set "completion: policy explain --ch = the channels" \
    "$(comp hive-cli policy explain --ch "")" "$channels"
urg=$(grep -oE 'strcmp\(u, "[a-z]+"\)' "$HIVE_SRC/src/envelope.c" |
    grep -oE '"[a-z]+"' | tr -d '"')
same_set "completion: --urgency = the values src/envelope.c accepts" \
    "$(comp hive-cli send --urgency "")" "$urg"
same_set "completion: reply --urgency=" \
    "$(comp hive-cli reply --urgency = "")" "$urg"

# --- where people find them ----------------------------------------

for page in hive-cli.1 hive-daemon.8 hive.conf.5 hive-policy.5; do
	for doc in README.md docs/cli.md; do
		check "$doc links docs/man/$page" \
		    grep -qF "docs/man/$page" "$HIVE_SRC/$doc"
	done
done

finish
