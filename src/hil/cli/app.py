"""The command line: parses, calls the service layer, renders. No business logic here."""

from __future__ import annotations

import gc
import os
import sys
from typing import Annotated

import click
import typer
from rich.table import Table

from hil import settings
from hil.cli.agents import agents_app
from hil.cli.audit import audit_app
from hil.cli.common import err, escape, out, plain, store, use_tenant
from hil.cli.eval import eval_app
from hil.cli.examples import examples_app
from hil.cli.knowledge import knowledge_app
from hil.cli.mcp import mcp_app
from hil.cli.models import models_app
from hil.cli.policy import policy_app
from hil.cli.runs import ask, runs_app
from hil.cli.secrets import secrets_app
from hil.cli.sql import connections_app, sql
from hil.cli.users import keys_app, users_app
from hil.cli.workflows import workflows_app
from hil.errors import HilError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="hil: governed, human-in-the-loop agentic data workflows.")
for _sub, _name in ((workflows_app, "workflows"), (runs_app, "runs"), (models_app, "models"),
                    (connections_app, "connections"), (eval_app, "eval"), (examples_app, "examples"),
                    (knowledge_app, "knowledge"), (users_app, "users"), (keys_app, "keys"),
                    (audit_app, "audit"), (secrets_app, "secrets"), (policy_app, "policy"),
                    (mcp_app, "mcp"), (agents_app, "agents")):
    app.add_typer(_sub, name=_name)
app.command("sql")(sql)
app.command("ask")(ask)


@app.callback()
def _options(tenant: Annotated[str, typer.Option(
        "--tenant", envvar="HIL_TENANT", help="The tenant (its name) a command configures, asks or reads in; "
        "users and keys create it.")] = "default") -> None:
    use_tenant(tenant)


@app.command()
def demo() -> None:
    """Prepare the demo workspace (fleet database, documents, fleet-health workflow). Idempotent."""
    from hil.demo.workspace import prepare

    ws = prepare(store(), say=lambda m: err.print(f"[dim]{escape(m)}[/]"))
    plain(out, f"demo workspace: {ws.path}")
    if ws.row_counts:
        plain(out, "database: " + ", ".join(f"{k} {v:,}" for k, v in ws.row_counts.items()))
    plain(out, f"workflow fleet-health v{ws.workflow_version} ready; try:\n"
               '  hil ask --workflow fleet-health "Which 5 vehicles had the most overheating-related fault codes '
               'in the last 90 days?"')


@app.command()
def serve(host: Annotated[str, typer.Option(help="Address to bind; default HIL_HOST (127.0.0.1).",
                                            show_default=False)] = "",
          port: Annotated[int, typer.Option(help="Port to bind; default HIL_PORT (8321).", show_default=False)] = 0,
          workers: Annotated[int, typer.Option(help="Worker threads that execute runs; default HIL_WORKERS (2).",
                                               show_default=False)] = 0,
          auth: Annotated[str, typer.Option(help="API keys: on, off (loopback only) or auto (on once a key "
                                            "exists); default HIL_AUTH.")] = "") -> None:
    """Start the HTTP API and the run workers (resumes runs whose lease expired)."""
    import uvicorn

    from hil.policy.access import bind_verdict
    from hil.server.app import create_app
    from hil.server.guards import allowed_hosts
    from hil.services.users import UserService

    host = host or settings.get_str("HIL_HOST")
    port = port or settings.get_int("HIL_PORT")
    mode = (auth or settings.get_str("HIL_AUTH")).lower()
    if mode not in ("on", "off", "auto"):
        raise HilError(f"--auth {mode!r} is not one of on, off, auto", hint="e.g. --auth on")
    db = store()
    has_keys = UserService(db).any_keys()
    required = mode == "on" or (mode == "auto" and has_keys)
    if required and not has_keys:
        raise HilError("authentication is on but no API key exists, so nobody could call the server",
                       hint="create one with `hil users add NAME --role admin`")
    bind = bind_verdict(host, required)
    if not bind.allowed:
        raise HilError(bind.reason, hint="create a key with `hil users add NAME --role admin`, "
                       "then serve with --auth on")
    names = settings.get_str("HIL_ALLOWED_HOSTS").split(",")
    application = create_app(db, workers=workers or settings.get_int("HIL_WORKERS"), auth=required,
                             hosts=allowed_hosts(host, names))
    note = ("API keys are required" if required else
            "authentication is OFF (bound to loopback): every caller is the local admin")
    plain(err, f"hil serving on http://{host}:{port} (store: {settings.database_url().split('@')[-1]}); {note}")
    gc.collect()
    gc.freeze()  # the long-lived objects of startup: full collections then skip them (shorter pauses)
    uvicorn.run(application, host=host, port=port, log_level="warning")


@app.command("settings")
def show_settings() -> None:
    """Every setting, its environment variable, current value and meaning."""
    table = Table(title="Settings")
    for col in ("variable", "value", "default", "meaning"):
        table.add_column(col)
    for s in settings.SETTINGS:
        table.add_row(s.env, escape(os.environ.get(s.env, "")), escape(s.default), escape(s.help))
    out.print(table)


def main() -> None:
    try:
        from hil.observe.logs import configure

        configure()
        code = app(standalone_mode=False)  # click returns typer.Exit's code instead of exiting
        if isinstance(code, int) and code:
            sys.exit(code)
    except HilError as e:
        err.print(f"[red]error:[/] {escape(e.message)}", highlight=False, soft_wrap=True)
        problems = e.details.get("errors") or []
        for problem in problems[1:] if len(problems) > 1 else []:  # the first one is the message
            plain(err, f"  {problem.get('loc')}: {problem.get('msg')}", soft_wrap=True)
        if e.hint:
            err.print(f"[dim]hint:[/] {escape(e.hint)}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt, EOFError):
        err.print("aborted")
        sys.exit(130)
