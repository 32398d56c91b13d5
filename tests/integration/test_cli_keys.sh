#!/usr/bin/env bash
# test_cli_keys.sh - hive-cli keygen, keys list, verify and the secret
# key file checks, as a user meets them (no broker needed).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mkdir -m 700 "$T/k" "$T/ring"
kid=$("$CLI" keygen --node turq-18789 --dir "$T/k")
check "keygen prints a 16-hex kid" grep -Eqx '[0-9a-f]{16}' <<<"$kid"
check "secret key is mode 0600" [ "$(stat -c %a "$T/k/turq-18789.key")" = 600 ]
check "public key is mode 0644" [ "$(stat -c %a "$T/k/turq-18789.pub")" = 644 ]
check "public key file has the specified key line" grep -Eq \
    '^hive-ed25519 [A-Za-z0-9+/]{43}= turq-18789$' "$T/k/turq-18789.pub"
check "secret key file has the specified key line" grep -Eqx \
    'hive-ed25519-secret [A-Za-z0-9+/]{86}== turq-18789' "$T/k/turq-18789.key"
before=$(sha256sum "$T/k/turq-18789.key")
rc=0; "$CLI" keygen --node turq-18789 --dir "$T/k" 2>"$T/e" || rc=$?
check "keygen refuses to overwrite (exit 2)" [ "$rc" -eq 2 ]
check "the existing secret is untouched" \
    [ "$(sha256sum "$T/k/turq-18789.key")" = "$before" ]
rc=0; "$CLI" keygen --node all --dir "$T/k" 2>/dev/null || rc=$?
check "keygen refuses a reserved node name" [ "$rc" -eq 2 ]

kid2=$("$CLI" keygen --node pg1-18890 --dir "$T/k")
cp "$T/k/"*.pub "$T/ring/"
"$CLI" keys list --keys "$T/ring" >"$T/list"
check "keys list shows node, kid and trusted state" \
    grep -Eq "^turq-18789 +$kid +blake2b:$kid[0-9a-f]{48} +trusted +turq-18789.pub" \
    "$T/list"
printf '# compromised laptop\n%s\n' "$kid2" >"$T/ring/revoked"
"$CLI" keys list --keys "$T/ring" >"$T/list"
check "a listed kid shows as revoked" \
    grep -Eq "^pg1-18890 +$kid2 .* revoked " "$T/list"

printf '%s\n' '{"v":2}' >"$T/bad.json"
rc=0; "$CLI" verify --keys "$T/ring" "$T/bad.json" >"$T/v" || rc=$?
check "verify refuses a schema-invalid envelope (exit 1)" [ "$rc" -eq 1 ]
check "verify names the reason" grep -q '^refused reason=schema' "$T/v"
rc=0; "$CLI" verify --keys "$T/ring" - <"$T/bad.json" >/dev/null || rc=$?
check "verify reads standard input" [ "$rc" -eq 1 ]

chmod 644 "$T/k/turq-18789.key"
rc=0; "$CLI" send -h 127.0.0.1 -p 1 --sign-key "$T/k/turq-18789.key" \
    --to pg1-18890 --ch command --text x >/dev/null 2>"$T/e" || rc=$?
check "a world-readable secret key is refused (exit 2)" [ "$rc" -eq 2 ]
check "the refusal says why" grep -q 'group or others' "$T/e"
chmod 600 "$T/k/turq-18789.key"
ln -s "$T/k/turq-18789.key" "$T/k/link.key"
rc=0; "$CLI" send -h 127.0.0.1 -p 1 --sign-key "$T/k/link.key" \
    --to pg1-18890 --ch command --text x >/dev/null 2>"$T/e" || rc=$?
check "a symlinked secret key is refused (exit 2)" [ "$rc" -eq 2 ]
check "the refusal names the symlink" grep -q 'symlink' "$T/e"

# an explicit config file that does not exist is an error; values from
# a config file are used, flags override them
rc=0; "$CLI" keys list -c "$T/none.conf" >/dev/null 2>&1 || rc=$?
check "a missing explicit config file is an error (exit 2)" [ "$rc" -eq 2 ]
printf 'keys %s\n' "$T/ring" >"$T/hive.conf"
chmod 600 "$T/hive.conf"
check "keys list takes the keyring from the config file" \
    bash -c 'grep -q "^turq-18789" <<<"$("$1" keys list -c "$2")"' _ "$CLI" \
    "$T/hive.conf"
check "-cFILE and the --conf abbreviation are honoured" \
    bash -c 'grep -q "^turq-18789" <<<"$("$1" keys list -c"$2")" &&
    grep -q "^turq-18789" <<<"$("$1" keys list --conf "$2")"' _ "$CLI" "$T/hive.conf"
printf 'keys %s\nbogus 1\n' "$T/ring" >"$T/bad.conf"
chmod 600 "$T/bad.conf"
rc=0; "$CLI" keys list -c "$T/bad.conf" >/dev/null 2>"$T/e" || rc=$?
check "a bad config keyword is an error with file:line" \
    grep -q "bad.conf:2: unknown keyword 'bogus'" "$T/e"

finish
