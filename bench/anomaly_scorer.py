"""How well the example anomaly scorer (examples/anomaly-scorer) finds the vehicles the demo
generator seeds as anomalous: precision and recall per seed and pooled, and how long scoring takes
(the per-vehicle features are computed by DuckDB, the scores by numpy).

    python bench/anomaly_scorer.py [--seeds 7-16] [--threshold 3.5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb
from hil_anomaly_scorer import features_sql, score_rows

from hil.demo.signals import generate_signals, seeded_anomalies

FEATURES = ["coolant_temp_c", "oil_pressure_kpa", "battery_voltage", "engine_rpm"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="7-16", help="a range of generator seeds, e.g. 7-16")
    parser.add_argument("--threshold", type=float, default=3.5)
    args = parser.parse_args()
    first, last = (int(x) for x in args.seeds.split("-"))
    flagged_total = seeded_total = hits_total = 0
    timings = []
    with tempfile.TemporaryDirectory() as d:
        for seed in range(first, last + 1):
            path = Path(d) / f"signals-{seed}.duckdb"
            generate_signals(path, seed=seed, anchor=dt.date(2026, 11, 1))
            start = time.perf_counter()
            with duckdb.connect(str(path), read_only=True) as con:
                rows = [list(r) for r in con.execute(features_sql("telemetry", "vehicle_id", FEATURES)).fetchall()]
            scores = score_rows(rows, FEATURES, args.threshold)
            timings.append((time.perf_counter() - start) * 1000)
            flagged = {s.vehicle_id for s in scores if s.score > args.threshold}
            seeded = set(seeded_anomalies(seed))
            hits = len(flagged & seeded)
            extra = ", ".join(sorted(flagged - seeded)) or "-"
            missed = ", ".join(sorted(seeded - flagged)) or "-"
            print(f"seed {seed:3d}: {len(rows)} vehicles, {len(seeded)} seeded, {len(flagged)} flagged, "
                  f"precision {hits / max(len(flagged), 1):.2f}, recall {hits / len(seeded):.2f} "
                  f"(false alarms: {extra}; missed: {missed})")
            flagged_total, seeded_total, hits_total = (flagged_total + len(flagged), seeded_total + len(seeded),
                                                       hits_total + hits)
    print(f"pooled over seeds {first}-{last}: precision {hits_total / max(flagged_total, 1):.3f}, "
          f"recall {hits_total / seeded_total:.3f} ({hits_total} of {seeded_total} seeded found, "
          f"{flagged_total - hits_total} false alarms)")
    print(f"scoring time per run (12,000 readings, 60 vehicles): median {sorted(timings)[len(timings) // 2]:.1f} ms")


if __name__ == "__main__":
    main()
