"""The SQL few-shot memory of one tenant: list, show, remove, and curated imports checked by the
read-only guard."""

from __future__ import annotations

from pathlib import Path

from hil.agents.sql.fewshot import read_curated
from hil.connectors.guard import check_read_only
from hil.errors import ConfigError, NotFound, QueryRefused
from hil.examples import Example
from hil.store.audit_repo import AuditRepo
from hil.store.connection_repo import ConnectionRepo
from hil.store.db import Store
from hil.store.example_repo import ExampleRepo
from hil.store.scoped import TenantScoped


class ExampleService(TenantScoped):
    def __init__(self, store: Store, tenant: str, *, actor: str = "local"):
        super().__init__(store, tenant)
        self.actor = actor  # who changes the memory, for the audit log
        self._repo = ExampleRepo(store, tenant)
        self._connections = ConnectionRepo(store, tenant)

    def list(self, connection: str | None = None, limit: int | None = None) -> list[Example]:
        return self._repo.entries(connection, limit)

    def get(self, id_or_prefix: str) -> Example:
        return self._repo.get(id_or_prefix)

    def remove(self, id_or_prefix: str) -> Example:
        gone = self._repo.remove(id_or_prefix)
        AuditRepo(self.store, self.owner).record(self.actor, "example.remove", f"example {gone.id}",
                                                 {"connection": gone.connection, "question": gone.question})
        return gone

    def import_file(self, connection: str, file: Path) -> tuple[int, int]:
        """Import curated {question, sql} pairs; every SQL must pass the read-only guard (of the saved
        connection's dialect; generic SQL for an unsaved name), or nothing is imported.
        Returns (pairs read, examples stored)."""
        pairs = read_curated(file)
        try:
            dialect = self._connections.get(connection).engine
        except NotFound:
            dialect = "sqlite"
        for n, (_question, sql) in enumerate(pairs, 1):
            try:
                check_read_only(sql, dialect)
            except QueryRefused as err:
                raise ConfigError(f"{file}: entry {n}: the SQL is refused: {err.message}",
                                  hint="only read-only queries can be examples; nothing was imported") from None
        stored = {self._repo.add(connection, q, s, "import").id for q, s in pairs}
        AuditRepo(self.store, self.owner).record(self.actor, "example.import", f"connection {connection}",
                                                 {"file": file.name, "pairs": len(pairs), "stored": len(stored)})
        return len(pairs), len(stored)
