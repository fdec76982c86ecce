#!/usr/bin/env bash
# Compares two builds of the package, as the "measured and not kept" entries
# of benchmarks/JOURNAL.md were measured: alternating rounds of two test binaries,
# then benchstat of the one against the other.
#
#   scripts/ab.sh OLD_REV NEW_REV 'PATTERN' [OUTDIR]
#
# OLD_REV and NEW_REV are anything git can check out (a commit, a branch,
# or WORKTREE for the working tree as it is). Each round runs OLD's binary
# then NEW's, every benchmark that PATTERN selects once each, so that a slow
# spell of the shared machine falls on both builds alike instead of on one
# build's samples. The raw results go to OUTDIR/old.txt and OUTDIR/new.txt
# (OUTDIR defaults to a new temporary directory) and benchstat's comparison
# is printed and saved as OUTDIR/cmp.txt.
#
# ROUNDS (default 8), CPUS (default 1,2) and BENCHTIME (default 200ms) tune
# the run. Nothing else should load the machine meanwhile.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,17p' "$0"
  exit 2
fi
cd "$(dirname "$0")/.."
old_rev=$1
new_rev=$2
pattern=$3
out=${4:-$(mktemp -d)}
rounds=${ROUNDS:-8}
cpus=${CPUS:-1,2}
benchtime=${BENCHTIME:-200ms}

go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
export PATH="$(go env GOPATH)/bin:$PATH"
mkdir -p "$out"

# build REV BIN: compiles the test binary of REV into BIN, from a temporary
# worktree, or from the working tree itself for WORKTREE.
build() {
  if [ "$1" = WORKTREE ]; then
    go test -c -o "$2" .
    return
  fi
  local tree
  tree=$(mktemp -d)
  git worktree add -q --detach "$tree" "$1"
  (cd "$tree" && go test -c -o "$2" .)
  git worktree remove --force "$tree"
}
build "$old_rev" "$out/old.test"
build "$new_rev" "$out/new.test"

: >"$out/old.txt"
: >"$out/new.txt"
for round in $(seq "$rounds"); do
  for build in old new; do
    if ! "$out/$build.test" -test.run '^$' -test.bench "$pattern" -test.benchtime "$benchtime" \
      -test.cpu "$cpus" -test.count 1 -test.benchmem >"$out/last.txt"; then
      cat "$out/last.txt" >&2
      exit 1
    fi
    # -test.bench splits PATTERN at each / and matches one level of the
    # name with each part, so a .* never spans two levels: say so rather
    # than stop with empty files.
    if ! grep -q '^Benchmark' "$out/last.txt"; then
      echo "ab.sh: '$pattern' selects no benchmark (each /-separated part matches one level of a name)" >&2
      exit 1
    fi
    grep -E '^(Benchmark|goos|goarch|pkg|cpu)' "$out/last.txt" >>"$out/$build.txt"
  done
  echo "round $round of $rounds done" >&2
done
benchstat "$out/old.txt" "$out/new.txt" | tee "$out/cmp.txt"
echo "results in $out" >&2
