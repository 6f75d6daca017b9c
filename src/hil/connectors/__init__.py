"""SQL connectors: DuckDB, SQLite, Postgres behind one interface, read-only by default."""

from hil.connectors.base import Connector, QueryResult
from hil.connectors.factory import connect

__all__ = ["Connector", "QueryResult", "connect"]
