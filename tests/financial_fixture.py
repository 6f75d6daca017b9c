"""Small financial tables with notes, and questions whose answers need arithmetic over them.

Revenue is in millions of dollars, operating expenses in thousands, gross margin in percent and
headcount in people: the notes say so, as an annual report's notes would. Each question carries the
numbers an answer may state to be right (the same value in the scales it may be written in).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

TABLES = {
    "segment_revenue": ("CREATE TABLE segment_revenue (fiscal_year INTEGER, segment TEXT, revenue REAL)", [
        (2022, "Cloud", 120.0), (2023, "Cloud", 150.0), (2024, "Cloud", 195.0),
        (2022, "Hardware", 310.0), (2023, "Hardware", 290.0), (2024, "Hardware", 261.0),
        (2022, "Services", 85.0), (2023, "Services", 96.0), (2024, "Services", 104.0)]),
    "operating_expenses": ("CREATE TABLE operating_expenses (fiscal_year INTEGER, category TEXT, amount REAL)", [
        (2023, "Research and development", 48200.0), (2024, "Research and development", 53020.0),
        (2023, "Sales and marketing", 61500.0), (2024, "Sales and marketing", 58425.0),
        (2023, "General and administrative", 22300.0), (2024, "General and administrative", 23415.0)]),
    "regional_headcount": ("CREATE TABLE regional_headcount (fiscal_year INTEGER, region TEXT, employees INTEGER)", [
        (2023, "EMEA", 1240), (2024, "EMEA", 1302), (2023, "Americas", 2150), (2024, "Americas", 2365),
        (2023, "APAC", 610), (2024, "APAC", 793)]),
    "quarterly_margin": ("CREATE TABLE quarterly_margin (fiscal_year INTEGER, quarter TEXT, gross_margin_pct REAL)", [
        (2023, "Q1", 39.5), (2023, "Q2", 40.1), (2023, "Q3", 40.9), (2023, "Q4", 41.5),
        (2024, "Q1", 41.2), (2024, "Q2", 42.8), (2024, "Q3", 44.1), (2024, "Q4", 43.5)]),
}

NOTES = {
    "notes-to-the-accounts.md": """# Notes to the accounts

## Note 1: Basis of presentation

Segment revenue (table segment_revenue, column revenue) is reported in millions of US dollars.
Operating expenses (table operating_expenses, column amount) are reported in thousands of US dollars.
Gross margin (table quarterly_margin) is a percentage of revenue for the quarter.
Headcount (table regional_headcount) counts employees at fiscal year end.

## Note 4: Acquisitions

In fiscal 2024 the company acquired Brightline Analytics for $42 million in cash. Brightline is reported
in the Cloud segment and contributed $18 million of Cloud revenue in fiscal 2024.
""",
    "outlook.md": """# Outlook

## Operating expenses

Management targets total operating expenses of $140 million for fiscal 2025, and expects research and
development to stay the largest growth area.
""",
}


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    kind: str  # growth, sum, share, difference, average, lookup
    expected: tuple[float, ...]  # any of these, within the rounding the answer shows, is right


QUESTIONS = [
    Question("q01", "By what percentage did Cloud revenue grow from 2023 to 2024?", "growth", (30.0,)),
    Question("q02", "What was total segment revenue in 2024, in millions of dollars?", "sum", (560.0,)),
    Question("q03", "What share of total 2024 revenue came from the Hardware segment, in percent?", "share",
             (46.607,)),
    Question("q04", "By how much did Hardware revenue fall from 2022 to 2024, in millions of dollars?", "difference",
             (49.0,)),
    Question("q05", "What was the average revenue per segment in 2023, in millions of dollars?", "average",
             (178.667,)),
    Question("q06", "By what percentage did total operating expenses change from 2023 to 2024?", "growth",
             (2.1667,)),
    Question("q07", "What were total operating expenses in 2024, in millions of dollars?", "sum",
             (134.86, 134860.0)),
    Question("q08", "What share of 2024 operating expenses was research and development, in percent?", "share",
             (39.315,)),
    Question("q09", "How much more was spent on sales and marketing than on general and administrative in 2023, "
             "in thousands of dollars?", "difference", (39200.0, 39.2)),
    Question("q10", "What was the average gross margin over the four quarters of 2024, in percent?", "average",
             (42.9,)),
    Question("q11", "By how many percentage points did the average quarterly gross margin improve from 2023 to 2024?",
             "difference", (2.4,)),
    Question("q12", "By what percentage did total headcount grow from 2023 to 2024?", "growth", (11.5,)),
    Question("q13", "What share of 2024 employees worked in APAC, in percent?", "share", (17.780,)),
    Question("q14", "How many employees did the Americas region add from 2023 to 2024?", "difference", (215.0,)),
    Question("q15", "What was the highest quarterly gross margin in 2024, in percent?", "lookup", (44.1,)),
    Question("q16", "What was the average annual Services revenue from 2022 to 2024, in millions of dollars?",
             "average", (95.0,)),
    Question("q17", "What share of 2022 segment revenue came from Cloud, in percent?", "share", (23.301,)),
    Question("q18", "Excluding the revenue Brightline Analytics contributed, what was Cloud revenue in 2024, in "
             "millions of dollars?", "difference", (177.0,)),
    Question("q19", "How far below the fiscal 2025 operating expense target were 2024 operating expenses, in "
             "millions of dollars?", "difference", (5.14, 5140.0)),
    Question("q20", "What was total segment revenue summed over 2022, 2023 and 2024, in millions of dollars?", "sum",
             (1611.0,)),
    Question("q21", "By what percentage did APAC headcount grow from 2023 to 2024?", "growth", (30.0,)),
    Question("q22", "What were research and development expenses in 2024, in millions of dollars?", "lookup",
             (53.02, 53020.0)),
]


def create(root: Path) -> tuple[Path, Path]:
    """Write the SQLite file and the note documents under ``root``; returns (database, notes folder)."""
    root.mkdir(parents=True, exist_ok=True)
    db = root / "finance.sqlite"
    db.unlink(missing_ok=True)
    with sqlite3.connect(db) as conn:
        for ddl, rows in TABLES.values():
            conn.execute(ddl)
            conn.executemany(f"INSERT INTO {ddl.split()[2]} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    notes = root / "notes"
    notes.mkdir(exist_ok=True)
    for name, text in NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    return db, notes


def workflow(db: Path, notes: Path, model: str) -> dict[str, object]:
    """The sql + rag workflow the questions run through, approvals off."""
    return {"name": "finance", "steps": ["sql", "rag"],
            "persona": {"name": "Financial Analyst", "audience": "the finance team"},
            "instructions": "Revenue is in millions of dollars, operating expenses in thousands of dollars, gross "
                            "margin in percent.",
            "approval": {"plan": False, "sql_read": False},
            "connections": [{"name": "finance", "engine": "sqlite", "path": str(db)}],
            "knowledge": [{"name": "finance-notes", "paths": [str(notes)]}],
            "model": {"model": model}}
