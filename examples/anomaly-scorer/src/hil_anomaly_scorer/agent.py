"""The anomaly scorer. Each vehicle is described by the mean and the spread (standard deviation) of
each numeric telemetry column, computed in the database; each of those features is compared with
the fleet's through a robust z-score, ``0.6745 * (x - median) / MAD``, which a few anomalous
vehicles cannot drag along the way a mean and standard deviation would. A vehicle's score is its
largest absolute z; it is anomalous above the threshold (3.5, Iglewicz and Hoaglin's cut-off), and
the features above the threshold are its explanation. A spread counts only upwards: a reading that
is steadier than the fleet's is not a fault, an erratic one is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from hil.agents.base import Agent, StepContext, TableNeed
from hil.agents.plugin_api import column, matching_tables, read, settings_of
from hil.errors import ConfigError

NUMERIC = ("int", "double", "float", "real", "numeric", "decimal", "bigint", "smallint")


class Settings(BaseModel):
    """``agents: {anomaly_scorer: {...}}`` in a workflow."""

    table: str | None = Field(default=None, description="The telemetry table; the first one with the columns "
                                                         "the agent needs when unset.")
    features: list[str] | None = Field(default=None, description="Numeric columns to score; every numeric "
                                                                 "column but the ids when unset.")
    threshold: float = Field(default=3.5, gt=0, description="Robust z-score above which a vehicle is anomalous.")
    min_readings: int = Field(default=20, ge=2, description="Vehicles with fewer readings are not scored.")


@dataclass
class Score:
    vehicle_id: str
    score: float
    readings: int
    drivers: list[tuple[str, float, float, float]]  # (feature, value, fleet median, z), strongest first

    @property
    def explanation(self) -> str:
        return "; ".join(f"{f} {v:.4g} vs fleet median {m:.4g} (z {z:+.1f})" for f, v, m, z in self.drivers)


def robust_z(values: np.ndarray) -> tuple[np.ndarray, float]:
    """The robust z-score of every value, and the median."""
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    if mad == 0:  # more than half the fleet identical: fall back to the mean absolute deviation
        mad = float(np.mean(np.abs(values - median))) / 0.7979 * 0.6745 or 1.0
    return 0.6745 * (values - median) / mad, median


def score_vehicles(vehicles: list[str], readings: list[int], names: list[str], matrix: np.ndarray,
                   threshold: float = 3.5, upward_only: list[bool] | None = None) -> list[Score]:
    """Scores, highest first, from one row of features per vehicle (``matrix``: vehicles x features);
    a feature marked in ``upward_only`` counts only above the fleet's median."""
    if not vehicles:
        return []
    z = np.zeros_like(matrix, dtype=float)
    medians = np.zeros(matrix.shape[1])
    for j in range(matrix.shape[1]):
        z[:, j], medians[j] = robust_z(matrix[:, j].astype(float))
        if upward_only and upward_only[j]:
            z[:, j] = np.maximum(z[:, j], 0.0)
    scores = []
    for i, vid in enumerate(vehicles):
        order = np.argsort(-np.abs(z[i]))
        drivers = [(names[j], float(matrix[i, j]), float(medians[j]), float(z[i, j])) for j in order
                   if abs(z[i, j]) > threshold] or [(names[order[0]], float(matrix[i, order[0]]),
                                                     float(medians[order[0]]), float(z[i, order[0]]))]
        scores.append(Score(vid, float(np.max(np.abs(z[i]))), readings[i], drivers[:3]))
    return sorted(scores, key=lambda s: -s.score)


def features_sql(table: str, vehicle: str, features: list[str], min_readings: int = 20) -> str:
    """Per vehicle: its number of readings, then the mean and mean square of each feature (portable SQL)."""
    parts = [f'avg("{f}"), avg("{f}" * "{f}")' for f in features]
    return (f'SELECT "{vehicle}", count(*), {", ".join(parts)} FROM {table} GROUP BY "{vehicle}" '
            f"HAVING count(*) >= {min_readings} ORDER BY 1")


