#!/usr/bin/env python3
"""Print BENCHMARKS.md's tables from a raw benchmark file.

    scripts/benchtables.py bench.txt

Every figure is a median over the -count runs of one row (the statistic
benchstat reports), and every ratio is safemap's median divided by the
peer's, as in scripts/ratios.py: below 1.00 safemap is faster. The tables
are printed in BENCHMARKS.md's order, as Markdown, for pasting in.
"""
import math
import statistics
import sys

from ratios import PEERS, parse

NAMES = {"syncmap": "sync.Map", "xsyncv3": "xsync v3", "xsyncv4": "xsync v4",
         "rwmutex": "RWMutex map", "gomap": "plain Go map"}
CPUS = ["1", "2"]


class Results:
    def __init__(self, path):
        self.runs, self.memory = parse(path)

    def med(self, name, cpu, impl):
        r = self.runs.get((name, cpu, impl))
        return statistics.median(r) if r else None

    def ratio(self, name, cpu, peer):
        own, other = self.med(name, cpu, "safemap"), self.med(name, cpu, peer)
        return None if own is None or other is None else own / other

    def fastest(self, name, cpu):
        rs = [r for r in (self.ratio(name, cpu, p) for p in PEERS if p != "gomap") if r is not None]
        return max(rs) if rs else None

    def names(self, prefix):
        return sorted({n for n, _, _ in self.runs if n.startswith(prefix)})


def ns(x):
    if x is None:
        return "-"
    return "%.0f" % x if x >= 100 else "%.1f" % x


def rt(x):
    return "-" if x is None else "%.2f" % x


def both(f):
    return " / ".join(f(c) for c in CPUS)


def geomean(xs):
    xs = [x for x in xs if x is not None]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def summary(res):
    print("| group | cpu | vs sync.Map | vs xsync v3 | vs xsync v4 | vs RWMutex map |")
    print("|---|---|---|---|---|---|")
    for label, prefix in [("Go's sync.Map workloads", "BenchmarkGoSet/"), ("mixed read/write", "BenchmarkMixed/")]:
        names = res.names(prefix)
        for cpu in CPUS:
            cells = [rt(geomean([res.ratio(n, cpu, p) for n in names])) for p in ["syncmap", "xsyncv3", "xsyncv4", "rwmutex"]]
            print("| %s (%d) | %s | %s |" % (label, len(names), cpu, " | ".join(cells)))
    print()


def mixed_name(keys, size, reads):
    return "BenchmarkMixed/keys=%s/size=%d/reads=%d" % (keys, size, reads)


def read_mostly(res):
    print("| workload | cpu | safemap ns/op | vs sync.Map | vs xsync v4 |")
    print("|---|---|---|---|---|")
    rows = [("reads %d%%, %s %s keys" % (reads, "{:,}".format(size), keys), mixed_name(keys, size, reads))
            for keys in ["int", "string"] for size in [1000, 100000] for reads in [100, 99]]
    rows.append(("LoadMostlyHits (Go set)", "BenchmarkGoSet/workload=LoadMostlyHits"))
    for label, name in rows:
        for cpu in CPUS:
            print("| %s | %s | %s | %s | %s |" % (label, cpu, ns(res.med(name, cpu, "safemap")),
                                                  rt(res.ratio(name, cpu, "syncmap")), rt(res.ratio(name, cpu, "xsyncv4"))))
    print()


def serial(res):
    print("| keys | cpu | safemap | plain Go map | safemap / Go map | vs sync.Map | vs xsync v4 |")
    print("|---|---|---|---|---|---|---|")
    for keys in ["int", "string", "any-int", "any-string"]:
        name = "BenchmarkLoadHitSerial/keys=" + keys
        if name not in res.names(name):
            continue  # runs before the any rows existed
        for cpu in CPUS:
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                keys, cpu, ns(res.med(name, cpu, "safemap")), ns(res.med(name, cpu, "gomap")),
                rt(res.ratio(name, cpu, "gomap")), rt(res.ratio(name, cpu, "syncmap")), rt(res.ratio(name, cpu, "xsyncv4"))))
    print()


def goset(res):
    print("| workload | cpu | safemap ns/op | vs sync.Map | vs xsync v4 | vs fastest |")
    print("|---|---|---|---|---|---|")
    for name in res.names("BenchmarkGoSet/"):
        print("| %s | 1 / 2 | %s | %s | %s | %s |" % (
            name.split("workload=")[1],
            both(lambda c: ns(res.med(name, c, "safemap"))),
            both(lambda c: rt(res.ratio(name, c, "syncmap"))),
            both(lambda c: rt(res.ratio(name, c, "xsyncv4"))),
            both(lambda c: rt(res.fastest(name, c)))))
    print()


def write_heavy(res):
    print("safemap / fastest peer, and in brackets safemap / sync.Map:\n")
    print("| keys | size | cpu | reads 90 | reads 75 | reads 50 |")
    print("|---|---|---|---|---|---|")
    for keys in ["int", "string"]:
        for size in [1000, 100000]:
            for cpu in CPUS:
                cells = []
                for reads in [90, 75, 50]:
                    name = mixed_name(keys, size, reads)
                    cells.append("%s (%s)" % (rt(res.fastest(name, cpu)), rt(res.ratio(name, cpu, "syncmap"))))
                print("| %s | %s | %s | %s |" % (keys, "{:,}".format(size), cpu, " | ".join(cells)))
    print()


def memory(res):
    print("| implementation | bytes/entry | retained right after | retained 2.5 s later |")
    print("|---|---|---|---|")

    def kib(b):
        return "%.1f MiB" % (b / 2**20) if b >= 2**20 else "%.1f KiB" % (b / 2**10)

    for impl in ["safemap"] + [p for p in PEERS if p != "gomap"]:
        m = res.memory.get(impl)
        if m:
            print("| %s | %.1f | %s | %s |" % (NAMES.get(impl, impl), statistics.median(m["bytes/entry"]),
                                              kib(statistics.median(m["retained-B"])), kib(statistics.median(m["retained-later-B"]))))
    print()


def main(path):
    res = Results(path)
    for title, f in [("Summary", summary), ("Read-mostly", read_mostly), ("Serial Load hit", serial),
                     ("Go's sync.Map workloads", goset), ("Write-heavy mixes", write_heavy), ("Memory", memory)]:
        print("<!-- %s -->" % title)
        f(res)


if __name__ == "__main__":
    main(sys.argv[1])
