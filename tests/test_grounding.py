"""The answer checks: numbers, identifiers and citations found (or not) in the evidence."""

from __future__ import annotations

import re
from pathlib import Path

from hil.agents import grounding
from hil.events import EventType
from hil.store import Store
from tests.conftest import Script
from tests.helpers import approve_all, count, setup_run

EVIDENCE = """<data source="SQL" rows="2">
vehicle_id | faults
VH-1012 | 6
VH-1091 | 5
</data>
<data source="[1]" title="Cooling System Manual" section="First checks">
Before anything else, check the coolant level in the expansion tank with the engine cold.
</data>"""
PASSAGES = [{"ref": 1, "text": "Before anything else, check the coolant level in the expansion tank "
                               "with the engine cold."},
            {"ref": 2, "text": "Tyre pressure must be checked weekly with a calibrated gauge."}]


def test_identifiers_absent_from_the_evidence_are_reported() -> None:
    report = grounding.check("VH-1012 had 6 faults and VH-1087 had 4.", EVIDENCE, "Which vehicles?")
    assert report.verified_identifiers == ["VH-1012"]
    assert report.unverified_identifiers == ["VH-1087"]
    assert report.verified_numbers == [] and report.unverified_numbers == []  # 6 and 4 are below 10
    report = grounding.check("VH-1091 logged 5 of 17 faults.", EVIDENCE, "over 90 days?")
    assert report.unverified_numbers == ["17"]


def test_numbers_from_the_question_or_evidence_are_verified() -> None:
    verified, unverified = grounding.verify_numbers("In the last 90 days: 1,250 and 3.50.", "1250 | 3.5", "90 days")
    assert verified == ["90", "1250", "3.50"] and unverified == []


def test_uncited_sentences_get_the_passage_that_supports_them() -> None:
    answer = "VH-1012 had the most faults.\nCheck the coolant level in the expansion tank while the engine is cold."
    cited = grounding.attach_citations(answer, PASSAGES)
    assert cited == ("VH-1012 had the most faults.\nCheck the coolant level in the expansion tank while the "
                     "engine is cold [1].")


def test_citations_the_model_wrote_are_kept_and_weak_overlap_adds_none() -> None:
    answer = "Check the coolant level [2]. Drivers should report warning lights."
    assert grounding.attach_citations(answer, PASSAGES) == answer
    assert grounding.attach_citations("Nothing relevant here at all.", PASSAGES) == "Nothing relevant here at all."
    assert grounding.attach_citations("Check the coolant.", []) == "Check the coolant."


def test_an_answer_naming_unknown_vehicles_is_revised_once(store: Store, workspace: Path, script: Script) -> None:
    answers: list[str] = []

    def answer(prompt: str) -> str:
        top = re.findall(r"VH-\d+", prompt.split("Question:")[0])[0]
        text = (f"{top} leads, followed by VH-9999." if not answers
                else f"{top} leads. Check the coolant level in the expansion tank with the engine cold.")
        answers.append(text)
        return text

    script.responses["answer"] = answer
    service, worker, run_id = setup_run(store, workspace, approval__plan=False, approval__sql_read=False)
    assert approve_all(service, worker, run_id) == "succeeded"
    final = service.view(run_id).state.answer
    assert final is not None and len(answers) == 2
    assert "VH-9999" not in final["text"] and final["revision"] == 1
    assert final["unverified_identifiers"] == [] and final["verified_identifiers"]
    assert "VH-9999" in script.prompts("answer")[1]  # the revision prompt says what was wrong
    assert final["citations"] and re.search(r"\[\d\]", final["text"])  # cited by overlap, not by the model
    retried = [e for e in service.events(run_id) if e.type == EventType.STEP_RETRIED and e.step == "responder"]
    assert retried[0].payload["unverified_identifiers"] == ["VH-9999"]
    deltas = [e.payload["revision"] for e in service.events(run_id) if e.type == EventType.ANSWER_DELTA]
    assert deltas[0] == 0 and deltas[-1] == 1
    assert count(service, run_id, EventType.ANSWER_FINAL) == 1


def test_sentences_naming_query_results_are_not_given_a_passage() -> None:
    answer = "VH-1012 had the most overheating-related fault codes. Check the coolant level in the expansion tank."
    passages = [{"ref": 1, "text": "Overheating-related fault codes: check the coolant level in the expansion tank."}]
    cited = grounding.attach_citations(answer, passages, data="VH-1012 6\nVH-1091 5")
    assert cited == ("VH-1012 had the most overheating-related fault codes. Check the coolant level in the "
                     "expansion tank [1].")


def test_a_number_misquoted_next_to_a_row_id_is_contradicted() -> None:
    rows = [["VH-1012", 6, 3.5], ["VH-1091", 5, None]]
    problems = grounding.contradicted_row_claims(
        "VH-1012 had 10 faults [2]; VH-1091 had 5 in 90 days. VH-1012 averaged 3.50 hours.", rows, "in 90 days",
        documents="VH-1091 has about 212,000 km")
    assert problems == ["VH-1012: 10 (the result says 3.5, 6)"]
    assert grounding.contradicted_row_claims("VH-1091 has about 212,000 km.", rows, "", "about 212,000 km") == []


