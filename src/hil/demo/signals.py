"""Generate the demo's signal database (``signals.duckdb``) deterministically from a seed: raw CAN
frames encoded with the demo's DBC file (``fleet.dbc``) and per-reading vehicle telemetry in which a
known set of vehicles is anomalous. It is a separate database from the fleet one, so the fleet
workflow's schema (and its questions) stay as they are.

The frames are encoded here bit for bit as the DBC describes them (little-endian, unsigned,
``raw = (value - offset) / scale``), so the demo needs no CAN library; any DBC decoder reads them."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from pathlib import Path

import duckdb

DBC_FILE = Path(__file__).parent / "fleet.dbc"
# message id -> signal -> (start bit, length, scale, offset), as in fleet.dbc
LAYOUT: dict[int, dict[str, tuple[int, int, float, float]]] = {
    256: {"EngineSpeed": (0, 16, 0.25, 0), "CoolantTemp": (16, 8, 1, -40), "OilPressure": (24, 8, 4, 0),
          "EngineLoad": (32, 8, 0.5, 0)},
    257: {"VehicleSpeed": (0, 16, 0.01, 0), "BatteryVoltage": (16, 16, 0.001, 0), "FuelLevel": (32, 8, 0.4, 0)},
}
CAN_VEHICLES = [f"VH-{1001 + i}" for i in range(24)]  # the vehicles with a telematics unit logging raw frames
FRAMES_PER_VEHICLE = 60  # per message
TELEMETRY_VEHICLES = [f"VH-{1001 + i}" for i in range(60)]
READINGS_PER_VEHICLE = 200
# what is wrong with each seeded anomalous vehicle: feature -> (mean shift, spread factor)
FAULTS = {
    "overheating": {"coolant_temp_c": (11.0, 1.0)},
    "low oil pressure": {"oil_pressure_kpa": (-70.0, 1.0)},
    "failing alternator": {"battery_voltage": (-1.1, 2.5)},
    "over-revving": {"engine_rpm": (600.0, 1.0)},
    "erratic coolant sensor": {"coolant_temp_c": (0.0, 3.5)},
    "hot and low on oil": {"coolant_temp_c": (7.0, 1.0), "oil_pressure_kpa": (-45.0, 1.0)},
}

SCHEMA = """
CREATE TABLE can_frames (frame_id INTEGER PRIMARY KEY, vehicle_id VARCHAR, recorded_at TIMESTAMP,
  can_id INTEGER, dlc INTEGER, data VARCHAR);
CREATE TABLE telemetry (reading_id INTEGER PRIMARY KEY, vehicle_id VARCHAR, recorded_at TIMESTAMP,
  coolant_temp_c DOUBLE, oil_pressure_kpa DOUBLE, battery_voltage DOUBLE, engine_rpm INTEGER);
"""


def encode(can_id: int, values: dict[str, float]) -> bytes:
    """One frame's 8 data bytes, each signal packed where the DBC puts it."""
    word = 0
    for name, (start, length, scale, offset) in LAYOUT[can_id].items():
        raw = round((values[name] - offset) / scale)
        word |= (max(0, min(raw, (1 << length) - 1))) << start
    return word.to_bytes(8, "little")


def seeded_anomalies(seed: int = 7) -> dict[str, str]:
    """The vehicles the generator makes anomalous in ``telemetry`` (vehicle -> what is wrong), from the seed."""
    picked = random.Random(f"anomalies-{seed}").sample(TELEMETRY_VEHICLES, len(FAULTS))
    return dict(zip(sorted(picked), FAULTS, strict=True))


def _frames(rnd: random.Random, start: dt.datetime, days: int) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for index, vid in enumerate(CAN_VEHICLES):
        base_rpm = rnd.uniform(1400, 2000) + (900 if index % 11 == 3 else 0)  # a couple of hard-driven vans
        base_temp = rnd.uniform(86, 95) + (14 if index % 9 == 5 else 0)  # and a couple running hot
        for _ in range(FRAMES_PER_VEHICLE):
            t = start + dt.timedelta(seconds=rnd.randint(0, days * 86_400))
            engine = {"EngineSpeed": max(600.0, rnd.gauss(base_rpm, 250)), "CoolantTemp": rnd.gauss(base_temp, 4),
                      "OilPressure": rnd.gauss(320, 35), "EngineLoad": min(100.0, max(0.0, rnd.gauss(45, 15)))}
            body = {"VehicleSpeed": max(0.0, rnd.gauss(55, 20)), "BatteryVoltage": rnd.gauss(13.8, 0.3),
                    "FuelLevel": rnd.uniform(10, 100)}
            for can_id, values in ((256, engine), (257, body)):
                stamp = (t + dt.timedelta(milliseconds=50 * (can_id - 256))).isoformat(sep=" ")
                rows.append((len(rows) + 1, vid, stamp, can_id, 8, encode(can_id, values).hex().upper()))
    return rows


def _telemetry(rnd: random.Random, start: dt.datetime, days: int, seed: int) -> list[tuple[object, ...]]:
    faults = {vid: FAULTS[kind] for vid, kind in seeded_anomalies(seed).items()}
    rows: list[tuple[object, ...]] = []
    for vid in TELEMETRY_VEHICLES:
        # every vehicle differs a little from the others; a seeded one differs a lot in its fault's features
        # (sensors and duty cycles differ too, so each vehicle's spread is its own)
        normal = {"coolant_temp_c": (rnd.gauss(92, 1.5), 5.0 * rnd.uniform(0.85, 1.15)),
                  "oil_pressure_kpa": (rnd.gauss(320, 8), 30.0 * rnd.uniform(0.85, 1.15)),
                  "battery_voltage": (rnd.gauss(13.8, 0.1), 0.25 * rnd.uniform(0.85, 1.15)),
                  "engine_rpm": (rnd.gauss(1700, 60), 300.0 * rnd.uniform(0.85, 1.15))}
        for feature, (shift, spread) in faults.get(vid, {}).items():
            mean, sd = normal[feature]
            normal[feature] = (mean + shift, sd * spread)
        for _ in range(READINGS_PER_VEHICLE):
            t = start + dt.timedelta(minutes=rnd.randint(0, days * 1440))
            (ct, cs), (op, os_), (bv, bs), (rpm, rs) = normal.values()
            rows.append((len(rows) + 1, vid, t.isoformat(sep=" "), round(rnd.gauss(ct, cs), 1),
                         round(rnd.gauss(op, os_), 1), round(rnd.gauss(bv, bs), 2), int(rnd.gauss(rpm, rs))))
    return rows


def generate_signals(target: Path, seed: int = 7, anchor: dt.date | None = None, days: int = 90) -> dict[str, int]:
    """Write the signal database to ``target`` (replaced atomically). Returns row counts per table."""
    anchor = anchor or dt.datetime.now(dt.UTC).date()
    start = dt.datetime.combine(anchor - dt.timedelta(days=days), dt.time())
    tables = {"can_frames": _frames(random.Random(f"can-{seed}"), start, days),
              "telemetry": _telemetry(random.Random(f"telemetry-{seed}"), start, days, seed)}
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute(SCHEMA)
        with tempfile.TemporaryDirectory() as d:
            for name, rows in tables.items():
                path = Path(d) / f"{name}.csv"
                path.write_text("".join(",".join(map(str, r)) + "\n" for r in rows), encoding="utf-8")
                con.execute(f"COPY {name} FROM '{path}' (FORMAT csv, HEADER false)")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    tmp.replace(target)
    return {k: len(v) for k, v in tables.items()}