def score_rows(rows: list[list[Any]], features: list[str], threshold: float = 3.5) -> list[Score]:
    """Scores from the rows of :func:`features_sql`: each feature's mean and spread per vehicle."""
    names, columns = [], []
    for j, f in enumerate(features):
        mean = np.array([float(r[2 + 2 * j] or 0) for r in rows])
        square = np.array([float(r[3 + 2 * j] or 0) for r in rows])
        names += [f"mean {f}", f"spread of {f}"]
        columns += [mean, np.sqrt(np.maximum(square - mean * mean, 0))]
    matrix = np.column_stack(columns) if rows else np.zeros((0, len(names)))
    return score_vehicles([str(r[0]) for r in rows], [int(r[1]) for r in rows], names, matrix, threshold,
                          [n.startswith("spread") for n in names])


class AnomalyScorerAgent(Agent):
    name = "anomaly_scorer"
    description = ("Scores every vehicle's telemetry (coolant temperature, oil pressure, battery voltage, engine "
                   "rpm, ...) against the rest of the fleet and lists the anomalous vehicles with the readings "
                   "that make them stand out. Use it for questions about unusual, abnormal or outlier vehicles.")
    needs = (TableNeed("vehicle telemetry readings", ("vehicle_id", "coolant_temp_c", "oil_pressure_kpa")),)
    settings_model = Settings

    def execute(self, ctx: StepContext, content: dict[str, Any] | None) -> dict[str, Any]:
        settings = settings_of(ctx, Settings)
        found = [(c, t) for c, t in matching_tables(ctx, self.needs[0])
                 if settings.table is None or t.name.lower() == settings.table.lower()]
        if not found:
            where = f"a table named {settings.table!r} with" if settings.table else "a table with"
            raise ConfigError(f"anomaly_scorer: this workflow has no {where} columns "
                              f"{', '.join(self.needs[0].columns)}", hint="add the connection that holds them")
        cfg, table = found[0]
        vehicle = column(table, "vehicle_id")
        numeric = [c.name for c in table.columns if any(k in c.type.lower() for k in NUMERIC)
                   and not c.name.lower().endswith("_id")]
        have = {c.name.lower() for c in table.columns}
        if missing := [f for f in settings.features or () if f.lower() not in have]:
            raise ConfigError(f"agents.anomaly_scorer.features: {', '.join(missing)} not in {table.name}",
                              hint=f"its numeric columns: {', '.join(numeric)}")
        features = [column(table, f) for f in settings.features] if settings.features else numeric
        if not features:
            raise ConfigError(f"anomaly_scorer: {table.name} has no numeric columns to score")
        rows = read(ctx, cfg, features_sql(table.name, vehicle, features, settings.min_readings), limit=100_000).rows
        scores = score_rows(rows, features, settings.threshold)
        return self._summary(scores, settings.threshold, f"{table.name} in {cfg.name}")

    @staticmethod
    def _summary(scores: list[Score], threshold: float, source: str) -> dict[str, Any]:
        flagged = [s for s in scores if s.score > threshold]
        lines = [f"Scored {len(scores)} vehicles' telemetry from {source} (robust z-score over each reading's "
                 f"mean and spread; anomalous above {threshold}): {len(flagged)} anomalous."]
        lines += [f"{s.vehicle_id}: score {s.score:.1f} — {s.explanation}" for s in flagged]
        if not flagged and scores:
            lines.append(f"The highest score is {scores[0].vehicle_id}'s, {scores[0].score:.1f}.")
        return {"text": "\n".join(lines), "anomalous": [s.vehicle_id for s in flagged], "threshold": threshold,
                "table": {"columns": ["vehicle_id", "score", "anomalous", "readings", "explanation"],
                          "rows": [[s.vehicle_id, round(s.score, 2), s.score > threshold, s.readings, s.explanation]
                                   for s in scores]}}
