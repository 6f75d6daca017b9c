"""Workflow definitions of one tenant: validated (including that every step names a registered
agent), stored as versions, listed, archived."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hil import datadirs, dbhosts, secrets
from hil.agents import registry
from hil.errors import ConfigError, Conflict, NotFound
from hil.policy import mcp_access
from hil.policy.models import check_model
from hil.store.audit_repo import AuditRepo
from hil.store.auth_repo import AuthRepo
from hil.store.connection_repo import ConnectionRepo
from hil.store.db import Store
from hil.store.scoped import TenantScoped
from hil.store.workflow_repo import StoredWorkflow, WorkflowRepo
from hil.workflows import Workflow, describe_errors, parse_workflow, read_workflow_file, resolve_paths


def step_errors(steps: Any, settings: Any = None) -> list[dict[str, Any]]:
    """An error per step that names no registered step agent, and per plug-in setting that its
    agent does not accept (each agent validates its own ``agents.NAME`` settings)."""
    if not isinstance(steps, list):
        return []
    known = registry.step_agent_names()
    errors: list[dict[str, Any]] = [
        {"loc": ("steps",), "msg": f"unknown step {s!r}; known steps: {', '.join(sorted(known))}"}
        for s in steps if isinstance(s, str) and s not in known]
    for name, values in (settings if isinstance(settings, dict) else {}).items():
        if name not in steps:
            errors.append({"loc": ("agents", name), "msg": f"{name!r} is not one of this workflow's steps"})
            continue
        if name not in known:
            continue
        model = registry.agent_class(name).settings_model
        if model is None:
            errors.append({"loc": ("agents", name), "msg": f"agent {name!r} takes no settings"})
            continue
        try:
            model.model_validate(values)
        except ValidationError as err:
            errors += [{**e, "loc": ("agents", name, *e["loc"])} for e in err.errors()]
    return errors


def _is_path(annotation: Any) -> bool:
    return annotation is Path or Path in getattr(annotation, "__args__", ())


def plugin_files(wf: Workflow) -> list[tuple[str, str]]:
    """Files named in plug-in settings (the fields a plug-in's settings model types as ``Path``),
    as (field path, file path): resolved like the workflow's own paths and kept under the data directories."""
    known = registry.step_agent_names()
    found = []
    for name, values in wf.agents.items():
        model = registry.agent_class(name).settings_model if name in known else None
        for key, info in (model.model_fields.items() if model else ()):
            if _is_path(info.annotation) and isinstance(values.get(key), str | Path):
                found.append((f"agents.{name}.{key}", str(values[key])))
    return found


def public(wf: StoredWorkflow) -> dict[str, Any]:
    """A stored workflow as clients see it: connection passwords redacted."""
    definition = wf.definition.model_dump(mode="json")
    for c in definition.get("connections") or []:
        if c.get("dsn"):
            c["dsn"] = secrets.redact_url(c["dsn"])
    return {"id": wf.id, "name": wf.name, "version": wf.version, "content_hash": wf.content_hash,
            "created_at": wf.created_at, "definition": definition}


class WorkflowService(TenantScoped):
    """``restricted`` (on when the server authenticates callers) keeps every file a workflow names
    under the tenant's data directories and its DSNs off Unix sockets; ``check_models`` (on for API
    callers) allows only the model providers the server allows. HIL_DB_HOSTS applies to everyone."""

    def __init__(self, store: Store, tenant: str, *, restricted: bool = False, check_models: bool = False,
                 actor: str = "local"):
        super().__init__(store, tenant)
        self.actor = actor  # who changes the configuration, for the audit log
        self._repo = WorkflowRepo(store, tenant)
        self.restricted = restricted
        self.check_models = check_models

    # -- validation --
    @staticmethod
    def validate(data: Any, source: str | None = None, loc: tuple[str, ...] = ()) -> Workflow:
        """A definition from parsed JSON or YAML; every problem is named with its field path
        (under ``loc``, e.g. ``("body",)``), unknown steps included, in one error."""
        errors: list[dict[str, Any]] = []
        wf: Workflow | None = None
        try:
            wf = parse_workflow(data, source or "<workflow>") if not isinstance(data, dict) else Workflow.model_validate(data)
        except ValidationError as err:
            errors = [dict(e) for e in err.errors()]
        if isinstance(data, dict):
            errors += step_errors(data.get("steps"), data.get("agents"))
        if errors or wf is None:
            raise describe_errors(source, [{**e, "loc": (*loc, *e["loc"])} for e in errors])
        return wf

    @staticmethod
    def load_file(path: str | Path) -> Workflow:
        """A workflow file (YAML or JSON), paths made absolute, steps checked against the registry."""
        data, base = read_workflow_file(path)
        wf = resolve_paths(WorkflowService.validate(data, str(path)), base)
        for loc, value in plugin_files(wf):
            _, name, key = loc.split(".")
            file = Path(value).expanduser()
            wf.agents[name][key] = str(file if file.is_absolute() else (base / file).resolve())
        return wf

    # -- storing --
    def apply(self, wf: Workflow) -> tuple[StoredWorkflow, bool]:
        """Store ``wf``; a changed definition becomes a new version. Returns (stored, changed)."""
        if problems := step_errors(wf.steps, wf.agents) + ConnectionRepo(self.store, self.owner).missing(wf):
            raise describe_errors(None, problems)
        if self.check_models:
            check_model(wf.model.model)
        dbhosts.check(wf.dsns(), self.restricted)
        mcp_access.check(wf, self.restricted)
        if self.restricted:
            datadirs.check(wf.files() + plugin_files(wf), AuthRepo(self.store).tenant_name(self.owner))
        stored, changed = self._repo.apply(wf)
        if changed:
            AuditRepo(self.store, self.owner).record(self.actor, "workflow.apply", f"workflow {stored.name}", {
                "workflow_id": stored.id, "version": stored.version, "content_hash": stored.content_hash})
        return stored, changed

    def create(self, wf: Workflow) -> StoredWorkflow:
        """Version 1 of a new workflow; a name in use is a conflict."""
        try:
            self._repo.get(wf.name)
        except NotFound:
            return self.apply(wf)[0]
        raise Conflict(f"a workflow named {wf.name!r} exists", hint="PUT /workflows/{id} makes a new version")

    def update(self, name_or_id: str, wf: Workflow) -> tuple[StoredWorkflow, bool]:
        current = self._repo.get(name_or_id)
        if wf.name != current.name:
            raise ConfigError(f"name: the workflow is named {current.name!r}, not {wf.name!r}",
                              details={"errors": [{"loc": "name", "msg": "cannot be changed by PUT"}]})
        return self.apply(wf)

    def archive(self, name_or_id: str) -> StoredWorkflow:
        archived = self._repo.archive(name_or_id)
        AuditRepo(self.store, self.owner).record(self.actor, "workflow.archive", f"workflow {archived.name}",
                                                 {"workflow_id": archived.id})
        return archived

    # -- reading --
    def get(self, name_or_id: str, version: int | None = None) -> StoredWorkflow:
        return self._repo.get(name_or_id, version)

    def list_all(self) -> list[StoredWorkflow]:
        return self._repo.list_all()

    def versions(self, name_or_id: str) -> list[tuple[int, str, float]]:
        return self._repo.versions(name_or_id)
