"""Files a caller names must lie under the data directories when authentication is on: a tenant
must not open the store's own database or another server file by naming it as a connection or a
knowledge source."""

from __future__ import annotations

from pathlib import Path

from hil import settings
from hil.errors import ConfigError
from hil.workflows import SqlConnection, Workflow


def data_roots() -> list[Path]:
    roots = [Path(p).expanduser().resolve() for p in settings.get_str("HIL_DATA_DIRS").split(",") if p.strip()]
    return roots or [settings.home() / "data"]


def check_paths(wf: Workflow | None = None, conn: SqlConnection | None = None) -> None:
    """Refuse, naming every field, the paths of ``wf`` or ``conn`` outside the data directories."""
    roots = data_roots()
    paths: list[tuple[str, str]] = []
    if wf is not None:
        paths += [(f"connections[{i}].path", c.path) for i, c in enumerate(wf.connections) if c.path]
        paths += [(f"knowledge[{i}].paths[{j}]", p) for i, k in enumerate(wf.knowledge) for j, p in enumerate(k.paths)]
    if conn is not None and conn.path:
        paths.append(("path", conn.path))
    bad = [{"loc": loc, "msg": f"{p} is outside the data directories"} for loc, p in paths
           if not any(Path(p).expanduser().resolve().is_relative_to(r) for r in roots)]
    if bad:
        raise ConfigError(f"{bad[0]['loc']}: {bad[0]['msg']}", hint="put the file under a directory listed in "
                          "HIL_DATA_DIRS", details={"errors": bad})
