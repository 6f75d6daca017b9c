"""The CAN decoder agent. It reads frames through ``hil.agents.plugin_api`` (read-only, on the
workflow's own connections), decodes them with ``cantools`` and returns a short text for the
Reasoner plus the full per-vehicle table."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cantools
from cantools.database import Database
from pydantic import BaseModel, Field

from hil.agents.base import Agent, StepContext, TableNeed
from hil.agents.plugin_api import column, matching_tables, read, settings_of
from hil.errors import ConfigError

MAX_TEXT_VEHICLES = 30  # rows per signal in the text the Reasoner reads; the table has them all


class Settings(BaseModel):
    """``agents: {can_decoder: {...}}`` in a workflow."""

    dbc: Path = Field(description="The DBC file describing the frames (relative to the workflow file).")
    signals: list[str] | None = Field(default=None, description="Signals to report; all the DBC decodes when unset.")
    max_frames: int = Field(default=100_000, ge=1, le=100_000, description="Most frames read in one step.")


@dataclass
class SignalStats:
    unit: str
    count: int = 0
    low: float = float("inf")
    high: float = float("-inf")
    total: float = 0.0

    def add(self, value: float) -> None:
        self.count += 1
        self.low, self.high, self.total = min(self.low, value), max(self.high, value), self.total + value

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else float("nan")


@dataclass
class Decoded:
    stats: dict[tuple[str, str], SignalStats] = field(default_factory=dict)  # (vehicle, signal) -> stats
    frames: int = 0
    unknown: int = 0  # frames whose id the DBC does not describe, or whose data does not decode


def load_dbc(path: Path) -> Database:
    try:
        db = cantools.database.load_file(str(path))
    except FileNotFoundError:
        raise ConfigError(f"agents.can_decoder.dbc: no DBC file at {path}",
                          hint="give the path of a .dbc file, relative to the workflow file") from None
    except Exception as err:  # noqa: BLE001 - cantools raises many kinds of parse errors
        raise ConfigError(f"agents.can_decoder.dbc: {path} is not a DBC file cantools can read: {err}",
                          hint="check the file with `python -m cantools dump FILE`") from None
    if not isinstance(db, Database):
        raise ConfigError(f"agents.can_decoder.dbc: {path} is not a CAN database (DBC)")
    return db


def decode_frames(db: Database, frames: Iterable[tuple[str, int, str]], wanted: set[str] | None = None) -> Decoded:
    """Decode (vehicle, can id, hex data) frames and gather each vehicle's signal statistics."""
    out = Decoded()
    units = {s.name: s.unit or "" for m in db.messages for s in m.signals}
    for vehicle, can_id, data in frames:
        out.frames += 1
        try:
            values = db.decode_message(int(can_id), bytes.fromhex(str(data)), decode_choices=False)
        except Exception:  # noqa: BLE001 - an unknown id or a short frame is counted, not fatal
            out.unknown += 1
            continue
        if not isinstance(values, dict):  # a container message (multiplexed PDUs) is not summarised
            out.unknown += 1
            continue
        for name, value in values.items():
            if (wanted is None or name in wanted) and isinstance(value, int | float):
                out.stats.setdefault((str(vehicle), name), SignalStats(units.get(name, ""))).add(float(value))
    return out


def relevant(question: str, db: Database, signals: list[str]) -> list[str]:
    """The signals the question is about (by name, unit or comment words), best first; all when none is."""
    words = set(re.findall(r"[a-z]+", question.lower()))
    described = {s.name: s for m in db.messages for s in m.signals}
    scored = []
    for name in signals:
        sig = described[name]
        terms = set(re.findall(r"[a-z]+", re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()))
        terms |= set(re.findall(r"[a-z]+", (sig.unit or "").lower()))
        comment = sig.comment if isinstance(sig.comment, str) else ""
        terms |= {w for w in re.findall(r"[a-z]+", comment.lower()) if len(w) > 3}
        if hits := len(words & terms):
            scored.append((hits, name))
    best = max((h for h, _ in scored), default=0)
    return [n for h, n in sorted(scored, key=lambda x: -x[0]) if h == best] or signals


