"""No filters or limits the question does not ask for: date filters need a time expression in the
question, a LIMIT needs a number of rows or a single most/least."""

from __future__ import annotations

import pytest

from hil.agents.sql.question_fit import (
    drop_unasked_date_filters,
    drop_unasked_limit,
    filters_from_context,
    has_time_expression,
    label_groups,
    purpose_in_scope,
    question_problems,
    untimed,
)
from hil.connectors.base import Column, Table


@pytest.mark.parametrize(("question", "timed"), [
    ("Which depot had the most brake services in the last 6 months?", True),
    ("How many trips started in 2024?", True),
    ("What was spent on maintenance since March?", True),
    ("average trip distance per vehicle type", False),
    ("Which drivers work at the Central depot?", False),
    ("Return the names of shops, ordered by year of opening ascending.", False),
    ("List the date of birth of each player", False),
    ("How many oil changes were done in the last month?", True),
    ("Which vehicles had a brake service in the last 3 months?", True),
    ("What did each type of maintenance cost in total over the last 90 days?", True),
    ("How many drivers were hired in the last year?", True),
    ("trips this week", True),
])
def test_time_expressions(question: str, timed: bool) -> None:
    assert has_time_expression(question) is timed


@pytest.mark.parametrize(("question", "sql", "kept"), [
    ("average trip distance per vehicle type", "SELECT type, avg(km) FROM trips GROUP BY type LIMIT 1", False),
    ("Sort the company names in descending order of market value.",
     "SELECT name FROM companies ORDER BY value DESC LIMIT 10", False),
    ("Which depot has the most brake services?",
     "SELECT depot, count(*) AS n FROM services GROUP BY depot ORDER BY n DESC LIMIT 1", True),
    ("Show the 5 longest trips", "SELECT id FROM trips ORDER BY km DESC LIMIT 5", True),
    ("Show the three longest trips", "SELECT id FROM trips ORDER BY km DESC LIMIT 3", True),
    ("Which states border Iowa?", "SELECT state FROM border WHERE border = 'iowa' LIMIT 1", False),
    # "the last 90 days" is a time, not "the last one"
    ("What did each type of maintenance cost in total over the last 90 days?",
     "SELECT type, sum(cost) AS c FROM m GROUP BY type ORDER BY c DESC LIMIT 1", False),
    ("Which depot had the most brake services in the last 6 months?",
     "SELECT depot, count(*) AS n FROM m GROUP BY depot ORDER BY n DESC LIMIT 1", True),
])
def test_a_limit_stays_only_when_the_question_asks_for_it(question: str, sql: str, kept: bool) -> None:
    out, note = drop_unasked_limit(sql, "sqlite", question)
    assert ("LIMIT" in out) is kept and (note is None) is kept


def test_a_date_filter_without_a_time_in_the_question_is_removed() -> None:
    sql = "SELECT type, avg(km) FROM trips WHERE started <= date('now') AND km > 0 GROUP BY type"
    out, note = drop_unasked_date_filters(sql, "sqlite", "average trip distance per vehicle type")
    assert out == "SELECT type, AVG(km) FROM trips WHERE km > 0 GROUP BY type"
    assert note is not None and "date('now')" in note.lower()
    only = "SELECT count(*) FROM trips WHERE started <= CURRENT_DATE"
    assert drop_unasked_date_filters(only, "sqlite", "how many trips are there")[0] == "SELECT COUNT(*) FROM trips"
    asked = "SELECT count(*) FROM trips WHERE started >= date('now', '-30 days')"
    assert drop_unasked_date_filters(asked, "sqlite", "how many trips in the last 30 days") == (asked, None)


