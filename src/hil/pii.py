"""Personal data found in query results, and what is done with it before anyone sees them.

Detectors find e-mail addresses, phone numbers, payment cards (Luhn-checked), IBANs (mod-97
checked) and national-id numbers (US SSN form) in text cells; a column whose name says what it
holds (``email``, ``phone``, ``ssn``, ``iban``, ``card_number``, ...) counts whole. A policy then
redacts (``[email]``), masks (``j***@example.com``, ``**** 4242``) or allows each kind. Detection
is a hook: :func:`register` adds a detector next to the built-in ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, Literal

Action = Literal["redact", "mask", "allow"]
Detector = Callable[[str], Iterable[tuple[int, int]]]  # text -> (start, end) spans

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
_PHONE = re.compile(r"(?<![\w-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){2,4}(?![\w-])")
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}|^\d{2}[./-]\d{2}[./-]\d{2,4}")


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _cards(text: str) -> Iterable[tuple[int, int]]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and _luhn(digits):
            yield m.span()


def _ibans(text: str) -> Iterable[tuple[int, int]]:
    for m in _IBAN.finditer(text):
        code = m.group().replace(" ", "")
        moved = code[4:] + code[:4]
        if int("".join(str(int(c, 36)) for c in moved)) % 97 == 1:
            yield m.span()


def _phones(text: str) -> Iterable[tuple[int, int]]:
    for m in _PHONE.finditer(text):
        value = m.group()
        # 9 to 13 digits: longer runs are cards (or account numbers), shorter ones amounts or codes
        if 9 <= sum(c.isdigit() for c in value) <= 13 and not _DATE_LIKE.match(value):
            yield m.span()


DETECTORS: dict[str, Detector] = {
    "email": lambda t: (m.span() for m in _EMAIL.finditer(t)),
    "card": _cards,
    "iban": _ibans,
    "national_id": lambda t: (m.span() for m in _SSN.finditer(t)),
    "phone": _phones,
}
# A column whose name holds one of these words holds that kind of data, whatever its values look like.
COLUMN_HINTS = {"email": "email", "e_mail": "email", "phone": "phone", "mobile_number": "phone",
                "telephone": "phone", "ssn": "national_id", "national_id": "national_id", "passport": "national_id",
                "iban": "iban", "card_number": "card", "credit_card": "card"}


def register(kind: str, detector: Detector) -> None:
    """Add (or replace) a detector of one kind of personal data."""
    DETECTORS[kind] = detector


def column_kind(column: str) -> str | None:
    name = column.lower()
    words = set(re.split(r"[^a-z0-9]+", name))
    for hint, kind in COLUMN_HINTS.items():
        if hint in words or name == hint or name.endswith("_" + hint) or ("_" in hint and hint in name):
            return kind
    return None


def _mask(kind: str, value: str) -> str:
    if kind == "email" and "@" in value:
        local, domain = value.split("@", 1)
        return f"{local[:1]}***@{domain}"
    tail = re.sub(r"[^A-Za-z0-9]", "", value)[-4:]
    return f"****{tail}"


def _act(kind: str, value: str, action: Action) -> str:
    return value if action == "allow" else (f"[{kind}]" if action == "redact" else _mask(kind, value))


def clean_text(text: str, action_for: Callable[[str], Action], found: dict[str, int]) -> str:
    """``text`` with every detected span replaced as its kind's action says; counts go to ``found``."""
    spans: list[tuple[int, int, str]] = []
    for kind, detect in DETECTORS.items():
        for start, end in detect(text):
            if not any(s < end and start < e for s, e, _ in spans):  # the first detector to claim a span wins
                spans.append((start, end, kind))
    for start, end, kind in sorted(spans, reverse=True):
        action = action_for(kind)
        if action != "allow":
            found[kind] = found.get(kind, 0) + 1
        text = text[:start] + _act(kind, text[start:end], action) + text[end:]
    return text


class Policy:
    """What happens to each kind of personal data: ``default`` for every kind, ``kinds`` per kind,
    and ``allow_columns`` shown as they are."""

    def __init__(self, default: Action = "redact", kinds: dict[str, Action] | None = None,
                 allow_columns: Iterable[str] = ()):
        self.default, self.kinds = default, dict(kinds or {})
        self.allow_columns = {c.lower() for c in allow_columns}

    def action(self, kind: str) -> Action:
        return self.kinds.get(kind, self.default)

    def clean_rows(self, columns: list[str], rows: list[list[Any]]) -> tuple[list[list[Any]], dict[str, int]]:
        """The rows with personal data redacted or masked, and how many values of each kind."""
        found: dict[str, int] = {}
        kinds = [None if c.lower() in self.allow_columns else column_kind(c) for c in columns]
        cleaned = []
        for row in rows:
            out = []
            for i, value in enumerate(row):
                column = columns[i] if i < len(columns) else ""
                kind = kinds[i] if i < len(kinds) else None
                if column.lower() in self.allow_columns or value is None:
                    out.append(value)
                elif kind is not None and self.action(kind) != "allow":
                    found[kind] = found.get(kind, 0) + 1
                    out.append(_act(kind, str(value), self.action(kind)))
                elif isinstance(value, str):
                    out.append(clean_text(value, self.action, found))
                else:
                    out.append(value)
            cleaned.append(out)
        return cleaned, found


def looks_personal(column: str, value: str) -> bool:
    """Whether a sampled value is personal data (schema hints never show those)."""
    if column_kind(column):
        return True
    found: dict[str, int] = {}
    clean_text(value, lambda _kind: "redact", found)
    return bool(found)
