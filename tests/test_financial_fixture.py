"""The financial fixture is honest (each expected answer is what SQL over its tables and its notes
give), and the Reasoner's rules compute the derived number a question asks for from the rows a
correct query returns."""

from __future__ import annotations

import sqlite3

import pytest

from hil.agents import calc, derive
from tests.financial_fixture import NOTES, QUESTIONS, create

# For each question: a query a correct SQL step could run, and what the expected answer is of it.
REFERENCE = {
    "q01": ("SELECT fiscal_year, revenue FROM segment_revenue WHERE segment = 'Cloud' AND fiscal_year IN (2023, 2024) "
            "ORDER BY fiscal_year", "growth_revenue"),
    "q02": ("SELECT segment, revenue FROM segment_revenue WHERE fiscal_year = 2024", "total_revenue"),
    "q03": ("SELECT segment, revenue FROM segment_revenue WHERE fiscal_year = 2024 ORDER BY segment",
            "share_of_total_segment_hardware"),
    "q04": ("SELECT fiscal_year, revenue FROM segment_revenue WHERE segment = 'Hardware' AND fiscal_year IN (2022, 2024)",
            "change_revenue"),
    "q05": ("SELECT segment, revenue FROM segment_revenue WHERE fiscal_year = 2023", "average_revenue"),
    "q06": ("SELECT fiscal_year, sum(amount) AS amount FROM operating_expenses GROUP BY fiscal_year", "growth_amount"),
    "q07": ("SELECT category, amount FROM operating_expenses WHERE fiscal_year = 2024", "total_amount"),
    "q08": ("SELECT category, amount FROM operating_expenses WHERE fiscal_year = 2024 ORDER BY category",
            "share_of_total_category_research_and_development"),
    "q09": ("SELECT category, amount FROM operating_expenses WHERE fiscal_year = 2023 AND category IN "
            "('Sales and marketing', 'General and administrative') ORDER BY category DESC", "difference_amount"),
    "q10": ("SELECT quarter, gross_margin_pct FROM quarterly_margin WHERE fiscal_year = 2024",
            "average_gross_margin_pct"),
    "q11": ("SELECT fiscal_year, avg(gross_margin_pct) AS margin FROM quarterly_margin GROUP BY fiscal_year",
            "change_margin"),
    "q12": ("SELECT fiscal_year, sum(employees) AS employees FROM regional_headcount GROUP BY fiscal_year",
            "growth_employees"),
    "q13": ("SELECT region, employees FROM regional_headcount WHERE fiscal_year = 2024 ORDER BY region",
            "share_of_total_region_apac"),
    "q14": ("SELECT fiscal_year, employees FROM regional_headcount WHERE region = 'Americas'", "change_employees"),
    "q15": ("SELECT max(gross_margin_pct) FROM quarterly_margin WHERE fiscal_year = 2024", None),
    "q16": ("SELECT fiscal_year, revenue FROM segment_revenue WHERE segment = 'Services'", "average_revenue"),
    "q17": ("SELECT segment, revenue FROM segment_revenue WHERE fiscal_year = 2022 ORDER BY segment",
            "share_of_total_segment_cloud"),
    "q18": ("SELECT revenue - 18 FROM segment_revenue WHERE segment = 'Cloud' AND fiscal_year = 2024", None),
    "q19": ("SELECT 140 - sum(amount) / 1000.0 FROM operating_expenses WHERE fiscal_year = 2024", None),
    "q20": ("SELECT fiscal_year, sum(revenue) AS revenue FROM segment_revenue GROUP BY fiscal_year", "total_revenue"),
    "q21": ("SELECT fiscal_year, employees FROM regional_headcount WHERE region = 'APAC'", "growth_employees"),
    "q22": ("SELECT amount / 1000.0 FROM operating_expenses WHERE fiscal_year = 2024 AND category = "
            "'Research and development'", None),
}


@pytest.fixture(scope="module")
def finance(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    db, notes = create(tmp_path_factory.mktemp("finance"))
    assert sorted(p.name for p in notes.iterdir()) == sorted(NOTES)
    return sqlite3.connect(db)


def test_the_fixture_covers_the_kinds_and_scales() -> None:
    assert len(QUESTIONS) >= 20 and len({q.id for q in QUESTIONS}) == len(QUESTIONS)
    assert {q.kind for q in QUESTIONS} >= {"growth", "average", "difference", "share", "sum"}
    text = " ".join(q.question for q in QUESTIONS)
    assert "millions" in text and "thousands" in text and "percent" in text


@pytest.mark.parametrize("q", QUESTIONS, ids=[q.id for q in QUESTIONS])
def test_expected_answers_follow_from_the_tables(finance: sqlite3.Connection, q: object) -> None:
    from tests.financial_fixture import Question

    assert isinstance(q, Question)
    sql, calculation = REFERENCE[q.id]
    cur = finance.execute(sql)
    columns = [d[0] for d in cur.description]
    rows = [list(r) for r in cur.fetchall()]
    if calculation is None:  # the query itself gives the number
        assert rows[0][-1] == pytest.approx(q.expected[0], rel=1e-3)
        return
    table = derive.table_of(columns, rows)
    proposals = {p.name: p for p in derive.rules(q.question, table)}
    assert calculation in proposals, (q.id, sorted(proposals))
    value = calc.evaluate(proposals[calculation].expression, table.cells).value
    assert any(abs(value) == pytest.approx(e, rel=1e-3) for e in q.expected), (q.id, proposals[calculation])
