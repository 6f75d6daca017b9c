"""Schema linking: which parts of a schema a piece of text talks about.

A question or a reviewer's message often names a value ("critical", "Central") rather than
the column that holds it. Small models do not make that leap on their own; pointing at the
column does.
"""

from __future__ import annotations

import re

from hil.connectors.base import Table


def value_mentions(text: str, tables: list[Table]) -> list[str]:
    """``table.column = 'value'`` for each sampled value that the text names as a whole word."""
    lowered = text.lower()
    found: list[str] = []
    for t in tables:
        for c in t.columns:
            for value in c.samples:
                if len(value) >= 3 and re.search(rf"(?<!\w){re.escape(value.lower())}(?!\w)", lowered):
                    found.append(f"{t.name}.{c.name} = '{value}'")
    return found
