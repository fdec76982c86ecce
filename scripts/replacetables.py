#!/usr/bin/env python3
"""Put a run's tables into BENCHMARKS.md in place of the last run's.

    scripts/replacetables.py benchmarks/RUN-tables.md BENCHMARKS.md

RUN-tables.md is what scripts/benchtables.py printed for the run (bench.sh
writes it). Each of its tables replaces the table of BENCHMARKS.md whose
header line is the same, rows and all; the prose around the tables, which
quotes figures of its own, is left for a person to update. The script
names each table it replaced, and any table it found no place for (a new
table, or a header that changed), on standard error, and exits with 1 if
there was one, so that no table is silently left out.
"""
import sys


def tables(lines):
    """Yield (start, end) of each Markdown table: a header line, then a
    |---| line, then the rows up to the first line not starting with |."""
    i = 0
    while i < len(lines):
        if lines[i].startswith("| ") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            yield i, j
            i = j
        else:
            i += 1


def main(new_path, doc_path):
    new = open(new_path).read().split("\n")
    fresh = [new[a:b] for a, b in tables(new)]
    doc = open(doc_path).read().split("\n")
    used = set()
    out, at = [], 0
    for a, b in tables(doc):
        k = next((k for k, t in enumerate(fresh) if k not in used and t[0] == doc[a]), None)
        if k is None:
            continue
        out += doc[at:a] + fresh[k]
        at = b
        used.add(k)
        print("replaced: %s (%d rows, was %d)" % (doc[a][:70], len(fresh[k]) - 2, b - a - 2), file=sys.stderr)
    out += doc[at:]
    open(doc_path, "w").write("\n".join(out))
    left = [fresh[k][0][:70] for k in range(len(fresh)) if k not in used]
    for h in left:
        print("no place for: %s" % h, file=sys.stderr)
    return 1 if left else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
