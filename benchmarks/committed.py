"""``python -m benchmarks.committed YYYY-MM-DD``: the borough's month run and true-up on a ledger
committed and vacuumed (``benchmarks.measure.bench_committed``), in a fresh process on a copy of the
bench database (the priming commits); prints one JSON line."""

from __future__ import annotations

import json
import os
import sys
from datetime import date


def main(period: date) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
    import django

    django.setup()
    from benchmarks.generate import first_borough
    from benchmarks.measure import bench_committed

    partnership = first_borough()
    return bench_committed(partnership, partnership.council, period)


if __name__ == "__main__":
    print(json.dumps(main(date.fromisoformat(sys.argv[1])), default=str))
