"""What the SQL agent asks the model, and how it reads the answer.

Code models learn text-to-SQL as "the CREATE TABLE statements, then a comment with the question,
then the query in a ```sql block". Asked that way, a 1.5B model writes better SQL than when the
same query has to be escaped into a JSON string, so the agent asks in that form and takes the
query out of the answer. The prompt is ordered stable part first (the schema, the workflow's
notes), then what changes per question (examples, hints, the question), so a runtime that keeps
a prompt prefix's cache reuses it across drafts and questions.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field, replace

from hil.agents.sql import fewshot
from hil.agents.sql.question_fit import has_time_expression
from hil.examples import ScoredExample

NAMES = {"sqlite": "SQLite", "duckdb": "DuckDB", "postgres": "PostgreSQL"}
# Small models default to MySQL idioms (DATE_SUB, NOW()); one form per dialect steers them. No
# number in it: a concrete "90 days" gets copied into questions about a year.
DATE_HINTS = {
    "duckdb": "Date arithmetic: CURRENT_DATE - INTERVAL n DAY (or MONTH, or YEAR), with n from the question "
              "(DuckDB has no DATE_SUB or NOW()).",
    "sqlite": "Date arithmetic: date('now', '-n days') (or months, or years), with n from the question.",
    "postgres": "Date arithmetic: CURRENT_DATE - INTERVAL 'n days' (or months, or years), with n from the question.",
}
SYSTEM = ("You are a {name} expert. You write one query that answers the question from the tables given, "
          "using only tables and columns that exist there and, for text columns, the exact values shown in "
          "the schema comments. Answer with one {name} query in a ```sql code block and nothing else.")
# The plain prompt: the database's own CREATE TABLE statements and the question, the form code models
# are trained on for text-to-SQL. On a database the agent knows nothing else about, it is the strongest
# first try (see SqlAgent._plain_first); the evaluation's bare-model yardstick asks exactly this.
PLAIN_SYSTEM = "You are a {name} expert. Answer with one {name} query in a ```sql code block and nothing else."
ROWS_RULE = ("Return only the columns the question asks for. Use LIMIT N only when it asks for the top N, and "
             "LIMIT 1 when it asks for the single largest, smallest, most or least; otherwise return every "
             "matching row.")
_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)(?:```|$)", re.S)
_START = re.compile(r"\b(SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|REPLACE|MERGE|TRUNCATE)\b.*",
                    re.S | re.I)


@dataclass
class Brief:
    """Everything a prompt is made of, so that variants (without notes or examples) are one change."""

    dialect: str
    schema: str
    question: str
    notes: str = ""
    writable: bool = False
    examples: list[ScoredExample] = field(default_factory=list)
    purpose: str = ""
    mentions: list[str] = field(default_factory=list)
    feedback: str = ""
    instruction: str = ""  # a reviewer's, when a rejected draft is redone: asked for like the question

    def asked(self) -> str:
        """What the query must answer to: the question, and the reviewer's instruction on a redo."""
        return f"{self.question} {self.instruction}".strip()

    def schema_only(self) -> Brief:
        """The same question on the schema alone: no notes, examples, value mentions or feedback (a
        candidate drawn from different evidence than the full prompt)."""
        return replace(self, notes="", examples=[], mentions=[], feedback="")


def system(dialect: str) -> str:
    return SYSTEM.format(name=NAMES[dialect])


def prompt(b: Brief) -> str:
    name = NAMES[b.dialect]
    parts = [b.schema]
    if b.notes:  # context for any question, never a template for this one
        parts.append(f"Background notes on this database (definitions and conventions; they do not change what "
                     f"the question asks, and add no filters of their own): {b.notes}")
    if b.writable:
        parts.append("This connection allows changes. When the question asks to change data, write one INSERT, "
                     "UPDATE or DELETE statement instead of a SELECT; a human approves it before it runs.")
    # the date before the examples: it is the same for every question with a time in it today, so
    # a second such question finds it in the prompt cache (the examples change with the question)
    if has_time_expression(f"{b.question} {b.purpose}"):  # else the hint invents date filters
        parts.append(f"Today's date: {dt.date.today().isoformat()}. {DATE_HINTS[b.dialect]}")
    if b.examples:
        parts.append("Approved queries for earlier questions (reuse their joins, not their values):"
                     f"\n\n{fewshot.render(b.examples, b.dialect)}")
    if b.mentions:
        parts.append("Values named in the question and the columns that hold them: " + "; ".join(b.mentions))
    ask = f"-- Using valid {name}, answer the following question for the tables provided above.\n" \
          f"-- Question: {b.question}"
    if b.purpose and b.purpose.strip().lower() != b.question.strip().lower():
        ask += f"\n-- What this query must find: {b.purpose}"
    parts.append(ask)
    if b.feedback:  # last but the rule: what a reviewer said weighs most when it is read last
        parts.append(b.feedback)
    # last, though the same for every question (a second question reads it again): placed in the
    # system prompt instead, the demo's first draft counted distinct codes instead of fault events
    parts.append(f"-- {ROWS_RULE}")
    return "\n\n".join(parts)


def plain_system(dialect: str) -> str:
    return PLAIN_SYSTEM.format(name=NAMES[dialect])


def plain_prompt(dialect: str, create_tables: str, question: str) -> str:
    return f"{create_tables}\n\n-- Using valid {NAMES[dialect]}, answer the following question for the tables " \
           f"provided above.\n-- {question}"


def extract_sql(text: str) -> str | None:
    """The query in a model's answer: ``{"sql": ...}``, a fenced block, or the text from the first
    statement keyword; one statement, without its semicolon."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("sql"), str):
            stripped = data["sql"]
    m = _FENCE.search(stripped)
    body = m.group(1) if m else stripped
    s = _START.search(body)
    if not s:
        return None
    return _first_statement(s.group(0)).strip() or None


def _first_statement(sql: str) -> str:
    """Up to the first semicolon outside quotes: a model sometimes adds a second query or prose."""
    quote = ""
    for i, ch in enumerate(sql):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch == ";":
            return sql[:i]
    return sql
