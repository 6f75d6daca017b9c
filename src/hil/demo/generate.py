"""Generate the fleet DuckDB database deterministically from a seed.

Dates are relative to an anchor day (the day the workspace is made, unless given), so questions
like "in the last 90 days" have answers; the same seed and anchor give the same rows."""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from pathlib import Path

import duckdb

DEPOTS = ["North", "South", "East", "West", "Central"]
MODELS = [("Ford", "Transit"), ("Mercedes", "Sprinter"), ("Isuzu", "NPR"), ("Freightliner", "M2"), ("Volvo", "FH")]
DTC = [
    ("P0217", "Engine coolant over-temperature condition", "cooling", "critical"),
    ("P0118", "Engine coolant temperature sensor circuit high", "cooling", "major"),
    ("P0116", "Engine coolant temperature sensor range/performance", "cooling", "minor"),
    ("P0128", "Coolant thermostat below regulating temperature", "cooling", "minor"),
    ("P0480", "Cooling fan 1 control circuit malfunction", "cooling", "major"),
    ("P2181", "Cooling system performance", "cooling", "major"),
    ("P0524", "Engine oil pressure too low", "engine", "critical"),
    ("P0300", "Random/multiple cylinder misfire detected", "engine", "major"),
    ("P0171", "System too lean (bank 1)", "engine", "minor"),
    ("P0420", "Catalyst system efficiency below threshold", "emissions", "minor"),
    ("P0562", "System voltage low", "electrical", "major"),
    ("C0035", "Left front wheel speed sensor circuit", "brakes", "major"),
    ("C0040", "Right front wheel speed sensor circuit", "brakes", "major"),
    ("P0700", "Transmission control system malfunction", "transmission", "major"),
    ("U0100", "Lost communication with ECM/PCM", "network", "critical"),
]
COOLING = [c for c in DTC if c[2] == "cooling"]
MAINT_TYPES = [("inspection", 180), ("coolant_flush", 260), ("thermostat_replacement", 340),
               ("radiator_repair", 720), ("water_pump_replacement", 610), ("brake_service", 420),
               ("battery_replacement", 230), ("oil_change", 120), ("tire_rotation", 90)]
FIRST = ["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Drew", "Robin"]
LAST = ["Garcia", "Smith", "Nguyen", "Okafor", "Kowalski", "Haddad", "Silva", "Larsen", "Tanaka", "Moreau"]

SCHEMA = """
CREATE TABLE vehicles (vehicle_id VARCHAR PRIMARY KEY, make VARCHAR, model VARCHAR, model_year INTEGER,
  depot VARCHAR, status VARCHAR, odometer_km INTEGER, in_service_since DATE);
CREATE TABLE drivers (driver_id VARCHAR PRIMARY KEY, full_name VARCHAR, depot VARCHAR, hired_on DATE,
  license_class VARCHAR);
CREATE TABLE trips (trip_id INTEGER PRIMARY KEY, vehicle_id VARCHAR REFERENCES vehicles(vehicle_id),
  driver_id VARCHAR REFERENCES drivers(driver_id), started_at TIMESTAMP,
  ended_at TIMESTAMP, distance_km DOUBLE, fuel_litres DOUBLE, depot VARCHAR);
CREATE TABLE telemetry_readings (reading_id INTEGER PRIMARY KEY, vehicle_id VARCHAR REFERENCES vehicles(vehicle_id), recorded_at TIMESTAMP,
  coolant_temp_c DOUBLE, oil_pressure_kpa DOUBLE, battery_voltage DOUBLE, engine_rpm INTEGER, speed_kph DOUBLE);
CREATE TABLE dtc_codes (code VARCHAR PRIMARY KEY, description VARCHAR, system VARCHAR, severity VARCHAR);
CREATE TABLE fault_events (fault_id INTEGER PRIMARY KEY, vehicle_id VARCHAR REFERENCES vehicles(vehicle_id),
  code VARCHAR REFERENCES dtc_codes(code), occurred_at TIMESTAMP,
  odometer_km INTEGER, cleared BOOLEAN);
CREATE TABLE maintenance_events (maintenance_id INTEGER PRIMARY KEY, vehicle_id VARCHAR REFERENCES vehicles(vehicle_id), performed_on DATE,
  event_type VARCHAR, cost_usd DOUBLE, technician VARCHAR, notes VARCHAR);
"""


