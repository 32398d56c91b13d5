#!/usr/bin/env bash
# test_trust_cli.sh - hive-cli admin keygen and trust show, add, remove,
# revoke on trust list files, as a user meets them (no broker needed):
# each named refusal, and node and admin keys never taken for each other.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mkdir -m 700 "$T/a" "$T/o" "$T/k"
kid=$("$CLI" admin keygen --dir "$T/a")
check "admin keygen prints a 16-hex kid" grep -Eqx '[0-9a-f]{16}' <<<"$kid"
check "admin.key is mode 0600" [ "$(stat -c %a "$T/a/admin.key")" = 600 ]
check "admin.pub has the admin tag" grep -Eqx \
    "hive-admin-ed25519 [A-Za-z0-9+/]{43}= admin" "$T/a/admin.pub"
before=$(sha256sum "$T/a/admin.key")
rc=0; "$CLI" admin keygen --dir "$T/a" 2>/dev/null || rc=$?
check "admin keygen refuses to overwrite (exit 2)" [ "$rc" -eq 2 ]
check "the existing admin key is untouched" \
    [ "$(sha256sum "$T/a/admin.key")" = "$before" ]
"$CLI" admin keygen --dir "$T/o" >/dev/null
k1=$("$CLI" keygen --node n1 --dir "$T/k")
k2=$("$CLI" keygen --node n2 --dir "$T/k")

"$CLI" trust add "$T/k/n1.pub" "$T/k/n2.pub" --role ops --cluster demo \
    --admin-key "$T/a/admin.key" --out "$T/t.json" >"$T/out"
check "trust add prints each member added" \
    grep -qx "added n1 kid $k1 role ops" "$T/out"
check "trust add signs serial 1" grep -q "^serial 1 signed by $kid " "$T/out"
"$CLI" trust revoke n2 --before 100 --admin-key "$T/a/admin.key" \
    --from "$T/t.json" --out "$T/t.json" >"$T/out"
check "trust revoke prints the change" grep -qx "revoked n2 before 100" "$T/out"
"$CLI" trust show --from "$T/t.json" --admin-pub "$T/a/admin.pub" \
    --cluster demo >"$T/show"
check "trust show: serial 2, signer, verified" \
    grep -qx "cluster demo serial 2 ts [0-9]* signer $kid verified" "$T/show"
check "trust show lists members with role and kid" \
    grep -Eq "^n2 +ops +$k2 +blake2b:$k2" "$T/show"
check "trust show lists the revocation" \
    grep -qx "revoked node n2 before 100" "$T/show"
"$CLI" trust remove n1 --admin-key "$T/a/admin.key" --from "$T/t.json" \
    --out "$T/t3.json" >"$T/out"
check "trust remove prints the change" grep -qx "removed n1" "$T/out"
"$CLI" trust show --from "$T/t3.json" >"$T/show"
check "a removed member is gone, serial 3" \
    [ "$(grep -c '^n1 ' "$T/show" || true)" = 0 ]
check "serial 3 after the third change" grep -q "serial 3 " "$T/show"

# refuse: an unpinned admin key, another cluster, a tampered list
refused() {	# refused NAME REASON ARGS...: exit 1 and the reason named
	local name=$1 reason=$2 rc=0
	shift 2
	"$CLI" "$@" >"$T/r" 2>&1 || rc=$?
	check "$name: exit 1" [ "$rc" -eq 1 ]
	check "$name: refused reason=$reason" grep -q "^refused reason=$reason " "$T/r"
}
refused "unpinned signer" trust-unpinned trust show --from "$T/t.json" \
    --admin-pub "$T/o/admin.pub"
refused "another cluster" trust-cluster trust show --from "$T/t.json" \
    --admin-pub "$T/a/admin.pub" --cluster other
sed 's/"serial":2/"serial":9/' "$T/t.json" >"$T/bad.json"
refused "tampered list" trust-signature trust show --from "$T/bad.json" \
    --admin-pub "$T/a/admin.pub"
refused "edit of a list another admin signed" trust-unpinned trust remove \
    n1 --admin-key "$T/o/admin.key" --from "$T/t.json" --out "$T/x.json"
check "a refused edit writes nothing" [ ! -e "$T/x.json" ]

# node and admin keys are never taken for each other
rc=0; "$CLI" trust show --from "$T/t.json" --admin-pub "$T/k/n1.pub" \
    2>"$T/e" || rc=$?
check "a node .pub is refused as an admin key (exit 2)" [ "$rc" -eq 2 ]
check "...saying it is a node key" grep -q "this is a 'hive-ed25519' key" "$T/e"
rc=0; "$CLI" trust add "$T/k/n1.pub" --admin-key "$T/k/n1.key" \
    --cluster demo --out "$T/x.json" 2>"$T/e" || rc=$?
check "a node secret key does not sign a trust list (exit 2)" [ "$rc" -eq 2 ]
rc=0; "$CLI" trust add "$T/a/admin.pub" --admin-key "$T/a/admin.key" \
    --cluster demo --out "$T/x.json" 2>"$T/e" || rc=$?
check "an admin .pub is not a member key (exit 2)" [ "$rc" -eq 2 ]
cp "$T/a/admin.pub" "$T/k/"
"$CLI" keys list --keys "$T/k" >"$T/list" 2>"$T/e" || true
check "an admin .pub in a keyring is skipped" grep -q "admin.pub.*skipped" "$T/e"
check "...and not listed" [ "$(grep -c "$kid" "$T/list" || true)" = 0 ]
finish
