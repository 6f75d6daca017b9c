"""What of the evidence the Responder's prompt carries: the rows behind an aggregate cut to the
columns the query names, a passage cut to the sentences that match the question, a table in a
passage to the rows and columns the question names."""

from __future__ import annotations

from pathlib import Path

from hil.agents import condense
from hil.store import Store
from tests.conftest import Script
from tests.helpers import approve_all, setup_run

MANUAL = ("### Overheating-related codes\n\n"
          "The six cooling codes count as overheating-related codes. Reports and fleet queries use the same "
          "grouping. For all six, the technician follows the diagnostic sequence in Maintenance Manual Section 4.5: "
          "coolant level first, then the radiator cap. Sensor codes are handled the same way, because a sensor "
          "fault can hide real overheating.")
REPORT = ("Overheating-related faults rose at Central. Central now accounts for 27.5 % of the cooling faults. "
          "Three vans logged 49 overheating-related faults.")
POLICY = "When a vehicle has several open codes, the most severe one sets the response. Overheating-related codes go together."


def test_rows_behind_keep_the_named_columns_once_and_a_few_distinct_rows() -> None:
    sql = ("SELECT v.vehicle_id, count(*) AS n FROM vehicles v JOIN fault_events f ON f.vehicle_id = v.vehicle_id "
           "WHERE f.code LIKE 'P01%' GROUP BY v.vehicle_id")
    columns = ["vehicle_id", "make", "odometer_km", "fault_id", "vehicle_id", "code"]
    rows = [["VH-1", "Ford", 100, i, "VH-1", f"P01{i % 2}"] for i in range(6)]
    shown_columns, shown = condense.rows_behind(sql, columns, rows)
    assert shown_columns == ["vehicle_id", "code"]
    assert shown == [["VH-1", "P010"], ["VH-1", "P011"]]  # distinct: six rows say two things
    many = [["VH-1", "Ford", 100, i, "VH-1", f"P0{i}"] for i in range(9)]
    assert len(condense.rows_behind(sql, columns, many)[1]) == condense.ROWS_PER_GROUP
    # a query that names none of the columns shows them all
    assert condense.named_columns("SELECT count(*) FROM t", ["a", "b"]) == [0, 1]


def test_a_passage_keeps_the_sentences_that_answer_the_question() -> None:
    question = "Which vehicles had the most overheating-related faults, and what does the maintenance manual say?"
    report, manual, policy = condense.relevant_passages([REPORT, MANUAL, POLICY], question, limit=200)
    # "overheating-related" is in every passage and weighs little; "maintenance manual" is the asked-for part
    assert "Maintenance Manual Section 4.5" in manual
    assert "Reports and fleet queries" not in manual and "###" not in manual
    assert len(manual) <= 200 and len(report) <= 200
    # a passage keeps its best sentence; another goes when it shares only words every passage has
    assert policy == "When a vehicle has several open codes, the most severe one sets the response."


def test_a_sentence_goes_in_when_it_matches_about_as_well_as_the_best() -> None:
    question = "What must the driver do about a critical code?"
    passage = ("The driver stops at once for a critical code. A critical fault means the driver calls in. "
               "Each code is logged. The depot sends a replacement.")
    [kept] = condense.relevant_passages([passage], question)
    # the best sentence has "driver", "critical" and "code"; the next has two of them, within half
    # of the best; one with "code" alone is not, nor one with no word of the question
    assert kept == "The driver stops at once for a critical code. A critical fault means the driver calls in."
    [unbounded] = condense.relevant_passages([passage], question, limit=10_000)
    assert unbounded == kept  # the floor, not the length, leaves the rest out


def test_lists_tables_and_emphasis_are_read_as_the_model_needs_them() -> None:
    text = ("## Fault events\n\n| Depot | Critical |\n|---|:---:|\n| North | 35 |\n| Central | 45 |\n\n"
            "The **critical** codes are\nP0217 and U0100.\n\n- The driver stops at once.\n"
            "- The vehicle is out of service.\n1. Report it in the app.")
    assert condense._sentences(text) == [
        "| Depot | Critical |\n| North | 35 |\n| Central | 45 |",  # whole, a row a line, without its rule row
        "The critical codes are P0217 and U0100.",  # a wrapped line joins its paragraph
        "The driver stops at once.", "The vehicle is out of service.", "Report it in the app."]


TABLE = ("## Maintenance cost\n\n| Event type | Events | Cost (USD) |\n|---|---|---|\n"
         "| radiator_repair | 72 | 55,334 |\n| coolant_flush | 84 | 23,902 |\n| **Total** | **156** | **79,236** |\n\n"
         "Costs rose in Q3. Radiator repairs cost the most.")


def test_a_table_keeps_the_rows_and_columns_the_question_names() -> None:
    [flush] = condense.relevant_passages([TABLE], "What does a coolant flush cost?")
    assert flush == "Event type | Cost (USD)\ncoolant_flush | 23,902"  # the row's name, the cost; no other row
    # no row named: every row; a column named: it and the rows' names; what follows starts its own line
    [costs] = condense.relevant_passages([TABLE], "Which maintenance cost the most?", limit=10_000)
    assert costs == ("Event type | Cost (USD)\nradiator_repair | 55,334\ncoolant_flush | 23,902\nTotal | 79,236\n"
                     "Radiator repairs cost the most.")
    # nothing named: the whole table, one row a line
    [whole] = condense.relevant_passages([TABLE.split("\n\nCosts")[0]], "what happened in the quarter")
    assert whole == ("Event type | Events | Cost (USD)\nradiator_repair | 72 | 55,334\ncoolant_flush | 84 | 23,902\n"
                     "Total | 156 | 79,236")
    # a table longer than the limit is cut after a row, never inside one
    [cut] = condense.relevant_passages([TABLE.split("\n\nCosts")[0]], "what happened in the quarter", limit=70)
    assert cut == "Event type | Events | Cost (USD)\nradiator_repair | 72 | 55,334 ..."


