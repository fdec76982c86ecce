#!/usr/bin/env python3
"""Print BENCHMARKS.md's scaling tables from scripts/scaling.sh results.

    scripts/scalingtables.py SCALING.txt [GOSET.txt]

SCALING.txt holds the scaling subset at several CPU counts; GOSET.txt, if
given, Go's whole sync.Map set at some of them. Every figure is a median
over the rounds (benchstat's statistic), every ratio safemap's median over
the peer's: below 1.00 safemap is faster.
"""
import math
import statistics
import sys

from ratios import parse

PEERS = [("syncmap", "sync.Map"), ("xsyncv3", "xsync v3"), ("xsyncv4", "xsync v4")]


def short(name):
    name = name.replace("BenchmarkGoSet/workload=", "").replace("BenchmarkMixed/", "")
    return name.replace("keys=", "").replace("/size=", " ").replace("/reads=", ", reads ")


def ns(x):
    return "-" if x is None else ("%.0f" % x if x >= 100 else "%.1f" % x if x >= 10 else "%.2f" % x)


def geomean(xs):
    xs = [x for x in xs if x is not None]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


class Results:
    def __init__(self, path):
        self.runs, _ = parse(path)
        self.names = sorted({n for n, _, _ in self.runs}, key=lambda n: (not n.startswith("BenchmarkGoSet"), n))
        self.cpus = sorted({c for _, c, _ in self.runs}, key=int)

    def med(self, name, cpu, impl):
        r = self.runs.get((name, cpu, impl))
        return statistics.median(r) if r else None

    def ratio(self, name, cpu, peer):
        own, other = self.med(name, cpu, "safemap"), self.med(name, cpu, peer)
        return None if own is None or other is None else own / other


def scaling(res):
    """safemap's ns/op at each CPU count, then its ratio to sync.Map and to
    xsync v4 at each."""
    cpus = res.cpus
    print("| workload | safemap ns/op at %s CPUs | vs sync.Map | vs xsync v4 |" % ", ".join(cpus))
    print("|---|---|---|---|")
    for n in res.names:
        cells = [" / ".join(ns(res.med(n, c, "safemap")) for c in cpus)]
        for peer in ["syncmap", "xsyncv4"]:
            cells.append(" / ".join("%.2f" % res.ratio(n, c, peer) for c in cpus))
        print("| %s | %s |" % (short(n), " | ".join(cells)))
    print()


def at(res, cpu):
    """Every map's ns/op at one CPU count."""
    print("| workload | safemap | %s | safemap / fastest peer |" % " | ".join(label for _, label in PEERS))
    print("|---|---|---|---|---|---|")
    for n in res.names:
        peers = [res.med(n, cpu, p) for p, _ in PEERS]
        print("| %s | %s | %s | %.2f |" % (short(n), ns(res.med(n, cpu, "safemap")),
                                         " | ".join(ns(p) for p in peers), res.med(n, cpu, "safemap") / min(peers)))
    print()


def goset(res):
    """Go's set: ratios to sync.Map and xsync v4 at each CPU count, with
    how many rows are at or below sync.Map, and the geometric means."""
    cpus = res.cpus
    print("| workload | vs sync.Map at %s CPUs | vs xsync v4 |" % ", ".join(cpus))
    print("|---|---|---|")
    for n in res.names:
        print("| %s | %s | %s |" % (short(n), " / ".join("%.2f" % res.ratio(n, c, "syncmap") for c in cpus),
                                    " / ".join("%.2f" % res.ratio(n, c, "xsyncv4") for c in cpus)))
    wins = " / ".join("%d" % sum(res.ratio(n, c, "syncmap") <= 1.0 for n in res.names) for c in cpus)
    print("| **at or below sync.Map (of %d)** | %s | |" % (len(res.names), wins))
    print("| **geometric mean** | %s | %s |" % tuple(
        " / ".join("%.2f" % geomean([res.ratio(n, c, p) for n in res.names]) for c in cpus) for p in ["syncmap", "xsyncv4"]))
    print()


def main(args):
    res = Results(args[0])
    scaling(res)
    at(res, res.cpus[-1])
    if len(args) > 1:
        goset(Results(args[1]))


if __name__ == "__main__":
    main(sys.argv[1:])