def _write(path: Path, rows: list[tuple[object, ...]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def generate(target: Path, seed: int = 7, anchor: dt.date | None = None, days: int = 365) -> dict[str, int]:
    """Write the database to ``target`` (replaced atomically). Returns row counts per table."""
    rnd = random.Random(seed)
    anchor = anchor or dt.datetime.now(dt.UTC).date()
    start = dt.datetime.combine(anchor - dt.timedelta(days=days), dt.time())
    tables: dict[str, list[tuple[object, ...]]] = {k: [] for k in
                                                   ("vehicles", "drivers", "trips", "telemetry_readings",
                                                    "dtc_codes", "fault_events", "maintenance_events")}
    vehicles = []
    for i in range(180):
        make, model = MODELS[i % len(MODELS)]
        depot = DEPOTS[(i * 7 + i // 5) % len(DEPOTS)]
        odo = rnd.randint(20_000, 320_000)
        status = "retired" if rnd.random() < 0.03 else ("in_shop" if rnd.random() < 0.06 else "active")
        vid = f"VH-{1001 + i}"
        since = anchor - dt.timedelta(days=rnd.randint(400, 3000))
        vehicles.append((vid, make, model, depot, odo))
        tables["vehicles"].append((vid, make, model, since.year, depot, status, odo, since.isoformat()))
    drivers = []
    for i in range(150):
        did = f"DR-{201 + i}"
        depot = DEPOTS[i % len(DEPOTS)]
        drivers.append((did, depot))
        tables["drivers"].append((did, f"{rnd.choice(FIRST)} {rnd.choice(LAST)}", depot,
                                  (anchor - dt.timedelta(days=rnd.randint(60, 3650))).isoformat(),
                                  rnd.choice(["B", "C1", "C", "CE"])))
    by_depot = {d: [x[0] for x in drivers if x[1] == d] for d in DEPOTS}
    trip_id = reading_id = 0
    for vid, _make, _model, depot, _odo in vehicles:
        for _ in range(250):
            trip_id += 1
            t0 = start + dt.timedelta(minutes=rnd.randint(0, days * 24 * 60))
            dur = rnd.randint(20, 480)
            dist = round(dur / 60 * rnd.uniform(25, 70), 1)
            tables["trips"].append((trip_id, vid, rnd.choice(by_depot[depot]), t0.isoformat(sep=" "),
                                    (t0 + dt.timedelta(minutes=dur)).isoformat(sep=" "), dist,
                                    round(dist * rnd.uniform(0.09, 0.32), 1), depot))
    for _v_index, (vid, _make, model, depot, odo) in enumerate(vehicles):
        hot = model == "Sprinter" and depot == "Central" and odo > 200_000
        for _ in range(1450):
            reading_id += 1
            t = start + dt.timedelta(minutes=rnd.randint(0, days * 24 * 60))
            temp = rnd.gauss(104 if hot else 92, 6)
            tables["telemetry_readings"].append((reading_id, vid, t.isoformat(sep=" "), round(temp, 1),
                                                 round(rnd.gauss(320, 40), 1), round(rnd.gauss(13.8, 0.4), 2),
                                                 int(rnd.gauss(1700, 350)), round(max(0.0, rnd.gauss(55, 22)), 1)))
    tables["dtc_codes"] = [tuple(c) for c in DTC]
    fault_id = 0
    for v_index, (vid, _make, model, depot, odo) in enumerate(vehicles):
        hot = model == "Sprinter" and depot == "Central" and odo > 200_000
        n_faults = rnd.randint(8, 30) + (v_index % 6 == 0) * 10
        for _ in range(n_faults):
            fault_id += 1
            code = rnd.choice(DTC)[0]
            if hot and rnd.random() < 0.55:
                code = rnd.choice(COOLING)[0]
            when = start + dt.timedelta(minutes=rnd.randint(0, days * 24 * 60))
            tables["fault_events"].append((fault_id, vid, code, when.isoformat(sep=" "),
                                           odo - rnd.randint(0, 20_000), rnd.random() < 0.8))
        if hot:  # a recent cluster of overheating faults, the story of the quarterly report
            for _ in range(rnd.randint(6, 14) + v_index % 5):
                fault_id += 1
                when = dt.datetime.combine(anchor, dt.time()) - dt.timedelta(minutes=rnd.randint(60, 85 * 24 * 60))
                tables["fault_events"].append((fault_id, vid, rnd.choice(COOLING)[0], when.isoformat(sep=" "),
                                               odo - rnd.randint(0, 3000), rnd.random() < 0.5))
    maint_id = 0
    for vid, *_ in vehicles:
        for _ in range(rnd.randint(8, 24)):
            maint_id += 1
            kind, cost = rnd.choice(MAINT_TYPES)
            day = anchor - dt.timedelta(days=rnd.randint(0, days))
            tables["maintenance_events"].append((maint_id, vid, day.isoformat(), kind,
                                                 round(cost * rnd.uniform(0.8, 1.4), 2),
                                                 f"{rnd.choice(FIRST)} {rnd.choice(LAST)}",
                                                 f"{kind.replace('_', ' ')} completed"))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute(SCHEMA)
        with tempfile.TemporaryDirectory() as d:
            for name, rows in tables.items():
                path = Path(d) / f"{name}.csv"
                _write(path, rows)
                con.execute(f"COPY {name} FROM '{path}' (FORMAT csv, HEADER false)")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    tmp.replace(target)
    return {k: len(v) for k, v in tables.items()}