def test_a_filter_from_the_notes_that_the_question_does_not_name_is_flagged() -> None:
    from hil.connectors.base import Column, Table

    tables = [Table("dtc_codes", [Column("code", "VARCHAR"), Column("system", "VARCHAR")]),
              Table("maintenance_events", [Column("event_type", "VARCHAR"), Column("code", "VARCHAR")])]
    notes = "Overheating-related faults are those with d.system = 'cooling'."
    sql = ("SELECT count(*) FROM maintenance_events m JOIN dtc_codes d ON d.code = m.code "
           "WHERE d.system = 'cooling' AND m.event_type = 'brake_service'")
    found = filters_from_context(sql, "duckdb", tables, "How many brake services were there?", notes)
    assert len(found) == 1 and "dtc_codes.system = 'cooling'" in found[0]
    assert filters_from_context(sql, "duckdb", tables, "How many brake services for cooling faults?", notes) == []
    assert filters_from_context(sql, "duckdb", tables, "How many brake services were there?", "") == []
    # the notes define a term the question uses: the filter is what the question asks
    defined = "SELECT count(*) FROM maintenance_events m JOIN dtc_codes d ON d.code = m.code WHERE d.system = 'cooling'"
    assert filters_from_context(defined, "duckdb", tables, "Which vehicles had the most overheating-related fault "
                                "codes?", f"Vehicles are identified by vehicle_id. {notes}") == []
    # ... and only that term: "faults" alone is not "overheating-related faults"
    assert len(filters_from_context(defined, "duckdb", tables, "Which vehicles had the most faults?", notes)) == 1


@pytest.mark.parametrize(("sql", "labelled"), [
    ("SELECT avg(t.km) AS avg_km FROM trips AS t JOIN vehicles AS v ON v.id = t.vid GROUP BY v.model",
     "SELECT v.model, AVG(t.km) AS avg_km FROM trips AS t JOIN vehicles AS v ON v.id = t.vid GROUP BY v.model"),
    ("SELECT name, count(*) FROM t GROUP BY id", None),  # a label is selected already
    ("SELECT count(*) FROM t", None),  # no groups
    ("SELECT count(*) FROM t GROUP BY 1", None),  # a position, not a column
])
def test_per_group_aggregates_are_labelled_with_their_group(sql: str, labelled: str | None) -> None:
    out, note = label_groups(sql, "duckdb")
    assert (out, note is None) == ((labelled, False) if labelled else (sql, True))


def test_ties_are_broken_by_the_groups_on_duckdb_only() -> None:
    from hil.agents.sql.question_fit import break_ties

    top = "SELECT f.vehicle_id, count(*) AS n FROM fault_events f GROUP BY f.vehicle_id ORDER BY n DESC LIMIT 5"
    sql, note = break_ties(top, "duckdb")
    assert sql.endswith("ORDER BY n DESC, f.vehicle_id LIMIT 5") and note is not None and "f.vehicle_id" in note
    assert break_ties(top, "sqlite") == (top, None)  # one plan, one order
    by_key = "SELECT depot, count(*) AS n FROM vehicles GROUP BY depot ORDER BY depot"
    assert break_ties(by_key, "duckdb") == (by_key, None)  # already ordered by the group
    assert break_ties("SELECT depot FROM vehicles ORDER BY depot", "duckdb")[1] is None  # no groups
    assert break_ties("SELECT depot, count(*) FROM vehicles GROUP BY 1 ORDER BY 2", "duckdb")[1] is None


FLEET = [Table("fault_events", [Column("vehicle_id", "VARCHAR"), Column("code", "VARCHAR"),
                                Column("occurred_at", "TIMESTAMP")]),
         Table("dtc_codes", [Column("code", "VARCHAR"), Column("system", "VARCHAR")])]
ALL_TIME = "SELECT vehicle_id, count(*) FROM fault_events GROUP BY vehicle_id"


