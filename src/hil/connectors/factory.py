"""Builds the connector for a connection's engine. Kept apart from ``base`` so that the interface
does not import the engines that implement it."""

from __future__ import annotations

from hil.connectors.base import Connector
from hil.connectors.duckdb import DuckDBConnector
from hil.connectors.postgres import PostgresConnector
from hil.connectors.sqlite import SQLiteConnector
from hil.workflows import SqlConnection

ENGINES: dict[str, type[Connector]] = {"duckdb": DuckDBConnector, "sqlite": SQLiteConnector,
                                       "postgres": PostgresConnector}


def connect(cfg: SqlConnection, timeout_s: float = 30.0) -> Connector:
    return ENGINES[cfg.kind](cfg, timeout_s)