def test_a_passage_that_shares_no_word_with_the_question_keeps_its_opening() -> None:
    [kept] = condense.relevant_passages(["Alpha beta gamma. Delta epsilon zeta."], "how many trucks")
    assert kept == "Alpha beta gamma. Delta epsilon zeta."  # retrieved for its meaning: read from the start
    [opening] = condense.relevant_passages(["Alpha beta gamma. Delta epsilon zeta."], "how many trucks", limit=20)
    assert opening == "Alpha beta gamma."
    assert condense.relevant_passages([""], "anything") == [""]
    # one sentence longer than the limit is cut at a word, and says so
    [cut] = condense.relevant_passages(["word " * 200], "word", limit=50)
    assert cut.endswith(" ...") and len(cut) <= 54


def test_the_brief_is_condensed_but_the_events_keep_everything(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    assert approve_all(service, worker, run_id) == "succeeded"
    events = service.events(run_id)
    brief = service.view(run_id).state.steps["reasoner"].output["brief"]  # type: ignore[index]
    [behind] = [e.payload for e in events if e.type == "sql.rows_behind_aggregate"]
    group = behind["groups"][0]
    assert len(group["columns"]) > 4  # the event has every column of the joined tables
    block = brief.split(f"SQL rows behind vehicle_id = {group['group']['vehicle_id']}")[1].split("</data>")[0]
    header = block.splitlines()[1]
    assert "code" in header and "odometer_km" not in header  # the brief has the named ones
    assert "vehicle_id" not in header  # the group's key: the label says it
    [retrieved] = [e.payload for e in events if e.type == "retrieval.results"]
    for snippet in retrieved["snippets"]:  # each passage's brief text is sentences of it, headings apart
        opening = f"<data source=\"[{snippet['ref']}] {snippet['title']} > {snippet['heading'].split(' > ')[-1]}\""
        body = brief.split(opening)[1].split(">\n", 1)[1].split("\n</data>")[0]
        assert body and not body.startswith("#")
        flat = " ".join(snippet["text"].replace("**", "").split())
        assert all(sentence in flat for sentence in body.removesuffix(" ...").split(". "))


def test_rows_behind_leave_out_what_the_label_and_the_filters_say() -> None:
    sql = ("SELECT v.depot, count(*) AS n FROM fault_events f JOIN vehicles v ON v.vehicle_id = f.vehicle_id "
           "JOIN dtc_codes d ON d.code = f.code WHERE d.severity = 'critical' GROUP BY v.depot")
    columns = ["vehicle_id", "depot", "code", "severity"]
    rows = [["VH-1", "Central", "U0100", "critical"], ["VH-2", "Central", "P0217", "critical"]]
    shown_columns, shown = condense.rows_behind(sql, columns, rows, {"depot": "Central"})
    assert shown_columns == ["vehicle_id", "code"]  # depot is the label, severity the filter
    assert shown == [["VH-1", "U0100"], ["VH-2", "P0217"]]
    # a filtered column whose values differ (an IN list, a LIKE) stays; so does everything when nothing else would
    mixed = [["VH-1", "Central", "U0100", "critical"], ["VH-2", "Central", "P0217", "major"]]
    assert "severity" in condense.rows_behind(sql, columns, mixed, {"depot": "Central"})[0]
    assert condense.rows_behind("SELECT depot FROM t GROUP BY depot", ["depot"], [["North"]],
                                {"depot": "North"}) == (["depot"], [["North"]])


def test_rows_behind_leave_out_a_column_the_query_bounds() -> None:
    sql = ("SELECT v.depot, count(f.code) FROM fault_events f JOIN vehicles v ON v.vehicle_id = f.vehicle_id "
           "WHERE f.occurred_at >= CURRENT_DATE - INTERVAL 1 MONTH AND f.odometer_km < 200000 GROUP BY v.depot")
    columns = ["vehicle_id", "code", "occurred_at", "odometer_km"]
    rows = [["VH-1", "U0100", "2026-11-20T10:06:00", 120_000], ["VH-2", "P0217", "2026-11-21T18:04:00", 90_000]]
    shown_columns, shown = condense.rows_behind(sql, columns, rows, {"depot": "Central"})
    assert shown_columns == ["vehicle_id", "code"]  # every row is within both bounds
    assert shown == [["VH-1", "U0100"], ["VH-2", "P0217"]]
    # a bound written the other way round, or on a quoted name, is a bound too; a longer name is not
    assert condense._said_already("SELECT 1 FROM t WHERE DATE '2026-01-01' <= t.occurred_at", "occurred_at", [], {})
    assert condense._said_already('SELECT 1 FROM t WHERE "occurred_at" BETWEEN 1 AND 2', "occurred_at", [], {})
    assert not condense._said_already("SELECT 1 FROM t WHERE first_occurred_at > 1", "occurred_at", [], {})
    assert not condense._said_already("SELECT occurred_at FROM t", "occurred_at", ["a", "b"], {})
