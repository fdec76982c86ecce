#!/usr/bin/env python3
"""Summarise a benchmark file as ratios of medians, safemap / each peer.

    scripts/ratios.py bench.txt

For every benchmark (the name without /impl=..., and its -cpu suffix) it
takes the median ns/op of each implementation over the -count runs, the same
statistic benchstat reports, and prints safemap's median divided by each
peer's: below 1.00 safemap is faster. The last column is safemap against
the fastest peer of that row (the largest ratio). It ends with the geometric mean per
benchmark group. BENCHMARKS.md's summary tables come from it; the full
tables with confidence intervals come from benchstat.
"""
import collections
import math
import re
import statistics
import sys

LINE = re.compile(r"^(Benchmark\S+?)/impl=([a-z0-9]+)(?:-(\d+))?\s+\d+\s+([\d.]+) ns/op(.*)")
METRIC = re.compile(r"([\d.]+) ([\w/-]+)")
PEERS = ["syncmap", "xsyncv3", "xsyncv4", "rwmutex", "gomap"]


def parse(path):
    """Return the ns/op of every run, keyed by (name, cpu, impl), and the
    memory benchmark's metrics, keyed by impl and then by unit."""
    runs = collections.defaultdict(list)
    memory = collections.defaultdict(lambda: collections.defaultdict(list))
    for line in open(path):
        m = LINE.match(line)
        if not m:
            continue
        name, impl, cpu, ns = m.group(1), m.group(2), m.group(3) or "1", float(m.group(4))
        if name.startswith("BenchmarkMemory"):  # its ns/op is fill time, not a result
            for value, unit in METRIC.findall(m.group(5)):
                memory[impl][unit].append(float(value))
            continue
        runs[(name, cpu, impl)].append(ns)
    return runs, memory


def main(path):
    runs, _ = parse(path)
    benches = sorted({(n, c) for n, c, _ in runs}, key=lambda b: (b[0], int(b[1])))
    groups = collections.defaultdict(lambda: collections.defaultdict(list))
    print("%-70s %4s %9s  %s  %9s" % ("benchmark", "cpu", "safemap", "  ".join("%9s" % p for p in PEERS), "fastest"))
    for name, cpu in benches:
        own = runs.get((name, cpu, "safemap"))
        if not own:
            continue
        med = statistics.median(own)
        cells, fastest = [], None
        for peer in PEERS:
            other = runs.get((name, cpu, peer))
            if other:
                r = med / statistics.median(other)
                fastest = r if fastest is None else max(fastest, r)
                groups[(name.split("/")[0], cpu)][peer].append(r)
                cells.append("%9.2f" % r)
            else:
                cells.append("%9s" % "-")
        print("%-70s %4s %9.2f  %s  %9s" % (name, cpu, med, "  ".join(cells), "-" if fastest is None else "%.2f" % fastest))
    print("\ngeometric mean of safemap / peer")
    for (group, cpu), peers in sorted(groups.items()):
        cells = "  ".join("%s %.2f" % (p, math.exp(sum(map(math.log, rs)) / len(rs))) for p, rs in peers.items())
        print("%-24s cpu=%s  %s" % (group, cpu, cells))


if __name__ == "__main__":
    main(sys.argv[1])
