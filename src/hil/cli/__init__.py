"""The command line (typer + rich): one module per command group, each thin over the services."""

from hil.cli.app import app, main

__all__ = ["app", "main"]
