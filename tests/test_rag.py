"""The RAG step in a run: the workflow's sources are synced into their collection, and the answer's
citations point at the exact passage of a stored document."""

from __future__ import annotations

from pathlib import Path

from hil.events import EventType
from hil.services.knowledge import KnowledgeService
from hil.store import Store
from tests.conftest import Script
from tests.helpers import approve_all, setup_run


def test_answer_citations_point_at_the_exact_passage(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    assert approve_all(service, worker, run_id) == "succeeded"
    events = service.events(run_id)
    retrieved = next(e.payload for e in events if e.type == EventType.RETRIEVAL_RESULTS)["snippets"]
    answer = next(e.payload for e in events if e.type == EventType.ANSWER_FINAL)
    assert answer["citations"], answer
    knowledge = KnowledgeService(store, "default")
    for cite in answer["citations"]:
        assert cite["collection"] == "docs" and cite["ref"] >= 1
        snippet = next(s for s in retrieved if s["ref"] == cite["ref"])
        text = knowledge.document_text(cite["document_id"])
        assert text is not None and text[cite["start"]:cite["end"]] == snippet["text"]
        assert f"[{cite['ref']}]" in answer["text"]
    assert {d["status"] for d in knowledge.documents("docs")} == {"indexed"}


def test_a_collection_filled_outside_the_workflow_is_searched(store: Store, workspace: Path, script: Script,
                                                              tmp_path: Path) -> None:
    extra = tmp_path / "extra.md"
    extra.write_text("# Winter Guide\n\n## Antifreeze\n\nTop up antifreeze to a 50 percent mix before winter.\n")
    KnowledgeService(store, "default").add("winter", [extra])
    workflow = workspace.read_text().replace("knowledge: [{name: docs, paths: [docs]}]",
                                             "knowledge: [{name: docs, paths: [docs]}, {name: winter}]")
    workspace.write_text(workflow)
    script.responses["plan"] = {"steps": [{"agent": "rag", "purpose": "winter preparation guidance"}]}
    service, worker, run_id = setup_run(store, workspace, question="What antifreeze mix before winter?")
    assert approve_all(service, worker, run_id) == "succeeded"
    snippets = next(e.payload for e in service.events(run_id) if e.type == EventType.RETRIEVAL_RESULTS)["snippets"]
    assert snippets[0]["collection"] == "winter" and snippets[0]["heading"] == "Antifreeze"
    assert snippets[0]["text"].startswith("# Winter Guide\n\n## Antifreeze")  # a lone title joins its section


def test_edited_documents_are_picked_up_by_the_next_run(store: Store, workspace: Path, script: Script) -> None:
    service, worker, run_id = setup_run(store, workspace)
    approve_all(service, worker, run_id)
    policy = workspace.parent / "docs" / "policy.md"
    policy.write_text("# Safety Policy\n\n## Critical codes\n\nA vehicle with a critical code is parked at the "
                      "nearest depot and towed.\n")
    run2 = service.create_run("fleet", "What happens to a vehicle with a critical code?")
    assert approve_all(service, worker, run2) == "succeeded"
    snippets = next(e.payload for e in service.events(run2) if e.type == EventType.RETRIEVAL_RESULTS)["snippets"]
    assert any("towed" in s["text"] for s in snippets)
    assert not any("taken out of service" in s["text"] for s in snippets)

    policy.unlink()  # a file deleted from a workflow's folder leaves its collection at the next run
    run3 = service.create_run("fleet", "What happens to a vehicle with a critical code?")
    assert approve_all(service, worker, run3) == "succeeded"
    assert [Path(d["source"]).name for d in KnowledgeService(store, "default").documents("docs")] == ["cooling.md"]
