"""Stored workflows and their versions."""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hil import secrets
from hil.errors import NotFound
from hil.store.prepared import Prepared
from hil.store.scoped import TenantScoped
from hil.store.tables import workflow_versions, workflows
from hil.workflows import Workflow


@dataclass(frozen=True)
class StoredWorkflow:
    id: str
    name: str
    version: int
    definition: Workflow
    content_hash: str
    created_at: float


SEALED = "sealed:"

# A stored version never changes, and ids are random: versions are parsed (and their DSNs unsealed)
# once per process, not on every run and every step. Callers copy before they change one
# (``model_copy``), as they must with any shared definition.
PARSED_VERSIONS = 256
_parsed: OrderedDict[tuple[str, int], tuple[str, StoredWorkflow]] = OrderedDict()  # (id, version) -> (tenant, it)
_parsed_lock = threading.Lock()


def _seal(definition: dict[str, Any]) -> dict[str, Any]:
    """Encrypt the connections' DSNs (they may hold passwords) before the definition is stored."""
    for c in definition.get("connections") or []:
        if c.get("dsn") and not c["dsn"].startswith(SEALED):
            c["dsn"] = SEALED + secrets.encrypt(c["dsn"])
    return definition


def _unseal(definition: dict[str, Any]) -> dict[str, Any]:
    definition = copy.deepcopy(definition)
    for c in definition.get("connections") or []:
        if (c.get("dsn") or "").startswith(SEALED):
            c["dsn"] = secrets.decrypt(c["dsn"][len(SEALED):])
    return definition


class WorkflowRepo(TenantScoped):
    """Workflows of one tenant; ``ALL_TENANTS`` looks up any tenant's workflow by id (for workers)."""

    cross_tenant = True

    def _mine(self) -> sa.ColumnElement[bool]:
        return self.mine(workflows.c.tenant_id)

    def apply(self, wf: Workflow) -> tuple[StoredWorkflow, bool]:
        """Store ``wf``; a changed definition becomes a new version. Returns (stored, changed)."""
        digest = wf.content_hash()
        now = time.time()
        with self.store.write() as conn:
            row = conn.execute(sa.select(workflows).where(workflows.c.name == wf.name, self._mine())).first()
            if row is None:
                wf_id, version = str(uuid.uuid4()), 1
                conn.execute(workflows.insert().values(id=wf_id, tenant_id=self.owner,
                                                       name=wf.name, latest_version=1, archived=False,
                                                       created_at=now))
            else:
                wf_id = row.id
                latest = conn.execute(
                    sa.select(workflow_versions.c.content_hash).where(
                        workflow_versions.c.workflow_id == wf_id,
                        workflow_versions.c.version == row.latest_version)
                ).scalar_one()
                if latest == digest and not row.archived:
                    return self.get(wf_id, conn=conn), False
                version = row.latest_version + 1
                conn.execute(workflows.update().where(workflows.c.id == wf_id)
                             .values(latest_version=version, archived=False))
            conn.execute(workflow_versions.insert().values(
                workflow_id=wf_id, version=version, definition=_seal(wf.model_dump(mode="json")),
                content_hash=digest, created_at=now))
            return StoredWorkflow(wf_id, wf.name, version, wf, digest, now), True

    def get(self, name_or_id: str, version: int | None = None, conn: sa.Connection | None = None) -> StoredWorkflow:
        if version is not None:  # a version named by id (a run's) may already be parsed: no need to read
            with _parsed_lock:
                cached = _parsed.get((name_or_id, version))
            if cached is not None and (self.tenant is None or cached[0] == self.tenant):
                return cached[1]
        if conn is None:
            with self.store.read() as c:
                return self.get(name_or_id, version, c)
        q = _NAMED if self.tenant is None else _NAMED_IN_TENANT
        row = q.on(conn, {"key": name_or_id, "tenant": self.tenant}).first()
        if row is None or (row.archived and version is None):
            known = ", ".join(w.name for w in self.list_all(conn=conn)) or "none yet"
            raise NotFound(f"unknown workflow {name_or_id!r}",
                           hint=f"known workflows: {known}; add one with `hil workflows apply FILE`")
        v = version or row.latest_version
        with _parsed_lock:
            cached = _parsed.get((row.id, v))
            if cached is not None:
                _parsed.move_to_end((row.id, v))
                return cached[1]
        ver = _VERSION.on(conn, {"id": row.id, "version": v}).first()
        if ver is None:
            raise NotFound(f"workflow {row.name!r} has no version {v}", hint=f"latest is {row.latest_version}")
        stored = StoredWorkflow(row.id, row.name, v, Workflow.model_validate(_unseal(ver.definition)),
                                ver.content_hash, ver.created_at)
        with _parsed_lock:
            _parsed[(row.id, v)] = (row.tenant_id, stored)
            while len(_parsed) > PARSED_VERSIONS:
                _parsed.popitem(last=False)
        return stored

    def list_all(self, conn: sa.Connection | None = None) -> list[StoredWorkflow]:
        if conn is None:
            with self.store.read() as c:
                return self.list_all(c)
        rows = conn.execute(sa.select(workflows).where(workflows.c.archived.is_(False), self._mine())
                            .order_by(workflows.c.name)).all()
        return [self.get(r.id, conn=conn) for r in rows]

    def versions(self, name_or_id: str) -> list[tuple[int, str, float]]:
        wf = self.get(name_or_id)
        with self.store.read() as conn:
            rows = conn.execute(sa.select(workflow_versions.c.version, workflow_versions.c.content_hash,
                                          workflow_versions.c.created_at)
                                .where(workflow_versions.c.workflow_id == wf.id)
                                .order_by(workflow_versions.c.version)).all()
        return [(r.version, r.content_hash, r.created_at) for r in rows]

    def archive(self, name_or_id: str) -> StoredWorkflow:
        """Hide a workflow from listings and new runs; its versions and runs stay readable."""
        wf = self.get(name_or_id)
        with self.store.write() as conn:
            conn.execute(workflows.update().where(workflows.c.id == wf.id).values(archived=True))
        return wf


# read with every question asked (prepared: hil.store.prepared)
_NAMED_STMT = sa.select(workflows).where(sa.or_(workflows.c.name == sa.bindparam("key"),
                                                workflows.c.id == sa.bindparam("key")))
_NAMED = Prepared(_NAMED_STMT)
_NAMED_IN_TENANT = Prepared(_NAMED_STMT.where(workflows.c.tenant_id == sa.bindparam("tenant")))
_VERSION = Prepared(sa.select(workflow_versions).where(workflow_versions.c.workflow_id == sa.bindparam("id"),
                                                       workflow_versions.c.version == sa.bindparam("version")))
