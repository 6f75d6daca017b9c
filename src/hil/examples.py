"""Question -> SQL examples: the unit of the SQL agent's few-shot memory, as pure data.

The store keeps them, the SQL agent ranks them and the services list and import them; this
module is what all three share, so none of them has to import another's room.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

Source = Literal["approved", "feedback", "import"]
SOURCES: tuple[Source, ...] = ("approved", "feedback", "import")


@dataclass(frozen=True)
class Example:
    id: str
    connection: str
    question: str
    sql: str
    source: Source
    run_id: str | None = None
    created_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ScoredExample:
    example: Example
    score: float

    def to_dict(self) -> dict[str, Any]:
        e = self.example
        return {"id": e.id, "question": e.question, "sql": e.sql, "source": e.source, "score": round(self.score, 3)}


# What the SQL agent calls to recall examples: (connection, question, k) -> best first.
Recall = Callable[[str, str, int], list[ScoredExample]]


def no_examples(_connection: str, _question: str, _k: int) -> list[ScoredExample]:
    return []
