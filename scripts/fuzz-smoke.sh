#!/usr/bin/env bash
# fuzz-smoke.sh - run every libFuzzer harness of fuzz/ for a bounded
# time and fail on any crash, leak, sanitizer report or failed
# property (make fuzz-smoke; part of make test).
#
#   scripts/fuzz-smoke.sh BUILD_DIR [SECONDS_EACH] [HARNESS...]
#
# BUILD_DIR was configured with CC=clang -DHIVE_FUZZ=ON and has the
# `fuzzers` target built.  The committed seeds in fuzz/corpus/NAME are
# read, never written: what libFuzzer finds goes to
# BUILD_DIR/fuzz-corpus/NAME (kept between runs), crash inputs to
# BUILD_DIR/fuzz-crashes/, each run's log to BUILD_DIR/fuzz-logs/.
# One summary line per harness: executions, edges covered (cov),
# features (ft), corpus size.
set -euo pipefail

build=${1:?usage: fuzz-smoke.sh BUILD_DIR [SECONDS_EACH] [HARNESS...]}
secs=${2:-20}
shift $(( $# >= 2 ? 2 : 1 ))
src=$(cd "$(dirname "$0")/.." && pwd)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(envelope policy config ipc seccomp frame control trust)

mkdir -p "$build/fuzz-crashes" "$build/fuzz-logs"
failed=()
for n in "${names[@]}"; do
	bin=$build/fuzz/fuzz_$n
	work=$build/fuzz-corpus/$n
	log=$build/fuzz-logs/$n.log
	[ -x "$bin" ] || { echo "fuzz-smoke: $bin not built" >&2; exit 2; }
	mkdir -p "$work"
	rc=0
	# -timeout: one input taking this long is a hang, reported as a
	# crash; -rss_limit_mb: likewise for runaway memory
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$build/fuzz-crashes/$n-" \
	    "$work" "$src/fuzz/corpus/$n" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")
	if [ "$rc" -ne 0 ]; then
		failed+=("$n")
		printf '%-9s FAILED (exit %d) after %s execs: see %s\n' \
		    "$n" "$rc" "${execs:-?}" "$log"
		# the first 5 such lines (awk reads to the end: head would
		# leave grep a closed pipe, a failure under pipefail)
		awk '/ERROR|SUMMARY|property failed|Test unit written/ &&
		    n++ < 5 { print "    " $0 }' "$log"
	else
		printf '%-9s ok  %ss  execs %s  cov %s  ft %s  corpus %s\n' \
		    "$n" "$secs" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
		    "${corp:-?}"
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz-smoke: crashes in: ${failed[*]}" \
	    "(reproduce: $build/fuzz/fuzz_NAME $build/fuzz-crashes/NAME-...)" >&2
	exit 1
fi