def test_a_citation_never_lands_inside_a_decimal_number() -> None:
    passages = [{"ref": 1, "text": "The average quarterly gross margin improved from 2023 to 2024."}]
    text = grounding.attach_citations("The average quarterly gross margin improved by 2.4 points from 2023 to 2024.",
                                      passages)
    assert text == "The average quarterly gross margin improved by 2.4 points from 2023 to 2024 [1]."


def test_a_name_the_query_did_not_return_is_reported_where_no_passage_is_cited() -> None:
    left_out = {"depot": ["East", "North", "South", "West"]}
    answer = ("The depots with the most critical faults were Central and South, with 17 and 17. "
              "The report shows North well ahead in Q3 [1].")
    assert grounding.names_not_returned(answer, left_out, "Which depots had the most critical faults?") == ["South"]
    # a name the question gives is the reader's own; a word that only contains a name is not it
    assert grounding.names_not_returned("Central had 17 and South had none.", left_out,
                                        "Did Central or South have more?") == []
    assert grounding.names_not_returned("Central had 17, mostly on Southbound routes.", left_out, "Which?") == []
    report = grounding.check(answer, "depot | n\nCentral | 17", "Which depots?", left_out=left_out)
    assert report.names_not_returned == ["South"]
    assert report.problems == ["South is not in the query result: name only the items it lists"]
    # delivered anyway (the revision named it too), it is marked where it stands, once
    marked = grounding.mark_names_not_returned(answer, ["South"])
    assert marked.startswith("The depots with the most critical faults were Central and South "
                             "[not in the query result], with 17 and 17.")
    assert marked.endswith("North well ahead in Q3 [1].")
    assert grounding.mark_names_not_returned(marked, ["South"]) == marked


def test_an_answer_naming_a_depot_the_query_did_not_return_is_revised(
        store: Store, workspace: Path, script: Script) -> None:
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "faults per depot"}]}
    script.responses["sql"] = {"sql": "SELECT v.depot, count(*) AS faults FROM fault_events f JOIN vehicles v "
                                      "ON v.vehicle_id = f.vehicle_id GROUP BY v.depot ORDER BY faults DESC LIMIT 1"}
    answers: list[str] = []

    def answer(prompt: str) -> str:
        depot, faults = re.findall(r"\n(\w+) \| (\d+)\n", prompt)[0]
        other = next(d for d in ("Central", "East", "North", "South", "West") if d != depot)
        text = f"{depot} and {other} had the most faults, {faults} each." if not answers else f"{depot} had {faults}."
        answers.append(text)
        return text

    script.responses["answer"] = answer
    service, worker, run_id = setup_run(store, workspace, question="Which depot had the most faults?",
                                        approval__plan=False, approval__sql_read=False)
    assert approve_all(service, worker, run_id) == "succeeded"
    sql = service.view(run_id).state.steps["sql"].output
    assert sql is not None and sql["row_count"] == 1
    top = sql["rows"][0][0]
    # the four other depots, read from the database's values: what the answer may not name as a result
    assert sorted(sql["names_not_returned"]["depot"]) == sorted({"Central", "East", "North", "South", "West"} - {top})
    final = service.view(run_id).state.answer
    assert final is not None and len(answers) == 2 and final["revision"] == 1
    assert final["text"].startswith(f"{top} had") and final["names_not_returned"] == []
    assert "not in the query result" in script.prompts("answer")[1]


def test_the_names_a_result_left_out_come_from_the_one_column_that_holds_its_values() -> None:
    from hil.agents.sql.values import MAX_NAMES, ValueIndex

    index = ValueIndex()
    for table in ("vehicles", "drivers"):  # the same depots in two tables: one set of names
        for depot in ("Central", "East", "North"):
            index.values.setdefault(depot.lower(), []).append((table, "depot", depot))
    for severity in ("critical", "major"):
        index.values.setdefault(severity, []).append(("dtc", "severity", severity))
    for i in range(MAX_NAMES + 1):  # too many to be categories
        index.values.setdefault(f"name {i}", []).append(("people", "name", f"Name {i}"))
    assert index.names_not_returned(["depot", "n"], [["Central", 17]]) == {"depot": ["East", "North"]}
    assert index.names_not_returned(["severity"], [["critical"]]) == {}  # lower case: words, not names
    assert index.names_not_returned(["name"], [["Name 1"]]) == {}
    assert index.names_not_returned(["depot"], [["Central"]], keep=lambda _c, v: v != "East") == {"depot": ["North"]}
    assert index.names_not_returned(["label"], [["Central"], ["Nowhere"]]) == {}  # no column holds them all


def test_the_rules_example_copied_into_an_answer_is_dropped(store: Store, workspace: Path, script: Script) -> None:
    from hil.agents.responder import EXAMPLE

    def answer(prompt: str) -> str:
        top = re.findall(r"VH-\d+", prompt.split("Question:")[0])[0]
        return f"{EXAMPLE} {top} leads. {EXAMPLE}\nCheck the coolant level first [1]."

    script.responses["answer"] = answer
    service, worker, run_id = setup_run(store, workspace, approval__plan=False, approval__sql_read=False)
    assert approve_all(service, worker, run_id) == "succeeded"
    final = service.view(run_id).state.answer
    assert final is not None and EXAMPLE in script.prompts("answer")[0]  # the rules show it
    assert "ten days" not in final["text"] and re.match(r"VH-\d+ leads\.\nCheck the coolant", final["text"])
