#!/usr/bin/env bash
# plot.sh - the bus benchmarks' plots, from the data files bench/bus.sh
# -o DIR wrote:
#
#   bench/plot.sh DATADIR [OUTDIR]
#
#   OUTDIR/rtt.png         round-trip latency, cumulative: hive-cli send
#                          --wait to echo and to nop, mosquitto_rr raw
#   OUTDIR/throughput.png  heartbeats/s routed and the verify rate of one
#                          core, against the number of simulated peers
#
# OUTDIR defaults to DATADIR.  gnuplot (Debian: gnuplot-nox) is
# installed if missing and we are root; otherwise no plots, exit 0.
set -euo pipefail
D=${1:?usage: plot.sh DATADIR [OUTDIR]}
O=${2:-$D}
if ! command -v gnuplot >/dev/null; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    gnuplot-nox >/dev/null
	else
		echo "plot.sh: no gnuplot (apt-get install gnuplot-nox); no plots" >&2
		exit 0
	fi
fi
mkdir -p "$O"

# cdf FILE: "ms fraction" lines
cdf() { sort -g "$1" | awk '{ v[NR] = $1 } END { for (i = 1; i <= NR; i++)
    print v[i], i / NR }'; }
if [ -s "$D/rtt-hive.dat" ]; then
	cdf "$D/rtt-hive.dat" >"$D/rtt-hive.cdf"
	cdf "$D/rtt-nop.dat" >"$D/rtt-nop.cdf"
	cdf "$D/rtt-raw.dat" >"$D/rtt-raw.cdf"
	gnuplot <<-GP
	set terminal pngcairo size 800,480 font ",10"
	set output "$O/rtt.png"
	set title "Round trip on loopback, whole processes ($(wc -l <"$D/rtt-hive.dat") each, interleaved)"
	set xlabel "round trip (ms, log scale)"
	set ylabel "fraction of trips"
	set logscale x
	set key bottom right
	set grid
	plot "$D/rtt-raw.cdf" using 1:2 with lines lw 2 title "mosquitto\\\\_rr, raw echo", \
	     "$D/rtt-nop.cdf" using 1:2 with lines lw 2 title "hive-cli send --wait, nop handler", \
	     "$D/rtt-hive.cdf" using 1:2 with lines lw 2 title "hive-cli send --wait, echo handler"
	GP
	echo "plot.sh: $O/rtt.png"
fi
if [ -s "$D/throughput.dat" ]; then
	# medians per peer count: peers verify raw router
	for p in $(awk '{ print $1 }' "$D/throughput.dat" | sort -nu); do
		for col in 2 3 4; do
			awk -v p="$p" -v c="$col" '$1 == p { print $c }' \
			    "$D/throughput.dat" | sort -g | awk '{ v[NR] = $1 }
			    END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			    printf "%s ", m }'
		done | awk -v p="$p" '{ print p, $0 }'
	done >"$D/throughput.med"
	gnuplot <<-GP
	set terminal pngcairo size 800,480 font ",10"
	set output "$O/throughput.png"
	set title "Signed heartbeats verified and routed by hive-daemon (medians of interleaved rounds)"
	set xlabel "simulated peers (each its own key; log scale)"
	set ylabel "messages per second"
	set logscale x
	set xtics ($(awk '{ printf "%s\"%s\" %s", (NR > 1) ? ", " : "", $1, $1 }' "$D/throughput.med"))
	set yrange [0:*]
	set key bottom left
	set grid
	plot "$D/throughput.med" using 1:2 with linespoints lw 2 title "crypto\\\\_sign\\\\_verify\\\\_detached, one core", \
	     "$D/throughput.med" using 1:(0.85*\$2) with lines dt 2 title "goal: 0.85 of it", \
	     "$D/throughput.med" using 1:4 with linespoints lw 2 title "hive-daemon, end to end"
	GP
	echo "plot.sh: $O/throughput.png"
fi
