#!/usr/bin/env bash
# Runs the comparison benchmarks as BENCHMARKS.md reports them, and prints
# the benchstat tables with the implementations side by side.
#
#   scripts/bench.sh [OUT]        # raw results go to OUT (default bench.txt)
#
# Next to OUT it writes OUT.env (machine, Go version, a probe of the host's
# speed at the start, and when each round ended), and, with OUT's
# .txt replaced: -benchstat.txt (benchstat -col /impl), -ratios.txt
# (scripts/ratios.py) and -tables.md (scripts/benchtables.py, the tables of
# BENCHMARKS.md; scripts/replacetables.py puts them there, in place of the
# last run's).
#
# COUNT (default 6), CPUS (default 1,2) and BENCHTIME (default 200ms) tune
# the run; the defaults take about 20 minutes on 2 cores. Run it on a quiet
# machine: anything else running skews the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench.txt}
count=${COUNT:-6}
cpus=${CPUS:-1,2}
benchtime=${BENCHTIME:-200ms}

go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
export PATH="$(go env GOPATH)/bin:$PATH"

{
  go version
  nproc | sed 's/^/cores: /'
  # The kernel's name of the processor, read at boot: the VM can move to
  # another kind of host since (benchmarks/JOURNAL.md, the session of
  # 2026-12-04 from 07:33). The probe's cpu: line below, and each round's
  # in OUT, is Go's reading when the binary starts.
  grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/^/at boot: /' || true
} | tee "$out.env"

# One test binary, run COUNT times with -count 1: each round measures every
# benchmark once, so each implementation's samples are spread over the whole
# run, as its peers' are. With -count N, go test runs a benchmark's N
# samples back to back, and a slow spell of the machine (BENCHMARKS.md,
# "Machine and method") then falls on one implementation's samples and skews the
# ratios; in rounds it falls on one sample of each.
bin=$(mktemp -d)/safemap.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" .
# How fast the host runs right now, into OUT.env: a plain Go map's hit over
# 1,024 int keys (6.5-6.6 ns in run r31, 12.6-20.2 ns in the slow hour of
# r32), BenchmarkHost's stores and BenchmarkHostChase's loads, and
# BenchmarkHostPingPong's round trip of a cache line between the two cores
# (see host_test.go). A run whose probe is far off a quiet one's is
# disturbed as a whole (benchmarks/JOURNAL.md, the session of 2026-12-03
# from 16:20).
pingpong() {
  "$bin" -test.run '^$' -test.bench 'HostPingPong' -test.benchtime 100ms \
    -test.count "$1" -test.cpu 2 | grep -E '^Benchmark'
}
{
  echo "host probe at the start, $(date -u +%FT%TZ):"
  "$bin" -test.run '^$' -test.bench 'LoadHitSerial/keys=int/impl=gomap$|Host$|HostChase' \
    -test.benchtime 100ms -test.count 3 -test.cpu 1 | grep -E '^(cpu:|Benchmark)'
  pingpong 3
} | tee -a "$out.env"
: >"$out"
for round in $(seq "$count"); do
  "$bin" -test.run '^$' -test.bench 'GoSet|Mixed|LoadHitSerial|LoadHitRandom' \
    -test.benchtime "$benchtime" -test.count 1 -test.cpu "$cpus" | tee -a "$out"
  # The round trip right after the round: the rows whose goroutines write
  # the same lines (Go's Clear at 2 CPUs) ran slow in rounds where it was
  # slow (benchmarks/JOURNAL.md, the session of 2026-12-06 from 19:39).
  echo "round $round of $count done: $(date -u +%FT%TZ), $(pingpong 1 | awk '{print "ping-pong " $3 " ns"}')" |
    tee -a "$out.env" >&2
done
# The memory benchmark fills 1,000,000 entries per run: once per count.
"$bin" -test.run '^$' -test.bench 'Memory' -test.benchtime 1x -test.count "$count" | tee -a "$out"

base=${out%.txt}
benchstat -col /impl "$out" | tee "$base-benchstat.txt"
python3 scripts/ratios.py "$out" > "$base-ratios.txt"
python3 scripts/benchtables.py "$out" > "$base-tables.md"
