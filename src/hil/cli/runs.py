"""`hil ask` and `hil runs list|show|resume|feedback|cancel`."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from hil.cli.common import err, escape, out, plain, store, tenant

runs_app = typer.Typer(no_args_is_help=True, help="Runs and their event timelines.")


def _service() -> Any:
    from hil.services.runs import RunService

    db = store()
    return RunService(db, tenant(db))


def ask(question: Annotated[str, typer.Argument(help="The question to answer.")],
        workflow: Annotated[str, typer.Option("--workflow", "-w", help="Workflow name.")],
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve everything the policy lets a human approve.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON on stdout (the shape of "
                                                         "GET /api/v1/runs/{id}).")] = False,
        model: Annotated[str | None, typer.Option(help="Model, e.g. local:qwen2.5-coder-1.5b (overrides the workflow).")] = None,
        thread: Annotated[str | None, typer.Option(help="Continue this thread (a follow-up question).")] = None) -> None:
    """Ask a workflow a question; approve, edit or reject its plan and SQL in the terminal."""
    from hil.cli.ask import drive, print_json
    from hil.engine.worker import default_llm_factory
    from hil.services.runs import RunService
    from hil.services.workflows import WorkflowService

    db = store()
    service = RunService(db, tenant(db))
    default_llm_factory(model)(WorkflowService(db, tenant(db)).get(workflow))  # fail now on a missing key or model
    run_id = service.create_run(workflow, question, thread_id=thread, user="cli")
    console = err if as_json else out
    console.print(f"[dim]run {run_id}[/]")
    status = drive(db, run_id, model=model, yes=yes, console=console)
    result = service.detail(run_id)
    if as_json:
        print_json(result)
    else:
        _print_result(result)
    if status != "succeeded":
        raise typer.Exit(1)


def _print_result(result: dict[str, Any]) -> None:
    from hil.cli.knowledge import citation

    if result["citations"]:
        out.print("\n[bold]Sources[/]")
        for c in result["citations"]:
            plain(out, f"  [{c['ref']}] {citation(c)}", soft_wrap=True)
    if result.get("error"):
        out.print(f"[red]failed:[/] {escape(str(result['error'].get('error')))}")


@runs_app.command("list")
def runs_list(limit: int = 20, status: str | None = None) -> None:
    """Recent runs."""
    from hil.cli.render import runs_table

    service = _service()
    out.print(runs_table(service.list_runs(limit=limit, status=status), service.workflow_names()))


@runs_app.command("show")
def runs_show(run_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A run's event timeline."""
    from hil.cli.render import timeline_table

    service = _service()
    run = service.find(run_id)
    view = service.view(run.id)
    if as_json:
        sys.stdout.write(json.dumps([e.model_dump(mode="json") for e in view.events], indent=2) + "\n")
        return
    out.print(f"run {run.id}  status [bold]{run.status}[/]  question: {escape(run.question)}")
    out.print(timeline_table(view.events))
    if view.state.answer:
        out.print("\n[bold]Answer[/]")
        plain(out, view.state.answer.get("text"))


@runs_app.command("resume")
def runs_resume(run_id: str, yes: Annotated[bool, typer.Option("--yes", "-y")] = False,
                model: str | None = None) -> None:
    """Continue a run in this terminal: answer its pending approvals and drive it to the end."""
    from hil.cli.ask import drive
    from hil.services.runs import RunService

    db = store()
    service = RunService(db, tenant(db))
    run = service.find(run_id)
    status = drive(db, run.id, model=model, yes=yes, console=out)
    _print_result(service.detail(run.id))
    if status != "succeeded":
        raise typer.Exit(1)


@runs_app.command("feedback")
def runs_feedback(run_id: str,
                  correct: Annotated[bool, typer.Option("--correct/--wrong", help="Was the answer right?")],
                  comment: Annotated[str | None, typer.Option(help="What was right or wrong.")] = None) -> None:
    """Mark a finished run's answer correct (its SQL becomes an example) or wrong (what it taught is forgotten)."""
    service = _service()
    result = service.feedback(service.find(run_id).id, correct, comment)
    if correct:
        out.print(f"marked correct; {result['examples_added']} SQL example(s) remembered")
    else:
        out.print(f"marked wrong; {result['examples_removed']} SQL example(s) from this run forgotten")


@runs_app.command("cancel")
def runs_cancel(run_id: str) -> None:
    """Cancel a run that has not finished."""
    service = _service()
    run = service.find(run_id)
    out.print("cancelled" if service.cancel(run.id) else f"run already {run.status}")
