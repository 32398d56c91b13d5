#!/usr/bin/env bash
# test_skills.sh - the OpenClaw skills in skills/: the front matter
# parses (name = directory, a description, metadata that is JSON and
# requires hive-cli); every `hive-cli VERB --flag` they show exists in
# `hive-cli VERB --help`; and the event texts they teach the agent to
# read are the ones the daemon writes (src/router*.c).  No broker.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SKILLS=(hive-member hive-master)
FILES=()
for s in "${SKILLS[@]}"; do FILES+=("$HIVE_SRC/skills/$s/SKILL.md"); done
VERBS=$("$CLI" --help 2>&1 | awk '/^verbs:/ { on = 1; next } on && NF { print $1 }')

# front_matter FILE: the lines between the opening and closing "---"
front_matter() {
	awk 'NR == 1 { if ($0 != "---") exit 1; next }
	    $0 == "---" { done = 1; exit } { print }
	    END { if (!done) exit 1 }' "$1"
}
# key FILE KEY: the value of a one-line "KEY: value"
key() { front_matter "$1" | sed -n "s/^$2: //p"; }

for s in "${SKILLS[@]}"; do
	f="$HIVE_SRC/skills/$s/SKILL.md"
	check "$s: SKILL.md exists" test -f "$f"
	if front_matter "$f" >/dev/null; then ok "$s: front matter between --- lines"
	else fail "$s: front matter between --- lines"; fi
	check "$s: only name, description, metadata, one line each" bash -c \
	    '[ -z "$(printf "%s\n" "$1" | grep -Ev "^(name|description|metadata): .")" ] &&
	    [ "$(printf "%s\n" "$1" | cut -d: -f1 | sort | uniq -d)" = "" ]' \
	    _ "$(front_matter "$f")"
	check "$s: name is the directory's name" [ "$(key "$f" name)" = "$s" ]
	d=$(key "$f" description)
	check "$s: a description of 20..1024 characters" \
	    [ ${#d} -ge 20 -a ${#d} -le 1024 ]
	check "$s: the description is a plain YAML scalar" bash -c \
	    '[[ $1 =~ ^[A-Za-z] ]] && [[ $1 != *": "* ]] && [[ $1 != *" #"* ]]' \
	    _ "$d"
	check "$s: metadata is JSON and requires the hive-cli binary" \
	    bash -c 'printf "%s" "$1" | jq -e ".openclaw.requires.bins |
	    index(\"hive-cli\")" >/dev/null' _ "$(key "$f" metadata)"
	if python3 -c 'import yaml' 2>/dev/null; then
		check "$s: front matter loads as YAML with the same values" \
		    python3 -c 'import json, sys, yaml
d = yaml.safe_load(sys.stdin.read())
assert d["name"] == sys.argv[1] and isinstance(d["description"], str)
assert "hive-cli" in d["metadata"]["openclaw"]["requires"]["bins"]' \
		    "$s" < <(front_matter "$f")
	fi
done

# --- every hive-cli command line the skills show ----------------------------
# "hive-cli VERB ..." up to the end of the code span, a pipe or a comment
grep -oh 'hive-cli [a-z][a-z-]*[^`|#]*' \
    "${FILES[@]}" |
    sed 's/[[:space:]]*$//' | sort -u >"$T/commands" || true
check "the skills show hive-cli commands" [ -s "$T/commands" ]
while read -r _ verb rest; do
	if ! grep -qx -- "$verb" <<<"$VERBS"; then
		fail "hive-cli $verb: no such verb"
		continue
	fi
	"$CLI" "$verb" --help >"$T/help.$verb" 2>&1 || true
	for flag in $(printf '%s\n' "$rest" | grep -oE -- '(^|[[:space:]])--[a-z-]+' |
	    tr -d ' \t'); do
		if grep -qE -- "(^|[[:space:][])$flag([][:space:]=,]|$)" "$T/help.$verb"; then
			ok "hive-cli $verb $flag is in 'hive-cli $verb --help'"
		else
			fail "hive-cli $verb $flag is not in 'hive-cli $verb --help'"
		fi
	done
done <"$T/commands"
for v in send reply status roster pending sync-status; do
	check "the skills cover hive-cli $v" grep -q "^hive-cli $v\\b" "$T/commands"
done
for f in --wait --replies --corr --action --args --urgency --to-msg --json; do
	check "the skills explain $f" grep -q -- "$f" \
	    "${FILES[@]}"
done

# --- the event texts are the daemon's --------------------------------------
# Each phrase the member skill quotes, and where the daemon writes it.
while IFS='|' read -r phrase file; do
	check "skill and $file agree on \"$phrase\"" bash -c \
	    'grep -qF -- "$1" "$2" && grep -qF -- "$1" "$3"' _ "$phrase" \
	    "$HIVE_SRC/skills/hive-member/SKILL.md" "$HIVE_SRC/src/$file"
done <<'PHRASES'
Response expected.|router_route.c
Your reply is sent back automatically|router_route.c
(signed, key |router_route.c
(this box's |router_route.c
(command to |router_corr.c
Hive alert: no response to |router_corr.c
Received action '|router_route.c
' but no handler installed. Text: |router_route.c
Hive alert from sentinel |router_handler.c
' failed on |router_handler.c
missed 3 heartbeats|router_route.c
Use the hive skill|router_route.c
PHRASES

finish
