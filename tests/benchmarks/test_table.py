"""``make bench``'s table prints the region fanned out across one and two worker processes beside
the runs one after another in one process (issue 14)."""

from __future__ import annotations

from benchmarks.run import table


def _stats(median: float) -> dict:
    return {"median": median, "p95": median + 1, "n": 3}


def test_the_fan_out_rows_sit_beside_the_in_process_region():
    figures = {"runs": 20, "done": 20, "failed": 0, "invoices": 20}
    results = {
        "region": {
            "runs": 20,
            "repeats": 2,
            "seconds": _stats(20.0),
            "reference_seconds": _stats(2.0),
            "peak_rss_mb": 300,
            "start_rss_mb": 100,
        },
        "region_fanout": {"1": figures | {"seconds": _stats(18.0)}, "2": figures | {"seconds": _stats(10.0)}},
    }
    lines = table(results).splitlines()

    one = next(line for line in lines if "fanned out, 20 runs, 1 worker process " in line)
    two = next(line for line in lines if "fanned out, 20 runs, 2 worker processes" in line)
    assert "18.0 s" in one and "20.0 s" in one and "0.9x" in one and "< 5 s" in one
    assert "10.0 s" in two and "0.5x" in two and "20 done, 0 failed" in two
