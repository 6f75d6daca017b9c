"""How a predicted result is compared with the gold result, as the benchmarks' own evaluators do.

Rows compare as multisets, in order only when the gold query has ORDER BY. Columns compare up to
permutation (Spider's test-suite evaluator): ``SELECT avg(x), type`` answers the same question as
``SELECT type, avg(x)``. Values are normalised (booleans as integers, floats to 4 places, text
trimmed) before comparing.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

_ORDER_BY = re.compile(r"\border\s+by\b", re.I)
Row = tuple[Any, ...]


def normalize(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, 4)
    if isinstance(value, str):
        return value.strip()
    return value


def is_ordered(gold_sql: str) -> bool:
    """Order matters only when the gold query sorts its result."""
    return bool(_ORDER_BY.search(gold_sql))


def _column_permutations(gold: Sequence[Row], predicted: Sequence[Row], width: int) -> Iterator[tuple[int, ...]]:
    """Orders of the predicted columns worth trying: column ``j`` may stand for gold column ``i``
    only when both hold the same multiset of values (so the search stays small on wide results)."""
    g_cols = [Counter(r[i] for r in gold) for i in range(width)]
    p_cols = [Counter(r[j] for r in predicted) for j in range(width)]
    choices = [[j for j in range(width) if p_cols[j] == g_cols[i]] for i in range(width)]
    if any(not c for c in choices):
        return
    for perm in itertools.product(*choices):
        if len(set(perm)) == width:
            yield perm


def rows_match(gold: Sequence[Row], predicted: Sequence[Row], ordered: bool) -> bool:
    """True when ``predicted`` holds the gold rows, with its columns in any order."""
    g = [tuple(normalize(v) for v in r) for r in gold]
    p = [tuple(normalize(v) for v in r) for r in predicted]
    if len(g) != len(p):
        return False
    if not g:
        return True
    width = len(g[0])
    if any(len(r) != width for r in (*g, *p)):
        return False
    for perm in _column_permutations(g, p, width):
        moved = [tuple(r[j] for j in perm) for r in p]
        if (moved == g) if ordered else (Counter(moved) == Counter(g)):
            return True
    return False
