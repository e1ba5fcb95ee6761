"""Counts a test module keeps while it runs (how many fuzz cases, which statuses), shown once in
pytest's terminal summary, added up across xdist workers (``tests/conftest.py`` hooks).

    TALLY = tally.Tally("schemathesis")     # at module level
    TALLY.count("cases")                    # while testing
    TALLY.count("statuses", 200)            # a breakdown: statuses {200: 5, 400: 12}
"""

from __future__ import annotations

from collections import Counter

_TALLIES: dict[str, Tally] = {}


class Tally:
    def __init__(self, name: str):
        self.name = name
        self.counts: Counter = Counter()
        self.breakdowns: dict[str, Counter] = {}
        _TALLIES[name] = self

    def count(self, what: str, key=None, n: int = 1) -> None:
        if key is None:
            self.counts[what] += n
        else:
            self.breakdowns.setdefault(what, Counter())[str(key)] += n

    def __getattr__(self, what: str) -> int:
        if what.startswith("_") or what in ("name", "counts", "breakdowns"):
            raise AttributeError(what)
        return self.counts[what]


def collected() -> dict[str, dict]:
    """Every tally of this process, as plain data (what a worker sends to the controller)."""
    return {
        name: {"counts": dict(t.counts), "breakdowns": {k: dict(v) for k, v in t.breakdowns.items()}}
        for name, t in _TALLIES.items()
        if t.counts or t.breakdowns
    }


def merge(into: dict[str, dict], other: dict[str, dict]) -> None:
    for name, data in other.items():
        mine = into.setdefault(name, {"counts": {}, "breakdowns": {}})
        for what, n in data["counts"].items():
            mine["counts"][what] = mine["counts"].get(what, 0) + n
        for what, keys in data["breakdowns"].items():
            target = mine["breakdowns"].setdefault(what, {})
            for key, n in keys.items():
                target[key] = target.get(key, 0) + n


def lines(data: dict[str, dict]) -> list[str]:
    out = []
    for name in sorted(data):
        counts = ", ".join(f"{n} {what}" for what, n in data[name]["counts"].items())
        breakdowns = "; ".join(
            f"{what} " + ", ".join(f"{key}: {n}" for key, n in sorted(keys.items()))
            for what, keys in data[name]["breakdowns"].items()
        )
        out.append(f"{name}: " + "; ".join(part for part in (counts, breakdowns) if part))
    return out
