"""What the bench modules share: where things are, how many repetitions, and the statistics."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("VAR_DIR", ROOT / "var"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
SEED = int(os.environ.get("BENCH_SEED", "1"))
CLIENTS = 10
PHASE_SECONDS = float(os.environ.get("BENCH_PHASE_SECONDS", "20"))


def stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, -(-95 * len(ordered) // 100) - 1))]  # nearest rank
    return {"median": statistics.median(ordered), "p95": p95, "n": len(ordered)}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
