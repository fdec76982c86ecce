#!/usr/bin/env bash
# Runs the scaling subset of the comparison benchmarks (BENCHMARKS.md,
# "Scaling") at several GOMAXPROCS values with a prebuilt test binary, so
# that the figures can be measured on a machine without Go:
#
#   go test -c -o safemap.test .              # where Go is
#   scripts/scaling.sh ./safemap.test OUT     # where the cores are
#   benchstat -col /impl OUT                  # where benchstat is
#
# Each of the COUNT rounds (default 6) runs every benchmark once at every
# CPU count (CPUS, default 1,2,4,8,16), so a run cut short still holds
# every row, with fewer samples. BENCHTIME defaults to 100ms.
set -euo pipefail
bin=$1
out=$2
count=${COUNT:-6}
cpus=${CPUS:-1,2,4,8,16}
benchtime=${BENCHTIME:-100ms}
impls='impl=(safemap|syncmap|xsyncv3|xsyncv4)$'

# Go splits a -bench pattern at slashes, one part per level, so each group
# of rows is its own pattern.
patterns=(
  "GoSet/workload=(LoadMostlyHits|LoadOrStoreBalanced|LoadOrStoreUnique|AdversarialAlloc|AdversarialDelete|SwapCollision)$/$impls"
  "Mixed/keys=int$/size=1000$/reads=(100|99|90|50)$/$impls"
  "Mixed/keys=string$/size=1000$/reads=99$/$impls"
  "Mixed/keys=int$/size=100000$/reads=(99|90|50)$/$impls"
  "Mixed/keys=string$/size=100000$/reads=90$/$impls"
)

{
  echo "# scripts/scaling.sh $bin: COUNT=$count CPUS=$cpus BENCHTIME=$benchtime"
  nproc | sed 's/^/# cores: /'
  grep -m1 'model name' /proc/cpuinfo | sed 's/^/# /' || true
} >"$out"
for round in $(seq "$count"); do
  for p in "${patterns[@]}"; do
    "$bin" -test.run '^$' -test.bench "$p" -test.benchtime "$benchtime" \
      -test.cpu "$cpus" -test.count 1 | grep -v -e '^PASS' -e '^ok' >>"$out"
  done
  echo "round $round done: $(date +%T)" >&2
done
