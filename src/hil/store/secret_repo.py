"""Named secrets of one tenant, and the references that name them in definitions.

A DSN (or, later, an MCP credential) may be written as ``secret://NAME`` — a secret stored with
`hil secrets set` — or ``env://VAR`` — an environment variable of the process that uses it. The
reference is what is stored and shown; the value is looked up only where it is used, and every
lookup of a stored secret is audited."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass

import sqlalchemy as sa

from hil import secrets
from hil.errors import ConfigError, NotFound
from hil.store.audit_repo import AuditRepo
from hil.store.connection_repo import ConnectionRepo
from hil.store.db import Store
from hil.store.scoped import TenantScoped
from hil.store.tables import connections, secrets_table, workflow_versions
from hil.store.workflow_repo import SEALED
from hil.workflows import SqlConnection, Workflow

REFERENCE = re.compile(r"^(secret|env)://([A-Za-z0-9_.-]{1,64})$")
SECRET_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class SecretInfo:
    name: str
    created_at: float
    updated_at: float


def is_reference(value: str | None) -> bool:
    return bool(value and REFERENCE.match(value))


class SecretRepo(TenantScoped):
    def set(self, name: str, value: str) -> SecretInfo:
        if not SECRET_NAME.match(name):
            raise ConfigError(f"secret name {name!r} is not valid",
                              hint="lower-case letters, digits, '.', '-' and '_', up to 64, starting with a letter or digit")
        if not value:
            raise ConfigError("the secret's value is empty")
        now = time.time()
        with self.store.write() as conn:
            mine = sa.and_(secrets_table.c.tenant_id == self.owner, secrets_table.c.name == name)
            if conn.execute(sa.select(secrets_table.c.name).where(mine)).first() is None:
                conn.execute(secrets_table.insert().values(tenant_id=self.owner, name=name, created_at=now,
                                                           updated_at=now, value_encrypted=secrets.encrypt(value)))
            else:
                conn.execute(secrets_table.update().where(mine).values(value_encrypted=secrets.encrypt(value),
                                                                       updated_at=now))
        return self.info(name)

    def info(self, name: str) -> SecretInfo:
        found = [s for s in self.list_all() if s.name == name]
        if not found:
            raise NotFound(f"no secret named {name!r}", hint="see `hil secrets list`; add it with `hil secrets set`")
        return found[0]

    def list_all(self) -> list[SecretInfo]:
        with self.store.read() as conn:
            rows = conn.execute(sa.select(secrets_table.c.name, secrets_table.c.created_at, secrets_table.c.updated_at)
                                .where(secrets_table.c.tenant_id == self.owner).order_by(secrets_table.c.name))
            return [SecretInfo(r.name, r.created_at, r.updated_at) for r in rows]

    def remove(self, name: str) -> None:
        self.info(name)
        with self.store.write() as conn:
            conn.execute(secrets_table.delete().where(secrets_table.c.tenant_id == self.owner,
                                                      secrets_table.c.name == name))

    def resolve(self, value: str, used_by: str) -> str:
        """The value a reference stands for (anything else is returned as it is); ``used_by`` is
        who needs it, for the audit log."""
        match = REFERENCE.match(value)
        if not match:
            return value
        kind, name = match.groups()
        if kind == "env":
            if name not in os.environ:
                raise ConfigError(f"env://{name}: the environment variable {name} is not set",
                                  hint=f"set {name} in the environment of hil serve (and of every worker)")
            return os.environ[name]
        with self.store.write() as conn:
            token = conn.execute(sa.select(secrets_table.c.value_encrypted).where(
                secrets_table.c.tenant_id == self.owner, secrets_table.c.name == name)).scalar()
            if token is None:
                raise ConfigError(f"secret://{name}: no secret of that name", hint=f"add it with `hil secrets set {name}`")
            AuditRepo(self.store, self.owner).append(conn, used_by, "secret.use", f"secret {name}")
        return secrets.decrypt(str(token))

    def resolved_connection(self, cfg: SqlConnection, used_by: str) -> SqlConnection:
        return cfg.model_copy(update={"dsn": self.resolve(cfg.dsn or "", used_by)}) if is_reference(cfg.dsn) else cfg

    def resolved(self, wf: Workflow, used_by: str) -> Workflow:
        """A copy of the workflow whose connections that name a saved one are looked up, and whose
        connection DSNs and MCP credentials hold values, not references (never stored)."""
        wf = ConnectionRepo(self.store, self.owner).looked_up(wf)
        update: dict[str, object] = {}
        if any(is_reference(c.dsn) for c in wf.connections):
            update["connections"] = [self.resolved_connection(c, used_by) for c in wf.connections]
        if any(m.env or m.headers for m in wf.mcp):
            update["mcp"] = [m.model_copy(update={
                "env": {k: self.resolve(v, used_by) for k, v in m.env.items()},
                "headers": {k: self.resolve(v, used_by) for k, v in m.headers.items()}}) for m in wf.mcp]
        return wf.model_copy(update=update) if update else wf


def reseal_all(store: Store) -> int:
    """Seal every stored secret again with the current key (after a rotation): saved connections'
    DSNs, DSNs inside workflow versions and named secrets, in one transaction. Returns how many."""
    count = 0
    with store.write() as conn:
        for row in conn.execute(sa.select(connections.c.id, connections.c.dsn_encrypted)
                                .where(connections.c.dsn_encrypted.is_not(None))).all():
            conn.execute(connections.update().where(connections.c.id == row.id)
                         .values(dsn_encrypted=secrets.reseal(row.dsn_encrypted)))
            count += 1
        for row in conn.execute(sa.select(secrets_table)).all():
            conn.execute(secrets_table.update().where(secrets_table.c.tenant_id == row.tenant_id,
                                                      secrets_table.c.name == row.name)
                         .values(value_encrypted=secrets.reseal(row.value_encrypted)))
            count += 1
        for row in conn.execute(sa.select(workflow_versions)).all():
            definition = dict(row.definition)
            sealed = [c for c in definition.get("connections") or [] if str(c.get("dsn") or "").startswith(SEALED)]
            for c in sealed:
                c["dsn"] = SEALED + secrets.reseal(c["dsn"][len(SEALED):])
                count += 1
            if sealed:
                conn.execute(workflow_versions.update().where(workflow_versions.c.workflow_id == row.workflow_id,
                                                              workflow_versions.c.version == row.version)
                             .values(definition=definition))
    return count