@pytest.mark.parametrize(("question", "sql", "flagged"), [
    ("Which vehicles had the most faults last month?", ALL_TIME, "last month"),
    ("faults in the past 90 days per vehicle", ALL_TIME, "past 90 days"),
    ("How many faults this year?", "SELECT count(*) FROM fault_events", "this year"),
    ("How many faults in the last five years?", "SELECT count(*) FROM fault_events", "last five years"),
    ("faults per vehicle so far", ALL_TIME, "so far"),
    # the query compares a date: with today's date, a date literal, or a date column
    ("Which vehicles had the most faults last month?",
     ALL_TIME.replace("GROUP", "WHERE occurred_at >= CURRENT_DATE - INTERVAL 1 MONTH GROUP"), None),
    ("How many faults last year?", "SELECT count(*) FROM fault_events WHERE occurred_at >= date('now', '-1 year')", None),
    ("How many faults last year?", "SELECT count(*) FROM fault_events WHERE occurred_at >= '2025-01-01'", None),
    ("How many faults last year?",
     "SELECT count(*) FROM fault_events WHERE year(occurred_at) = year(current_date) - 1", None),
    ("How many faults last year?", "SELECT count(*) FROM fault_events f WHERE f.occurred_at > (SELECT min(occurred_at) "
     "FROM fault_events)", None),
    # no time counted back from today
    ("Which vehicles had the most faults?", ALL_TIME, None),
    ("What was the most recent fault?", "SELECT * FROM fault_events ORDER BY occurred_at DESC LIMIT 1", None),
    ("How many faults in 2024?", "SELECT count(*) FROM fault_events", None),
])
def test_a_time_counted_back_from_today_needs_a_date_condition(question: str, sql: str, flagged: str | None) -> None:
    found = untimed(question, sql, "duckdb", FLEET)
    assert (found is None) if flagged is None else (found is not None and repr(flagged) in found)


def test_no_date_condition_is_asked_for_where_there_is_no_date_to_compare() -> None:
    # a schema without date columns (dates kept as text are not guessed), and a phrase that is a column
    assert untimed("faults last month", ALL_TIME, "duckdb", [Table("fault_events", [Column("code", "TEXT")])]) is None
    party = [Table("party", [Column("first_year", "INTEGER"), Column("last_year", "INTEGER"),
                             Column("founded", "DATE")])]
    assert untimed("What are the first year and last year of the parties?", "SELECT first_year, last_year FROM party",
                   "sqlite", party) is None


def test_the_question_and_not_the_plan_decides_the_scope() -> None:
    notes = "Overheating-related faults are those with d.system = 'cooling'."
    cooling = ("SELECT f.vehicle_id, count(*) FROM fault_events f JOIN dtc_codes d ON d.code = f.code "
               "WHERE d.system = 'cooling' AND f.occurred_at >= CURRENT_DATE - INTERVAL 1 MONTH GROUP BY 1")
    [problem] = question_problems(cooling, "duckdb", FLEET, "Which vehicles had the most faults last month?", notes)
    assert "dtc_codes.system = 'cooling' is not asked for" in problem
    assert question_problems(cooling, "duckdb", FLEET, "Which vehicles had the most faults last month? only the "
                             "cooling ones", notes) == []  # a reviewer's instruction is asked for
    # a missing time comes first: one problem at a time, the one that changes the answer most
    [problem] = question_problems(ALL_TIME, "duckdb", FLEET, "faults last month", notes)
    assert "no condition on a date" in problem
    assert question_problems(ALL_TIME, "duckdb", FLEET, "faults per vehicle", "") == []


def test_the_plans_sentences_that_add_a_filter_from_the_notes_do_not_reach_the_sql_prompt() -> None:
    notes = "Overheating-related faults are those with d.system = 'cooling'. Critical means severity = 'critical'."
    purpose = ("To find the depots with the most critical fault codes last month, join fault_events with dtc_codes. "
               "We then filter the results to faults with a system of 'cooling' and a severity of 'critical'. "
               "Finally, group by depot.")
    question = "Which depots had the most critical fault codes last month?"
    assert purpose_in_scope(purpose, question, notes) == (
        "To find the depots with the most critical fault codes last month, join fault_events with dtc_codes. "
        "Finally, group by depot.")
    # asked for: named by the question, or a term of it the notes define by the value
    assert purpose_in_scope(purpose, f"{question} Only cooling faults.", notes) == purpose
    assert purpose_in_scope(purpose, "Which depots had the most critical overheating-related faults?", notes) == purpose
    assert purpose_in_scope(purpose, question, "") == purpose  # no notes, nothing copied from them
    assert purpose_in_scope("count faults with system 'cooling'", "How many faults?", notes) == ""
