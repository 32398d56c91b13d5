#!/usr/bin/env bash
# deps.sh - install what building and testing hive needs, from Debian's
# packages only.  Idempotent: installs only what is missing.  Run as
# root (make demo / make test call it); as another user it only checks.
set -euo pipefail

PKGS=(build-essential cmake pkg-config
      libmosquitto-dev libsodium-dev libjansson-dev libseccomp-dev
      libcap-ng-dev mosquitto mosquitto-clients jq openssl
      systemd procps groff-base mandoc clang libclang-rt-14-dev
      git curl python3 iproute2)
# systemd: systemd-analyze, -sysusers and -tmpfiles for
# tests/integration/test_units.sh (no systemd needs to run: the checks
# are offline).  procps: /bin/kill, which the unit's ExecReload= names
# and systemd-analyze verify wants to find.
# groff-base, mandoc: tests/integration/test_help.sh lints the manual
# pages with both (groff -ww, mandoc -Tlint).
# clang, libclang-rt-14-dev: make fuzz-smoke builds fuzz/ with
# -fsanitize=fuzzer; libFuzzer's runtime (libclang_rt.fuzzer*.a) is in
# libclang-rt-14-dev, which clang-14 only recommends, and we install
# without recommends.
# jq: the example handlers (handlers.d/) and the tests read JSON with it.
# git, curl: the git-sync and check-services example handlers;
# python3: a local HTTP server in tests/integration/
# test_example_handlers.sh (and the skills' front-matter check).
# iproute2: ip netns and veth pairs, the two hosts of
# tests/integration/test_bridge.sh.

missing=()
for p in "${PKGS[@]}"; do
	grep -q "install ok installed" <<<"$(dpkg-query -W -f='${Status}' \
	    "$p" 2>/dev/null)" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages: ${missing[*]}" >&2
	echo "run as root, or: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's package starts a system broker where systemd runs; our tests
# and demo use private brokers on their own ports and need none.
