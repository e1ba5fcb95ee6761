"""``make bench``'s table (issue 14): the region fanned out across one and two worker processes
beside the runs one after another in one process, and the month run and true-up on a committed,
vacuumed ledger beside the same runs primed inside their rolled-back transaction."""

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


def _run(median: float, reference: float, lines: int) -> dict:
    figure = {
        "seconds": _stats(median),
        "run": {"lines": lines},
        "agrees_with_sql_to_the_penny": True,
        "same_as_full": True,
    }
    return {"reference_seconds": _stats(reference), "full": figure, "incremental": figure}


def test_the_runs_on_a_committed_vacuumed_ledger_are_printed_beside_the_in_transaction_ones():
    results = {
        "recharge_month": _run(0.5, 0.1, 3149),
        "true_up": _run(1.2, 0.1, 14181) | {"packages_changed": 500},
        "committed": {
            "recharge_month": _run(0.36, 0.1, 3149),
            "true_up": _run(0.74, 0.1, 14181) | {"packages_changed": 500},
        },
    }
    lines = table(results).splitlines()

    month = [line for line in lines if line.startswith("recharge run, one month, incremental")]
    assert len(month) == 2
    assert "500 ms" in month[0] and "5.0x" in month[0] and "< 3x SQL" in month[0]
    assert "ledger committed and vacuumed" in month[1] and "360 ms" in month[1] and "3.6x" in month[1]
    true_up = [line for line in lines if line.startswith("true-up, 500 packages x 1 year, incremental")]
    assert "1,200 ms" in true_up[0] and "< 1 s" in true_up[0]
    assert "ledger committed and vacuumed" in true_up[1] and "740 ms" in true_up[1]
    assert "14181 lines; SQL agrees: True; same as full: True" in true_up[1]
    # The committed state is printed for the incremental run alone.
    assert not any("full recompute" in line and "committed" in line for line in lines)


def test_the_month_runs_writes_alone_are_printed_under_the_committed_run():
    month = _run(0.33, 0.08, 3149) | {
        "writes_alone": {
            "seconds": _stats(0.124),
            "lines": 3149,
            "invoices": 1,
            "ledger_rows": 3105,
        }
    }
    results = {
        "committed": {"recharge_month": month, "true_up": _run(0.74, 0.1, 14181) | {"packages_changed": 500}}
    }
    lines = table(results).splitlines()
    at = next(i for i, line in enumerate(lines) if "ledger committed and vacuumed" in line)
    floor = lines[at + 1]
    assert "writes alone" in floor and "124 ms" in floor and "1.6x" in floor
    assert "3149 lines, 1 invoices, 3105 ledger rows" in floor
    assert "< 3x SQL" not in floor  # a reference for the run, with no target of its own
