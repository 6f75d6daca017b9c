"""Every number an answer states, matched to where it came from.

A number in an answer is *verified* when it is a result cell, a calculation or a number in a cited
passage or the question, allowing for how people write numbers: rounding to the precision the answer
shows, a percentage written as a fraction (0.42 = 42%), thousands separators, scales (thousand,
million, billion; k, M, bn), currency symbols and units. What it must not allow is a changed digit,
a wrong scale (thousands for millions, when the evidence states the scale), percentage points for a
percent change or the other way round, a different unit, a wrong rounding, or a sum, share or
difference nobody computed. Those stay *unverified*, and the Responder redrafts, then marks or
withholds them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

SCALES = {"thousand": 1e3, "thousands": 1e3, "k": 1e3, "million": 1e6, "millions": 1e6, "mn": 1e6, "mm": 1e6,
          "m": 1e6, "billion": 1e9, "billions": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12}
CURRENCIES = {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy", "usd": "usd", "dollars": "usd", "dollar": "usd",
              "eur": "eur", "euros": "eur", "euro": "eur", "gbp": "gbp", "pounds": "gbp"}
UNITS = {"km": "km", "kilometres": "km", "kilometers": "km", "miles": "mi", "mi": "mi", "kg": "kg", "tonnes": "t",
         "litres": "l", "liters": "l", "l": "l", "hours": "h", "hrs": "h", "h": "h", "days": "d", "minutes": "min",
         "min": "min", "kpa": "kpa", "rpm": "rpm", "°c": "c", "kph": "kph", "mph": "mph", "v": "v", "volts": "v"}
MARK = "[unverified]"
WITHHELD = "[number withheld: not in the evidence]"

_UNIT_WORDS = "|".join(sorted((re.escape(u) for u in {**UNITS, **CURRENCIES} if u[0].isalpha() or u[0] == "°"),
                              key=len, reverse=True))
MENTION = re.compile(
    r"(?<![\w.,\-/])(?P<cur>[$€£¥])?\s?(?P<num>[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−]?\d+(?:\.\d+)?)(?![\d,]\d)"
    r"(?:\s?(?P<pct>%|percent\b|per cent\b))?"
    r"(?:\s?(?P<pp>percentage points?\b|pp\b|points?\b))?"
    r"(?:\s?(?P<scale>thousands?\b|millions?\b|billions?\b|trillion\b|[kK]\b|M\b|mn\b|MM\b|bn\b|tn\b|[mbB]\b))?"
    rf"(?:\s?(?P<unit>(?:{_UNIT_WORDS})\b))?", re.I)
# Codes and ids, ISO dates and times, citation markers: not quantities, blanked before parsing.
NOT_QUANTITIES = re.compile(r"\b[A-Za-z]{1,6}[-_]?\d{2,}(?:[-_][A-Za-z0-9]+)*\b|\b\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}"
                            r"(?::\d{2}(?:\.\d+)?)?)?\b|\b\d{1,2}:\d{2}\b|\[\d{1,2}\]|\b[A-Za-z]+\d\b")
COLUMN_SCALE = re.compile(r"(?:^|_)(k|thousands?|kusd|k_usd|m|mn|millions?|musd|m_usd|bn|billions?|busd)$")
COLUMN_PERCENT = re.compile(r"(?:^|_)(pct|percent|percentage|share_pct)$")
PERCENTISH = re.compile(r"share|rate|ratio|pct|percent|margin|growth|change", re.I)
COLUMN_UNIT = re.compile(r"(?:^|_)(usd|eur|gbp|km|miles|kg|litres|liters|hours|days|kpa|rpm|kph|c)$")


@dataclass(frozen=True)
class Mention:
    text: str
    start: int
    end: int
    value: float
    decimals: int
    scale: float | None = None
    unit: str | None = None  # "%", "pp", a currency code or a unit
    number: str = ""  # the digits as written, without separators ("1250.5"): how clients find it in the text

    @property
    def trivial(self) -> bool:
        """A bare single digit (three depots, step 2): counted, not checked."""
        return self.decimals == 0 and self.scale is None and self.unit is None and 0 <= self.value <= 9


@dataclass(frozen=True)
class Known:
    value: float
    source: str
    scale: float | None = None  # value * scale is the amount, when the evidence says the scale
    unit: str | None = None
    percent_ok: bool = True  # whether "35%" may state this value as it is (not a count of 35 things)


def _parse(text: str) -> list[Mention]:
    blanked = NOT_QUANTITIES.sub(lambda m: " " * len(m.group(0)), text)
    out = []
    for m in MENTION.finditer(blanked):
        num = m.group("num").replace(",", "").replace("−", "-")
        decimals = len(num.split(".")[1]) if "." in num else 0
        scale_word = (m.group("scale") or "").lower()
        if scale_word in ("m", "b") and not m.group("cur"):
            scale_word = ""  # "12 m" is metres, "5 b" is nothing: only "$12m" is a scale
        unit = "%" if m.group("pct") else "pp" if m.group("pp") else None
        word = (m.group("unit") or "").lower()
        if m.group("cur") or word in CURRENCIES:
            unit = unit or CURRENCIES[m.group("cur") or word]
        elif word:
            unit = unit or UNITS.get(word)
        suffixed = scale_word or m.group("unit") or m.group("pct") or m.group("pp")
        end = m.end() if suffixed else m.end("num")
        out.append(Mention(text[m.start():end].strip(), m.start(), end, float(num), decimals,
                           SCALES.get(scale_word), unit, num.lstrip("-")))
    return out


def mentions(text: str) -> list[Mention]:
    """The quantities a text states, in order."""
    return [m for m in _parse(text) if not m.trivial]


def column_hints(column: str, notes: str = "") -> tuple[float | None, str | None]:
    """(scale, unit) of a result column, from its name (revenue_musd, share_pct, cost_usd) or a
    note that names it with a scale ("column revenue is reported in millions")."""
    name = column.lower()
    scale = unit = None
    if m := COLUMN_SCALE.search(name):
        word = m.group(1)
        scale = 1e3 if word.startswith(("k", "thousand")) else 1e9 if word.startswith(("b", "billion")) else 1e6
        unit = "usd" if "usd" in word else None
    if COLUMN_PERCENT.search(name):
        unit = "%"
    elif m := COLUMN_UNIT.search(name):
        unit = CURRENCIES.get(m.group(1)) or UNITS.get(m.group(1)) or unit
    if scale is None and notes:
        for sentence in re.split(r"(?<=[.!?])\s+|\n", notes):
            if re.search(rf"\b(?:column\s+)?{re.escape(name)}\b", sentence, re.I) and \
                    (s := re.search(r"\bin (thousands|millions|billions)\b", sentence, re.I)):
                scale = SCALES[s.group(1).lower()]
                break
    return scale, unit


@dataclass
class Evidence:
    known: list[Known] = field(default_factory=list)

    @classmethod
    def build(cls, columns: Sequence[str], rows: Sequence[Sequence[Any]], calculations: Iterable[dict[str, Any]],
              passages: Iterable[str], question: str, sql: str = "", notes: str = "") -> Evidence:
        passages = list(passages)
        notes = "\n".join([notes, *passages])
        ev = cls()
        hints = [column_hints(c, notes) for c in columns]
        for i, row in enumerate(rows, 1):
            for j, v in enumerate(row):
                if j >= len(columns):
                    break
                number = as_number(v)
                if number is not None:
                    ev.known.append(Known(number, f"r{i}.{columns[j]}", *hints[j], percent_ok=hints[j][1] == "%"
                                          or not number.is_integer() or bool(PERCENTISH.search(columns[j]))))
                elif isinstance(v, str):  # a text cell may hold a number with its unit ("42 km")
                    ev.known += [Known(m.value, f"r{i}.{columns[j]}", m.scale, m.unit) for m in _parse(v)]
        ev.known.append(Known(float(len(rows)), "row count"))
        for c in calculations:
            if isinstance(c.get("result"), (int, float)) and not c.get("error"):
                ev.known.append(Known(float(c["result"]), f"calculation {c.get('name')}", c.get("scale"),
                                      c.get("unit")))
        for k, text in enumerate(passages, 1):
            ev.known += [Known(m.value, f"passage {k}", m.scale, m.unit) for m in _parse(text)]
        ev.known += [Known(m.value, "question", m.scale, m.unit) for m in _parse(question)]
        ev.known += [Known(float(n), "query") for n in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", sql)]
        return ev


def as_number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        return float(v) if isinstance(v, (int, float)) or type(v).__name__ == "Decimal" else None
    except (TypeError, ValueError):
        return None


def _close(x: float, target: float, tol: float) -> bool:
    return abs(abs(x) - abs(target)) <= tol + 1e-9 * max(1.0, abs(target))


def matches(m: Mention, k: Known) -> bool:
    """Whether mention ``m`` states the known value ``k`` (see the module's docstring)."""
    tol = 0.5 * 10 ** -m.decimals
    if m.unit and k.unit and m.unit != k.unit:
        return False  # 2.4% is not 2.4 percentage points; $420 is not 420 km
    if m.unit == "%" and k.unit is None:
        return (k.percent_ok and _close(m.value, k.value, tol)) or _close(m.value, k.value * 100, tol)
    if m.unit is None and k.unit == "%" and m.scale is None:
        return _close(m.value, k.value, tol) or _close(m.value * 100, k.value, tol * 100)
    if m.scale is None:
        return _close(m.value, k.value, tol) or (k.scale is not None and _close(m.value, k.value * k.scale, tol))
    if k.scale is not None:
        return _close(m.value * m.scale, k.value * k.scale, tol * m.scale)
    return _close(m.value, k.value, tol) or _close(m.value * m.scale, k.value, tol * m.scale)


@dataclass
class NumberCheck:
    verified: list[tuple[Mention, Known]] = field(default_factory=list)
    unverified: list[Mention] = field(default_factory=list)

    def sources(self) -> list[dict[str, Any]]:
        return [{"text": m.text, "source": k.source} for m, k in self.verified]


def verify(answer: str, evidence: Evidence) -> NumberCheck:
    """Match every quantity in ``answer`` to the evidence; markers already in the text are skipped."""
    check = NumberCheck()
    for m in mentions(answer):
        if is_marked(answer, m):
            continue
        # calculations first: a computed share is the better source than a cell that happens to match
        ranked = sorted(evidence.known, key=lambda k: not k.source.startswith("calculation"))
        hit = next((k for k in ranked if matches(m, k)), None)
        if hit is None:
            check.unverified.append(m)
        else:
            check.verified.append((m, hit))
    return check


def is_marked(text: str, m: Mention) -> bool:
    return text[m.end:m.end + len(MARK) + 1].strip().startswith(MARK)


def apply_policy(text: str, unverified: Sequence[Mention], policy: str) -> str:
    """Mark each unverified number where it stands (policy ``mark``) or replace it (``withhold``)."""
    for m in sorted(unverified, key=lambda m: m.start, reverse=True):
        if policy == "withhold":
            text = text[:m.start] + WITHHELD + text[m.end:]
        elif not is_marked(text, m):
            text = text[:m.end] + " " + MARK + text[m.end:]
    return text


def states_any(answer: str, expected: Sequence[float]) -> bool:
    """Whether the answer states one of ``expected`` within the rounding it shows (for scoring)."""
    for m in mentions(answer) + [x for x in _parse(answer) if x.trivial]:
        tol = 0.5 * 10 ** -m.decimals
        for e in expected:
            if _close(m.value, e, max(tol, 0.005 * abs(e))) or (m.unit is None and abs(m.value) <= 1.5
                                                                 and _close(m.value * 100, e, max(tol * 100, 0.005 * abs(e)))):
                return True
    return False
