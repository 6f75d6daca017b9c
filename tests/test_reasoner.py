"""The Reasoner computes every derived number, and the Responder's numbers are checked.

End to end over the demo fleet database with a scripted model: the shares in the answer come from
``calculation`` events, whose values agree with what SQL over the database gives; a wrong number
is redrafted, then marked or withheld, never delivered silently."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from hil.events import EventType
from hil.services import Store
from tests.conftest import Script
from tests.helpers import setup_run

QUESTION = "What share of vehicles at each depot had a brake service this year?"
SQL = ("SELECT v.depot, count(DISTINCT v.vehicle_id) AS vehicles, count(DISTINCT m.vehicle_id) AS brake_serviced "
       "FROM vehicles v LEFT JOIN maintenance_events m ON m.vehicle_id = v.vehicle_id "
       "AND m.event_type = 'brake_service' AND year(m.performed_on) = 2026 GROUP BY v.depot ORDER BY v.depot")


def quoting(prompt: str) -> str:
    """A model that quotes the computed shares it was given, as the prompt tells it to."""
    shares = re.findall(r"share_brake_serviced_depot_(\w+) = ([\d.]+%)", prompt)
    return " ".join(f"{depot.title()}: {value} of its vehicles had a brake service." for depot, value in shares)


def expected_shares(fleet_db: Path) -> dict[str, float]:
    """Straight from the database, without the product: vehicles with a brake service in 2026 per depot."""
    with duckdb.connect(str(fleet_db), read_only=True) as con:
        vehicles = dict(con.execute("SELECT depot, count(*) FROM vehicles GROUP BY depot").fetchall())
        serviced = dict(con.execute(
            "SELECT v.depot, count(DISTINCT v.vehicle_id) FROM vehicles v JOIN maintenance_events m USING (vehicle_id) "
            "WHERE m.event_type = 'brake_service' AND m.performed_on BETWEEN '2026-01-01' AND '2026-12-31' "
            "GROUP BY v.depot").fetchall())
    return {d: 100 * serviced.get(d, 0) / n for d, n in vehicles.items()}


def run(store: Store, workspace: Path, script: Script, answer: Any, **overrides: object) -> tuple[Any, str]:
    script.responses.update({"plan": {"steps": [{"agent": "sql", "purpose": "vehicles and brake services per depot"}]},
                             "sql": {"sql": SQL}, "answer": answer})
    script.responses.setdefault("calculations", {"calculations": []})
    service, worker, run_id = setup_run(store, workspace, QUESTION, approval__plan=False, approval__sql_read=False,
                                        **overrides)
    worker.run_once(run_id)
    assert service.get(run_id).status == "succeeded", [e.payload for e in service.events(run_id)][-2:]
    return service, run_id


def payloads(service: Any, run_id: str, type: str) -> list[dict[str, Any]]:
    return [e.payload for e in service.events(run_id) if e.type == type]


def test_demo_shares_come_from_calculation_events_that_agree_with_sql(sqlite_store: Store, workspace: Path,
                                                                      script: Script, fleet_db: Path) -> None:
    service, run_id = run(sqlite_store, workspace, script, quoting)
    calcs = {c["name"]: c for c in payloads(service, run_id, EventType.CALCULATION)}
    truth = expected_shares(fleet_db)
    assert len(truth) == 5
    for depot, share in truth.items():
        c = calcs[f"share_brake_serviced_depot_{depot.lower()}"]
        assert c["result"] == pytest.approx(share) and c["unit"] == "%"
        assert c["expression"].startswith("pct(r") and {i["column"] for i in c["inputs"]} == {"brake_serviced",
                                                                                             "vehicles"}
        assert all(i["label"] == f"depot = {depot}" for i in c["inputs"])
    final = payloads(service, run_id, EventType.ANSWER_FINAL)[0]
    stated = re.findall(r"(\w+): ([\d.]+)%", final["text"])
    assert {d for d, _ in stated} == set(truth)
    for depot, value in stated:  # every share in the answer is a calculation's value, at its precision
        assert abs(float(value) - truth[depot]) <= 0.05
    sources = {s["text"]: s["source"] for s in final["number_sources"]}
    assert all(sources[f"{v}%"].startswith("calculation share_brake_serviced_depot_") for _, v in stated)
    assert final["unverified_numbers"] == [] and final["marked_numbers"] == [] and final["revision"] == 0
    assert {v for _, v in stated} <= set(final["verified_numbers"])  # digits as written, as clients match them
    assert "calculations" in final and len(final["calculations"]) >= 6  # five depots and all together
    detail = service.detail(run_id)  # what `hil ask --json` and GET /runs/{id} show
    assert detail["number_sources"] == final["number_sources"] and detail["marked_numbers"] == []
    assert [c["name"] for c in detail["calculations"]] == list(calcs)
    # the Responder was handed the computed values as data it must quote
    prompt = script.prompts("answer")[0]
    assert '<data source="calculations"' in prompt and "never compute your own" in prompt


def test_a_wrong_share_is_redrafted_with_the_numbers_named(sqlite_store: Store, workspace: Path,
                                                           script: Script) -> None:
    answers = iter(["Central: 75% of its vehicles had a brake service.", None])

    def answer(prompt: str) -> str:
        first = next(answers)
        return first if first is not None else quoting(prompt)

    service, run_id = run(sqlite_store, workspace, script, answer)
    retried = [p for p in payloads(service, run_id, EventType.STEP_RETRIED) if p["reason"] == "ungrounded_answer"]
    assert retried and retried[0]["unverified_numbers"] == ["75%"]
    fix = script.prompts("answer")[1]
    assert "the numbers 75% are not in the evidence" in fix and "share_brake_serviced_depot_central = 72.2%" in fix
    final = payloads(service, run_id, EventType.ANSWER_FINAL)[0]
    assert final["revision"] == 1 and final["unverified_numbers"] == [] and "75%" not in final["text"]


@pytest.mark.parametrize("policy", ["mark", "withhold"])
def test_a_wrong_number_that_survives_is_marked_or_withheld(sqlite_store: Store, workspace: Path, script: Script,
                                                             policy: str) -> None:
    service, run_id = run(sqlite_store, workspace, script, "Central: 75% had a brake service, 26 of 36 vehicles.",
                          answers__unverified_numbers=policy)
    final = payloads(service, run_id, EventType.ANSWER_FINAL)[0]
    assert final["unverified_numbers"] == ["75"] and final["number_policy"] == policy  # digits, as clients match them
    if policy == "mark":
        assert final["text"].startswith("Central: 75% [unverified] had") and final["marked_numbers"] == ["75%"]
    else:
        assert "75%" not in final["text"] and "[number withheld" in final["text"]
        assert final["withheld_numbers"] == ["75%"]
    assert "26 of 36" in final["text"]  # cells are verified as they are
    finished = payloads(service, run_id, EventType.RUN_FINISHED)[0]
    assert finished["answer"] == final["text"]


def test_model_proposals_are_evaluated_and_a_malformed_one_is_reported(sqlite_store: Store, workspace: Path,
                                                                       script: Script) -> None:
    script.responses["calculations"] = {"calculations": [
        {"name": "gap north central", "expression": "r3.brake_serviced - r1.brake_serviced", "unit": ""},
        {"name": "evil", "expression": "__import__('os').system('true')", "unit": ""},
        {"name": "made up", "expression": "r1.vehicles * 1234.5", "unit": ""},
        {"name": "unknown", "expression": "r9.vehicles", "unit": ""}]}
    service, run_id = run(sqlite_store, workspace, script, quoting)
    calcs = {c["name"]: c for c in payloads(service, run_id, EventType.CALCULATION) if c["source"] == "model"}
    assert calcs["gap_north_central"]["result"] == 4.0 and "error" not in calcs["gap_north_central"]
    assert "not an allowed function" in calcs["evil"]["error"]
    assert "1234.5 is not in the query result" in calcs["made_up"]["error"]
    assert "unknown cell 'r9.vehicles'" in calcs["unknown"]["error"]
    prompt = script.prompts("calculations")[-1]
    assert '<data source="SQL">' in prompt and "r1 | Central | 36 | 26" in prompt


def test_a_model_that_fails_to_propose_costs_the_run_nothing(sqlite_store: Store, workspace: Path,
                                                             script: Script) -> None:
    script.responses["calculations"] = lambda _prompt: 1 / 0
    service, run_id = run(sqlite_store, workspace, script, quoting)
    reasoning = payloads(service, run_id, EventType.REASONING)[0]
    assert reasoning["calculations"] >= 6 and "ZeroDivisionError" in reasoning["proposal_error"]
    assert payloads(service, run_id, EventType.ANSWER_FINAL)[0]["unverified_numbers"] == []


def test_calculations_can_be_turned_off(sqlite_store: Store, workspace: Path, script: Script) -> None:
    service, run_id = run(sqlite_store, workspace, script, "Central: 72.2% had one.",
                          answers__calculations=False)
    assert payloads(service, run_id, EventType.CALCULATION) == []
    assert payloads(service, run_id, EventType.ANSWER_FINAL)[0]["marked_numbers"] == ["72.2%"]
