"""Named SQL connections, shared by the CLI (`hil connections`, `hil sql`) and the server.

DSNs are stored encrypted (hil.secrets) and only decrypted to connect."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from hil import secrets
from hil.errors import ConfigError, NotFound
from hil.store.scoped import TenantScoped
from hil.store.tables import connections
from hil.workflows import SqlConnection, Workflow


@dataclass(frozen=True)
class StoredConnection:
    id: str
    name: str
    engine: str
    location: str  # file path, or the DSN with its password redacted
    created_at: float


class ConnectionRepo(TenantScoped):
    """Named connections of one tenant."""

    def add(self, cfg: SqlConnection, replace: bool = False) -> StoredConnection:
        if cfg.saved is not None:
            raise ConfigError(f"connection {cfg.name!r} names the saved connection {cfg.saved!r}: a saved connection "
                              "needs its own engine and path or dsn")
        values = {"engine": cfg.engine, "path": cfg.path,
                  "dsn_encrypted": secrets.encrypt(cfg.dsn) if cfg.dsn else None}
        with self.store.write() as conn:
            row = conn.execute(sa.select(connections.c.id).where(connections.c.name == cfg.name,
                                                                 self.mine(connections.c.tenant_id))).first()
            if row is not None and not replace:
                raise ConfigError(f"a connection named {cfg.name!r} already exists",
                                  hint="remove it first, or add it again with --replace")
            if row is None:
                conn.execute(connections.insert().values(id=str(uuid.uuid4()), tenant_id=self.owner, name=cfg.name,
                                                         created_at=time.time(), **values))
            else:
                conn.execute(connections.update().where(connections.c.id == row.id).values(**values))
        return self.get(cfg.name)

    def _row(self, name: str) -> sa.Row[tuple[object, ...]]:
        """By name, or by id (the API names connections by id)."""
        with self.store.read() as conn:
            row = conn.execute(sa.select(connections).where(
                sa.or_(connections.c.name == name, connections.c.id == name),
                self.mine(connections.c.tenant_id))).first()
        if row is None:
            raise NotFound(f"no connection named {name!r}", hint="see `hil connections list`")
        return row

    @staticmethod
    def _stored(row: sa.Row[tuple[object, ...]]) -> StoredConnection:
        m = row._mapping
        location = str(m["path"]) if m["path"] else secrets.redact_url(secrets.decrypt(str(m["dsn_encrypted"])))
        return StoredConnection(str(m["id"]), str(m["name"]), str(m["engine"]), location, float(m["created_at"]))

    def get(self, name: str) -> StoredConnection:
        return self._stored(self._row(name))

    def config(self, name: str) -> SqlConnection:
        """The connection with its secret decrypted, to connect with; never shown to anyone."""
        m = self._row(name)._mapping
        dsn = secrets.decrypt(str(m["dsn_encrypted"])) if m["dsn_encrypted"] else None
        return SqlConnection(name=str(m["name"]), engine=m["engine"], path=m["path"], dsn=dsn)

    def looked_up(self, wf: Workflow) -> Workflow:
        """A copy of the workflow whose connections that name a saved one carry its engine, path
        and DSN (unsealed, or still the env:// or secret:// reference it was saved as); never stored."""
        if not any(c.saved for c in wf.connections):
            return wf
        return wf.model_copy(update={"connections": [self._look_up(wf.name, c) for c in wf.connections]})

    def _look_up(self, workflow: str, cfg: SqlConnection) -> SqlConnection:
        if cfg.saved is None:
            return cfg
        try:
            saved = self.config(cfg.saved)
        except NotFound:
            raise ConfigError(f"connection {cfg.name!r} of workflow {workflow!r} names the saved connection "
                              f"{cfg.saved!r}, which does not exist",
                              hint="see `hil connections list`; save it with `hil connections add`") from None
        return cfg.model_copy(update={"saved": None, "engine": saved.engine, "path": saved.path, "dsn": saved.dsn})

    def missing(self, wf: Workflow) -> list[dict[str, object]]:
        """A validation error per connection that names a saved connection this tenant does not have."""
        known = {c.name for c in self.list_all()}
        return [{"loc": ("connections", i, "saved"),
                 "msg": f"no saved connection named {c.saved!r} (see `hil connections list`; save it with "
                        "`hil connections add`)"}
                for i, c in enumerate(wf.connections) if c.saved is not None and c.saved not in known]

    def list_all(self) -> list[StoredConnection]:
        with self.store.read() as conn:
            rows = conn.execute(sa.select(connections).where(self.mine(connections.c.tenant_id))
                                .order_by(connections.c.name)).all()
        return [self._stored(r) for r in rows]

    def remove(self, name: str) -> None:
        row_id = self._row(name)._mapping["id"]
        with self.store.write() as conn:
            conn.execute(connections.delete().where(connections.c.id == row_id))
