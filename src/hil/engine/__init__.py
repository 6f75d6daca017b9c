"""The run engine: event-sourced state, the step runner, leases and workers, and the service
the CLI and the server call."""

from hil.engine.service import RunService
from hil.engine.worker import Worker

__all__ = ["RunService", "Worker"]