def _fmt(x: float) -> str:
    return f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"


class CanDecoderAgent(Agent):
    name = "can_decoder"
    description = ("Decodes raw CAN bus frames with the workflow's DBC file into signals (engine speed in rpm, "
                   "coolant temperature, oil pressure, vehicle speed, battery voltage, ...) and summarises each "
                   "vehicle's signals (min, mean, max). Use it for questions about decoded CAN signals.")
    needs = (TableNeed("raw CAN frames", ("vehicle_id", "can_id", "data")),)
    settings_model = Settings

    def execute(self, ctx: StepContext, content: dict[str, Any] | None) -> dict[str, Any]:
        settings = settings_of(ctx, Settings)
        db = load_dbc(settings.dbc)
        found = matching_tables(ctx, self.needs[0])
        if not found:
            raise ConfigError("can_decoder: none of this workflow's tables has raw CAN frames "
                              "(columns vehicle_id, can_id, data)", hint="add the connection that holds them")
        cfg, table = found[0]
        known = {s.name for m in db.messages for s in m.signals}
        unknown = sorted(set(settings.signals or ()) - known)
        if unknown:
            raise ConfigError(f"agents.can_decoder.signals: {', '.join(unknown)} not in {settings.dbc.name}",
                              hint=f"its signals: {', '.join(sorted(known))}")
        ids = ", ".join(str(m.frame_id) for m in db.messages)
        vehicle, can_id, data = (f'"{column(table, c)}"' for c in ("vehicle_id", "can_id", "data"))
        result = read(ctx, cfg, f'SELECT {vehicle}, {can_id}, {data} FROM {table.name} '
                                f"WHERE {can_id} IN ({ids}) ORDER BY 1", limit=settings.max_frames)
        decoded = decode_frames(db, ((r[0], r[1], r[2]) for r in result.rows), set(settings.signals or known))
        return self._summary(ctx.question, db, decoded, f"{table.name} in {cfg.name}", settings.dbc.name,
                             result.truncated)

    @staticmethod
    def _summary(question: str, db: Database, decoded: Decoded, source: str, dbc: str,
                 truncated: bool) -> dict[str, Any]:
        vehicles = sorted({v for v, _ in decoded.stats})
        signals = sorted({s for _, s in decoded.stats})
        rows = [[v, s, st.unit, st.count, round(st.low, 3), round(st.mean, 3), round(st.high, 3)]
                for (v, s), st in sorted(decoded.stats.items())]
        lines = [f"Decoded {decoded.frames - decoded.unknown} of {decoded.frames} CAN frames from {source} with "
                 f"{dbc}: {len(signals)} signals of {len(vehicles)} vehicles"
                 + (" (the frame limit was reached; later frames were not read)" if truncated else "") + "."]
        for signal in relevant(question, db, signals) if signals else []:
            per = {v: st for (v, s), st in decoded.stats.items() if s == signal}
            every = SignalStats(next(iter(per.values())).unit)
            for st in per.values():
                every.count, every.total = every.count + st.count, every.total + st.total
                every.low, every.high = min(every.low, st.low), max(every.high, st.high)
            unit = f" ({every.unit})" if every.unit else ""
            lines.append(f"\n{signal}{unit}, all vehicles: min {_fmt(every.low)}, mean {_fmt(every.mean)}, "
                         f"max {_fmt(every.high)} over {every.count} frames.")
            lines.append("vehicle_id | frames | min | mean | max")
            ranked = sorted(per.items(), key=lambda kv: -kv[1].mean)[:MAX_TEXT_VEHICLES]
            lines += [f"{v} | {st.count} | {_fmt(st.low)} | {_fmt(st.mean)} | {_fmt(st.high)}" for v, st in ranked]
        return {"text": "\n".join(lines), "frames": decoded.frames, "undecoded": decoded.unknown,
                "vehicles": len(vehicles), "signals": signals,
                "table": {"columns": ["vehicle_id", "signal", "unit", "frames", "min", "mean", "max"], "rows": rows}}
