"""Named SQL connections of one tenant, and ad-hoc read-only queries on them through exactly the
guard and read-only modes the SQL agent uses."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from hil import datadirs, dbhosts, settings
from hil.connectors import connect
from hil.connectors.base import QueryResult
from hil.connectors.guard import check_read_only
from hil.errors import ConfigError, Conflict, HilError, NotFound
from hil.store.audit_repo import AuditRepo
from hil.store.auth_repo import AuthRepo
from hil.store.connection_repo import ConnectionRepo, StoredConnection
from hil.store.db import Store
from hil.store.scoped import TenantScoped
from hil.store.secret_repo import SecretRepo
from hil.workflows import SqlConnection, error_message, location


def _timeout() -> float:
    return float(settings.get_int("HIL_QUERY_TIMEOUT"))


class ConnectionService(TenantScoped):
    """``restricted`` (on with authentication) keeps database files under the tenant's data
    directories and DSNs off Unix sockets; HIL_DB_HOSTS applies to everyone."""

    def __init__(self, store: Store, tenant: str, *, restricted: bool = False, actor: str = "local"):
        super().__init__(store, tenant)
        self.actor = actor  # who changes the configuration, for the audit log
        self._repo = ConnectionRepo(store, tenant)
        self.restricted = restricted

    @staticmethod
    def parse(data: dict[str, Any]) -> SqlConnection:
        """A connection from its fields; every problem is named with its field."""
        try:
            return SqlConnection.model_validate(data)
        except ValidationError as err:
            errors = [{"loc": location(tuple(e["loc"])), "msg": error_message(dict(e))} for e in err.errors()]
            raise ConfigError(f"invalid connection: {errors[0]['loc']}: {errors[0]['msg']}",
                              details={"errors": errors}) from None

    def add(self, cfg: SqlConnection, *, replace: bool = False, test: bool = False) -> StoredConnection:
        """Save a connection (its DSN encrypted); ``test`` connects once first."""
        dbhosts.check([("dsn", cfg.dsn)] if cfg.dsn else [], self.restricted)
        if self.restricted:
            datadirs.check([("path", cfg.path)] if cfg.path else [], AuthRepo(self.store).tenant_name(self.owner))
        if not replace:
            try:
                self._repo.get(cfg.name)
            except NotFound:
                pass
            else:
                raise Conflict(f"a connection named {cfg.name!r} already exists",
                               hint="remove it first, or add it again with --replace")
        if test:
            resolved = SecretRepo(self.store, self.owner).resolved_connection(cfg, self.actor)
            dbhosts.check([("dsn", resolved.dsn)] if resolved.dsn else [], self.restricted)
            connect(resolved, timeout_s=_timeout()).close()
        stored = self._repo.add(cfg, replace=replace)
        AuditRepo(self.store, self.owner).record(self.actor, "connection.add", f"connection {stored.name}", {
            "engine": stored.engine, "location": stored.location, "replaced": replace})
        return stored

    def get(self, name_or_id: str) -> StoredConnection:
        return self._repo.get(name_or_id)

    def list_all(self) -> list[StoredConnection]:
        return self._repo.list_all()

    def remove(self, name_or_id: str) -> None:
        gone = self._repo.get(name_or_id)
        self._repo.remove(name_or_id)
        AuditRepo(self.store, self.owner).record(self.actor, "connection.remove", f"connection {gone.name}")

    def engine(self, name: str, default: str = "sqlite") -> str:
        """The saved connection's engine (its SQL dialect), or ``default`` for an unsaved name."""
        try:
            return self._repo.get(name).engine
        except NotFound:
            return default

    def _config(self, name_or_id: str) -> SqlConnection:
        """The stored connection, checked again against the host list (it may predate it)."""
        cfg = SecretRepo(self.store, self.owner).resolved_connection(self._repo.config(name_or_id), self.actor)
        dbhosts.check([("dsn", cfg.dsn)] if cfg.dsn else [], self.restricted)
        return cfg

    def validate(self, name_or_id: str) -> dict[str, Any]:
        """Connect, run a trivial query and introspect; a failure raises the connector's own error."""
        conn = connect(self._config(name_or_id), timeout_s=_timeout())
        try:
            return conn.validate()
        finally:
            conn.close()

    def test(self, name_or_id: str) -> dict[str, Any]:
        """``{ok, tables}``, or ``{ok: false, error}`` with the connector's specific cause."""
        try:
            return {"ok": True, "tables": self.validate(name_or_id)["tables"]}
        except NotFound:
            raise
        except HilError as err:
            return {"ok": False, "error": err.to_dict()["error"]}

    def probe(self, cfg: SqlConnection) -> dict[str, Any]:
        """Test a connection that is not saved (a form being filled in): the same checks as saving
        (data directories, allowed hosts; a refusal names the field), then ``test``'s answer. Nothing
        is stored."""
        dbhosts.check([("dsn", cfg.dsn)] if cfg.dsn else [], self.restricted)
        if self.restricted:
            datadirs.check([("path", cfg.path)] if cfg.path else [], AuthRepo(self.store).tenant_name(self.owner))
        try:
            resolved = SecretRepo(self.store, self.owner).resolved_connection(cfg, self.actor)
            dbhosts.check([("dsn", resolved.dsn)] if resolved.dsn else [], self.restricted)
            conn = connect(resolved, timeout_s=_timeout())
            try:
                return {"ok": True, "tables": conn.validate()["tables"]}
            finally:
                conn.close()
        except ConfigError:
            raise
        except HilError as err:
            return {"ok": False, "error": err.to_dict()["error"]}

    def query(self, name: str, sql: str, limit: int | None = None) -> QueryResult:
        """One read-only statement on a saved connection."""
        conn = connect(self._config(name), timeout_s=_timeout())
        try:
            return conn.execute_read(sql, limit=limit or settings.get_int("HIL_ROW_LIMIT"))
        finally:
            conn.close()

    def check_read_only(self, sql: str, connection: str) -> str:
        """The statement as the guard accepts it for the connection's dialect; refused otherwise."""
        return check_read_only(sql, self.engine(connection))
