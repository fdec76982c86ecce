#!/usr/bin/env python3
"""Print BENCHMARKS.md's scaling tables from scripts/scaling.sh results.

    scripts/scalingtables.py SCALING.txt [GOSET.txt]

SCALING.txt holds the scaling subset at several CPU counts; GOSET.txt, if
given, Go's whole sync.Map set at some of them. Every figure is a median
over the rounds (benchstat's statistic), every ratio safemap's median over
the peer's: below 1.00 safemap is faster.
"""
import sys

import benchtables
from benchtables import geomean

PEERS = [("syncmap", "sync.Map"), ("xsyncv3", "xsync v3"), ("xsyncv4", "xsync v4")]


def short(name):
    name = name.replace("BenchmarkGoSet/workload=", "").replace("BenchmarkMixed/", "")
    return name.replace("keys=", "").replace("/size=", " ").replace("/reads=", ", reads ")


def ns(x):
    """benchtables.ns with one more digit below 10 ns, which 16 CPUs reach."""
    return "%.2f" % x if x is not None and x < 10 else benchtables.ns(x)


class Results(benchtables.Results):
    """benchtables.Results with every row's name (Go's set first) and the
    CPU counts of the run."""

    def __init__(self, path):
        super().__init__(path)
        self.rows = sorted({n for n, _, _ in self.runs}, key=lambda n: (not n.startswith("BenchmarkGoSet"), n))
        self.cpus = sorted({c for _, c, _ in self.runs}, key=int)


def scaling(res):
    """safemap's ns/op at each CPU count, then its ratio to sync.Map and to
    xsync v4 at each."""
    cpus = res.cpus
    print("| workload | safemap ns/op at %s CPUs | vs sync.Map | vs xsync v4 |" % ", ".join(cpus))
    print("|---|---|---|---|")
    for n in res.rows:
        cells = [" / ".join(ns(res.med(n, c, "safemap")) for c in cpus)]
        for peer in ["syncmap", "xsyncv4"]:
            cells.append(" / ".join("%.2f" % res.ratio(n, c, peer) for c in cpus))
        print("| %s | %s |" % (short(n), " | ".join(cells)))
    print()


def at(res, cpu):
    """Every map's ns/op at one CPU count."""
    print("| workload | safemap | %s | safemap / fastest peer |" % " | ".join(label for _, label in PEERS))
    print("|---|---|---|---|---|---|")
    for n in res.rows:
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
    for n in res.rows:
        print("| %s | %s | %s |" % (short(n), " / ".join("%.2f" % res.ratio(n, c, "syncmap") for c in cpus),
                                    " / ".join("%.2f" % res.ratio(n, c, "xsyncv4") for c in cpus)))
    wins = " / ".join("%d" % sum(res.ratio(n, c, "syncmap") <= 1.0 for n in res.rows) for c in cpus)
    print("| **at or below sync.Map (of %d)** | %s | |" % (len(res.rows), wins))
    print("| **geometric mean** | %s | %s |" % tuple(
        " / ".join("%.2f" % geomean([res.ratio(n, c, p) for n in res.rows]) for c in cpus) for p in ["syncmap", "xsyncv4"]))
    print()


def main(args):
    res = Results(args[0])
    scaling(res)
    at(res, res.cpus[-1])
    if len(args) > 1:
        goset(Results(args[1]))


if __name__ == "__main__":
    main(sys.argv[1:])
