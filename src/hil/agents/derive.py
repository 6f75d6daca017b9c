"""The derived quantities a question plainly asks for, found without a model.

A query result becomes a table of named cells (``r1.brake_services``; a bare column name stands for
the column over all rows). When the question asks for a share, a total, an average or a
difference/change, the matching expressions over those cells are proposed here, so a small model
is never the only way a number gets computed. The calculator (:mod:`hil.agents.calc`) evaluates
them; this module only decides what to compute and names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hil.agents.numbers import as_number, column_hints

MAX_RULE_CALCULATIONS = 30
SHARE = re.compile(r"\b(share|percent(age)?s?|proportion|fraction|what %|ratio|rate)\b|%", re.I)
TOTAL = re.compile(r"\b(total|sum|altogether|combined|overall|in all)\b", re.I)
AVERAGE = re.compile(r"\b(average|mean|avg|typical)\b", re.I)
CHANGE = re.compile(r"\b(difference|differ|more|less|fewer|compared?|change[ds]?|increase[ds]?|decrease[ds]?|"
                    r"grow(th|n|s)?|grew|rise|rose|fall|fell|drop(ped)?|decline[ds]?|gap|improve[ds]?|add(ed)?|gain(ed)?|lost)\b", re.I)
ANY = (SHARE, TOTAL, AVERAGE, CHANGE)
PERIOD = re.compile(r"year|fiscal|period|quarter|month|date|week", re.I)
PERCENTISH = re.compile(r"share|pct|percent|ratio|rate|margin", re.I)


def unfenced(text: str) -> str:
    """Text that cannot close the <data> fence it is shown in."""
    return re.sub(r"</?\s*data", lambda m: m.group(0).replace("<", "&lt;"), text, flags=re.I)


def identifier(name: str) -> str:
    """A column name as a cell name: lower case, letters, digits and '_' (``Brake Services`` ->
    ``brake_services``; a leading digit gets a ``c_``)."""
    out = re.sub(r"[^0-9a-z_]+", "_", name.strip().lower()).strip("_") or "column"
    return f"c_{out}" if out[0].isdigit() or re.fullmatch(r"r\d+", out) else out


@dataclass
class Table:
    columns: list[str]  # cell names of the columns, in order
    original: list[str]
    rows: list[list[Any]]
    labels: list[str]  # what each row is about, from its text cells ("depot = Central")
    cells: dict[str, float | list[float]] = field(default_factory=dict)
    numeric: list[str] = field(default_factory=list)  # columns with a number in every row
    hints: dict[str, tuple[float | None, str | None]] = field(default_factory=dict)  # column -> (scale, unit)
    complete: bool = True  # every row of the result is here (aggregates over a truncated result are wrong)

    def text(self) -> str:
        lines = [" | ".join(["row", *self.columns])]
        lines += [" | ".join([f"r{i}", *("" if v is None else unfenced(str(v)) for v in row)])
                  for i, row in enumerate(self.rows, 1)]
        return "\n".join(lines)

    def period(self) -> str | None:
        """The column that orders rows in time (a year, a quarter), if any."""
        for c in self.columns:
            values = [self.cells.get(f"r{i}.{c}") for i in range(1, len(self.rows) + 1)]
            years = all(isinstance(v, float) and v.is_integer() and 1900 <= v <= 2100 for v in values)
            if PERIOD.search(c) or (years and values):
                return c
        return None

    def values(self) -> list[str]:
        """Numeric columns that measure something (not the period)."""
        period = self.period()
        return [c for c in self.numeric if c != period]


def table_of(columns: list[str], rows: list[list[Any]], notes: str = "", complete: bool = True) -> Table:
    names: list[str] = []
    for c in columns:
        name, n = identifier(c), 2
        while name in names:
            name, n = f"{identifier(c)}_{n}", n + 1
        names.append(name)
    t = Table(names, list(columns), [list(r) for r in rows], [], complete=complete)
    for j, name in enumerate(names):
        t.hints[name] = column_hints(columns[j], notes)
        column: list[float] = []
        for i, row in enumerate(rows, 1):
            number = as_number(row[j]) if j < len(row) else None
            if number is not None:
                t.cells[f"r{i}.{name}"] = number
                column.append(number)
        if rows and len(column) == len(rows):
            t.numeric.append(name)
            t.cells[name] = column
    for row in rows:
        parts = [f"{columns[j]} = {v}" for j, v in enumerate(row[:len(columns)])
                 if v is not None and as_number(v) is None]
        t.labels.append(", ".join(parts[:3]))
    period = t.period()
    if period:  # the period names the row too ("fiscal_year = 2024")
        j = names.index(period)
        t.labels = [", ".join(x for x in (f"{columns[j]} = {_plain(row[j])}", label) if x)
                    for row, label in zip(rows, t.labels, strict=True)]
    t.labels = [label or f"row {i}" for i, label in enumerate(t.labels, 1)]
    return t


def repeated_rows(t: Table, cells: tuple[str, ...]) -> tuple[int, int] | None:
    """Two rows a calculation reads that are the same row repeated (a query that returns one value
    on every row): comparing them compares a value with itself."""
    read = sorted({int(c.split(".")[0][1:]) for c in cells if "." in c})
    for k, i in enumerate(read):
        for j in read[k + 1:]:
            if t.rows[i - 1] == t.rows[j - 1]:
                return i, j
    return None


def _plain(v: Any) -> str:
    n = as_number(v)
    return str(int(n)) if n is not None and n.is_integer() else str(v)


@dataclass(frozen=True)
class Proposal:
    name: str
    expression: str
    description: str
    unit: str | None = None  # what the proposer says the result is, when the cells do not tell
    source: str = "rule"


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")[:40]


def needs_derivation(question: str) -> bool:
    return any(p.search(question) for p in ANY)


def rules(question: str, t: Table) -> list[Proposal]:
    """Deterministic proposals for what the question plainly asks."""
    out: list[Proposal] = []
    values = t.values()
    n = len(t.rows)
    asked = {w.lower() for w in re.findall(r"share|proportion|fraction|ratio|rate|%", question, re.I)}
    growth_in_percent = SHARE.search(question) and not asked and CHANGE.search(question)  # "by what percentage ... grow"
    if SHARE.search(question) and not growth_in_percent and not any(PERCENTISH.search(c) for c in values):
        out += _shares(t, values)
    if TOTAL.search(question) and n >= 2 and t.complete:
        out += [Proposal(f"total_{c}", f"sum({c})", f"total {c} over all {n} rows") for c in values]
    if AVERAGE.search(question) and n >= 2 and t.complete:
        out += [Proposal(f"average_{c}", f"avg({c})", f"average {c} over {n} rows") for c in values]
    if CHANGE.search(question):
        out += _changes(t, values)
    seen: set[str] = set()
    unique = [p for p in out if not (p.expression in seen or seen.add(p.expression))]  # type: ignore[func-returns-value]
    return unique[:MAX_RULE_CALCULATIONS]


def _shares(t: Table, values: list[str]) -> list[Proposal]:
    n = len(t.rows)
    out: list[Proposal] = []
    wholes = sorted(values, key=lambda c: -sum(t.cells[c]))  # type: ignore[arg-type]
    for whole in wholes:
        parts = [p for p in values if p != whole and all(
            0 <= t.cells[f"r{i}.{p}"] <= t.cells[f"r{i}.{whole}"] and t.cells[f"r{i}.{whole}"] != 0  # type: ignore[operator]
            for i in range(1, n + 1))]
        for part in parts[:2]:
            out += [Proposal(f"share_{part}_{_slug(t.labels[i - 1])}", f"pct(r{i}.{part}, r{i}.{whole})",
                             f"{part} as a share of {whole}, {t.labels[i - 1]}") for i in range(1, n + 1)]
            if n >= 2 and t.complete:
                out.append(Proposal(f"share_{part}_all", f"pct(sum({part}), sum({whole}))",
                                    f"{part} as a share of {whole}, all rows together"))
        if parts:
            return out
    if len(values) == 1 and n >= 2 and t.complete:
        c = values[0]
        out += [Proposal(f"share_of_total_{_slug(t.labels[i - 1])}", f"pct(r{i}.{c}, sum({c}))",
                         f"{t.labels[i - 1]} as a share of total {c}") for i in range(1, n + 1)]
    return out


def _changes(t: Table, values: list[str]) -> list[Proposal]:
    n = len(t.rows)
    out: list[Proposal] = []
    period = t.period()
    if period and n >= 2:
        times = [t.cells.get(f"r{i}.{period}") for i in range(1, n + 1)]
        if None not in times and len(set(times)) == n:  # one row per period: a series over time
            order = sorted(range(1, n + 1), key=lambda i: times[i - 1])  # type: ignore[arg-type,return-value]
            first, last = order[0], order[-1]
            span = f"from {t.labels[first - 1]} to {t.labels[last - 1]}"
            for c in values:
                out.append(Proposal(f"change_{c}", f"r{last}.{c} - r{first}.{c}", f"change in {c} {span}"))
                out.append(Proposal(f"growth_{c}", f"growth(r{last}.{c}, r{first}.{c})",
                                    f"percent change in {c} {span}"))
    elif n == 2:
        for c in values:
            out.append(Proposal(f"difference_{c}", f"r1.{c} - r2.{c}",
                                f"{c}: {t.labels[0]} minus {t.labels[1]}"))
    elif n == 1 and len(values) >= 2:
        dated = sorted(values, key=lambda c: re.findall(r"\d+", c) or [""])
        a, b = dated[0], dated[-1]
        out.append(Proposal(f"difference_{b}_{a}", f"r1.{b} - r1.{a}", f"{b} minus {a}"))
        if all(re.search(r"\d{2,}", c) for c in (a, b)):
            out.append(Proposal(f"growth_{b}_{a}", f"growth(r1.{b}, r1.{a})", f"percent change from {a} to {b}"))
    return out
