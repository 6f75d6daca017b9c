"""What the SQL agent knows of a database, and the one connection a step learns it through.

A step opens its connection on first use and keeps it, through every draft, value alignment,
consensus vote and the execution, until the step ends (the runner closes what a step holds).

The tables and value index are cached per database and kept while the engine's fingerprint
(``Connector.fingerprint``: a schema signature read in one cheap query on the step's own
connection) stays the same, so a schema change shows at the next step without a restart, on
every engine, including Postgres, which has no file whose time could tell.
"""

from __future__ import annotations

from hil import settings
from hil.agents.base import StepContext
from hil.agents.sql.values import ValueIndex
from hil.connectors import connect
from hil.connectors.base import Connector, Table, render_plain
from hil.lru import LRU
from hil.workflows import SqlConnection

# Databases remembered at once (HIL_SCHEMA_CACHE), least recently used first out. A server sees
# many connections across tenants and each entry holds a value index (up to thousands of values
# per text column), so the cache is bounded; a database that falls out is introspected again on
# its next step. database -> (fingerprint, tables, values); only the latest version of a database
# is kept, so a file written to all day takes one slot, not one per write. Entries are data only:
# the connection they were learnt through belongs to its step, which closes it.
_cache: LRU[tuple[str, str], tuple[str, list[Table], ValueIndex]] = LRU(lambda: settings.get_int("HIL_SCHEMA_CACHE"))


def cached() -> int:
    """How many databases the cache holds now."""
    return len(_cache)


def _database(cfg: SqlConnection) -> tuple[str, str]:
    return cfg.kind, cfg.path or cfg.dsn or ""


def knowledge(conn: Connector) -> tuple[list[Table], ValueIndex]:
    """The tables and value index of ``conn``'s database, introspected again when its fingerprint changed."""
    database = _database(conn.cfg)
    # Read before introspecting: what is stored under it is then at least as new as it says.
    fingerprint = conn.fingerprint()
    hit = _cache.get(database)
    if hit is not None and hit[0] == fingerprint:
        return hit[1], hit[2]
    tables = conn.tables()  # not under a lock: introspecting a large database takes seconds
    values = ValueIndex.build(conn, tables)
    _cache.put(database, (fingerprint, tables, values))
    return tables, values


def plain_schema(conn: Connector, shown: list[Table]) -> str:
    """The CREATE TABLE statements of ``shown`` as the database stores them (in its order), rendered
    plainly from the introspected tables where the engine keeps no such text."""
    names = {t.name.lower() for t in shown}
    stored = [ddl for name, ddl in conn.create_statements() if name.lower() in names]
    return "\n\n".join(stored) if len(stored) == len(names) else render_plain(shown)


def introspect(source: Connector | SqlConnection) -> list[Table]:
    """The tables of a database, through an open connection or, given its configuration, a short-lived one."""
    if isinstance(source, Connector):
        return knowledge(source)[0]
    conn = connect(source)
    try:
        return knowledge(conn)[0]
    finally:
        conn.close()


def _held_as(cfg: SqlConnection) -> str:
    return f"sql:{cfg.name}"


def step_connection(ctx: StepContext, cfg: SqlConnection) -> Connector:
    """The connection this step uses for ``cfg``: opened on first use, the same one until the step
    ends. One whose link was lost while the model drafted is replaced rather than failed on."""
    conn = ctx.hold(_held_as(cfg), lambda: connect(cfg), _close)
    if not conn.alive():
        ctx.release(_held_as(cfg))
        conn = ctx.hold(_held_as(cfg), lambda: connect(cfg), _close)
    return conn


def _close(conn: Connector) -> None:
    conn.close()  # the engine's own close: ``Connector.close`` itself would be the base's no-op


def release_step_connection(ctx: StepContext, cfg: SqlConnection) -> None:
    """Close the step's connection before it writes: DuckDB refuses a writable handle on a file
    that a read-only one in the same process holds. A later read opens a fresh one."""
    ctx.release(_held_as(cfg))
