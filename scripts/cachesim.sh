#!/usr/bin/env bash
# Counts instructions and simulated cache misses per benchmark operation,
# with valgrind's cachegrind: figures that do not swing with the machine's
# load, for comparing two versions of a hot path where timings on a shared
# machine cannot tell them apart (see benchmarks/JOURNAL.md, "Counting instead of
# timing").
#
#   go test -c -o safemap.test .
#   scripts/cachesim.sh ./safemap.test 'LoadHitSerial/keys=int/impl=safemap$'
#
# PATTERN must select one benchmark, and one that does not allocate: in one
# that does, the garbage collector's cycles fall differently in the two
# runs, and the difference means nothing (a write mix gave 131 and 401
# instructions per operation at two values of N). It is run at -cpu 1 twice, for N and
# 3N iterations (N defaults to 1,000,000), and the difference divided by 2N
# is printed: the per-operation cost without the benchmark's setup. The
# simulated caches: 32 KiB 8-way L1 (D1) and a 512 KiB 8-way last level
# (LL), 64-byte lines, no prefetching.
#
# A benchmark that runs its goroutines with RunParallel (the Go set, Mixed)
# counts testing's PB.Next too, and more of it than a timed run does:
# RunParallel hands out iterations in grains sized from the previous round,
# and with -benchtime Nx the only previous round is the one-iteration probe,
# so the grains are small (one iteration if the probe took 100 µs or
# more), and a goroutine adds to the shared counter every few iterations.
# The cost is the same for every build and peer: the differences stand,
# the absolute counts include it. (At -cpu 2, where the counter's line
# moves between the cores, a profile of AdversarialDelete at -benchtime
# 20000000x put 55% of its samples in PB.Next, against 2% at 3s.)
#
# Needs valgrind (Debian: apt-get install valgrind); takes about a minute
# per benchmark.
set -euo pipefail
bin=$1
pattern=$2
n=${N:-1000000}

run() {
  # GOGC=off: the collector's background work otherwise falls differently
  # in the two runs even where the benchmark allocates nothing (on
  # 2026-11-30 a serial int hit came out at -71 instructions per operation
  # with it on, and at 130-136 in six runs with it off).
  local log
  log=$(mktemp)
  GOGC=off valgrind --tool=cachegrind --cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 --LL=524288,8,64 \
    --cachegrind-out-file=/dev/null "$bin" -test.run '^$' -test.bench "$pattern" \
    -test.benchtime "${1}x" -test.cpu 1 >"$log" 2>&1 || true
  # A run that did not end with PASS counted only part of the work: under
  # valgrind the runtime can die of SIGILL when a contended runtime lock
  # reads the clock with RDTSCP, which valgrind does not know (seen on
  # 2026-12-02 while another test loaded the machine; the counts came out
  # near zero or negative).
  if ! grep -q '^PASS$' "$log"; then
    echo "cachesim: the run of $1 iterations failed; its output is in $log" >&2
    echo "x x x"
    return
  fi
  awk '/ I +refs:/ {gsub(",", "", $4); ir = $4}
       / D1 +misses:/ {gsub(",", "", $6); d1 = $6}
       / LLd misses:/ {gsub(",", "", $6); ll = $6}
       END {print ir, d1, ll}' "$log"
  rm -f "$log"
}

read -r ir1 d11 ll1 < <(run "$n")
read -r ir3 d13 ll3 < <(run $((3 * n)))
if [ "$ir1" = x ] || [ "$ir3" = x ]; then
  exit 1
fi
awk -v a="$ir1" -v b="$ir3" -v c="$d11" -v d="$d13" -v e="$ll1" -v f="$ll3" -v n="$n" 'BEGIN {
  printf "instructions/op %.1f  L1 data read misses/op %.3f  LL data read misses/op %.3f\n",
    (b - a) / (2 * n), (d - c) / (2 * n), (f - e) / (2 * n)
}'
