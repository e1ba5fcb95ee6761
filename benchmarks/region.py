"""``python -m benchmarks.region YYYY-MM-DD``: every recharge run of one month at region size, one
after another in a fresh process, on a recharge ledger primed by last month's runs, all rolled
back; prints one JSON line with times and peak memory (``ru_maxrss``)."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from datetime import date

REPEAT = int(os.environ.get("BENCH_REGION_REPEAT", "2"))


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main(period: date) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
    import django

    django.setup()
    from django.db import connection

    from benchmarks import reference
    from benchmarks.common import stats
    from benchmarks.measure import prime_ledger, rolled_back, run_once
    from commissioning.models import Partnership

    partnerships = list(Partnership.objects.select_related("council", "nhs_commissioner").order_by("name"))
    start_rss = _rss_mb()
    times, lines = [], 0
    with rolled_back():
        # The recharge ledger as last month's runs leave it (as the fan-out figure primes it):
        # the month's runs are then the steady-state incremental ones. Rolled back afterwards.
        for partnership in partnerships:
            for issuer in (partnership.council, partnership.nhs_commissioner):
                prime_ledger(partnership, issuer, period)
        for _ in range(REPEAT):
            started = time.perf_counter()
            lines = 0
            for partnership in partnerships:
                for issuer in (partnership.council, partnership.nhs_commissioner):
                    lines += run_once(partnership, issuer, period)["lines"]
            times.append(time.perf_counter() - started)
    peak = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    sql = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                reference.TOTALS,
                reference.params(partnerships=[p.pk for p in partnerships], issuer=None, period=period),
            )
            cursor.fetchall()
        sql.append(time.perf_counter() - started)
    return {
        "partnerships": len(partnerships),
        "runs": 2 * len(partnerships),
        "repeats": REPEAT,
        "lines": lines,
        "seconds": stats(times),
        "reference_seconds": stats(sql),
        "start_rss_mb": start_rss,
        "peak_rss_mb": peak,
    }


if __name__ == "__main__":
    print(json.dumps(main(date.fromisoformat(sys.argv[1]))))
