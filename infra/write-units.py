#!/usr/bin/env python3
"""What DynamoDB would charge for the puts in a local store's log (the write cost of ingest,
docs/benchmarks.md), split into the tile statistics items (`ORGSTATS#…`, `CLINICSTATS#…`)
and the rest.

    python3 infra/write-units.py DATA_DIR/store/store.jsonl [--fast]

Per put: one write unit per started KB of the item, doubled inside a transaction of more than
one op (DynamoDB's rule for TransactWriteItems). The item's compact JSON text stands for its
DynamoDB size (an estimate: DynamoDB counts attribute names and values, not JSON). `--fast`
takes each put's length from the log line's text without parsing it (about 20x faster; on a
100,000-row load it differed from the exact parse by 22 units in 737,348).
"""
import json
import math
import sys
from collections import Counter

STATS = (b'{"pk":"ORGSTATS#', b'{"pk":"CLINICSTATS#')


def exact(path):
    for line in open(path, 'rb'):
        ops = json.loads(line).get('tx') or []
        for op in ops:
            put = op.get('put')
            if put is None:
                continue
            text = json.dumps(put, separators=(',', ':'), ensure_ascii=False).encode()
            yield text.startswith(STATS), len(text), len(ops) > 1


def fast(path):
    for line in open(path, 'rb'):
        parts = line.split(b'{"put":')
        ops = sum(line.count(k) for k in (b'{"put":', b'{"delete":', b'{"check":', b'{"add":'))
        for p in parts[1:]:
            # The op's closing brace and the ',' or ']' after it are not the item's.
            yield p.startswith(STATS), len(p) - 2, ops > 1


def main():
    args = [a for a in sys.argv[1:] if a != '--fast']
    if len(args) != 1:
        sys.exit(__doc__)
    puts = fast(args[0]) if '--fast' in sys.argv else exact(args[0])
    units, count, largest = Counter(), Counter(), Counter()
    for is_stats, size, in_tx in puts:
        kind = 'statistics' if is_stats else 'other'
        units[kind] += math.ceil(size / 1024) * (2 if in_tx else 1)
        count[kind] += 1
        largest[kind] = max(largest[kind], size)
    for kind in sorted(units):
        print(f'{kind}: {count[kind]} puts, {units[kind]} write units, largest {largest[kind]} bytes')
    print(f'total write units {sum(units.values())}')


main()
