"""CSV files and spreadsheet sheets are offered to SQL as well as indexed as text: each becomes a
table in the collection's own DuckDB file, registered as the connection ``<collection>-tables``,
so `hil sql` and the SQL agent can count and sum what the text index can only quote."""

from __future__ import annotations

import csv
import re
import tempfile
from pathlib import Path

from hil import settings
from hil.errors import Conflict, NotFound
from hil.knowledge.parsers import Table
from hil.store.connection_repo import ConnectionRepo
from hil.store.db import Store
from hil.store.tables import DEFAULT_TENANT
from hil.workflows import SqlConnection


def connection_name(collection: str) -> str:
    return f"{collection[:57]}-tables"


def table_name(name: str) -> str:
    clean = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "table"
    return f"t_{clean}" if clean[0].isdigit() else clean


def database_path(collection: str, tenant: str = DEFAULT_TENANT) -> Path:
    folder = settings.home() / "knowledge"
    if tenant != DEFAULT_TENANT:
        folder = folder / "tenants" / tenant
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{collection}-tables.duckdb"


def owns_connection(store: Store, collection: str, tenant: str) -> bool | None:
    """Whether the connection named after the collection is the collection's own (its DuckDB file);
    None when there is none. Somebody else's connection of that name is never replaced or removed."""
    try:
        cfg = ConnectionRepo(store, tenant).config(connection_name(collection))
    except NotFound:
        return None
    return cfg.engine == "duckdb" and cfg.path == str(database_path(collection, tenant))


def check_connection_free(store: Store, collection: str, tenant: str) -> None:
    """Refuse (409) to offer tables when the connection name is taken by a connection uploads did not make."""
    if owns_connection(store, collection, tenant) is False:
        name = connection_name(collection)
        raise Conflict(f"a connection named {name!r} exists and was not made by uploads to collection {collection!r}",
                       hint="rename or remove that connection, or upload the tables to another collection",
                       details={"connection": name})


def offer(store: Store, collection: str, tenant: str, tables: list[Table]) -> list[str]:
    """Create or replace the tables (column types inferred by DuckDB); returns their names."""
    import duckdb

    check_connection_free(store, collection, tenant)
    path = database_path(collection, tenant)
    names = []
    with duckdb.connect(str(path)) as db, tempfile.TemporaryDirectory() as tmp:
        for table in tables:
            name = table_name(table.name)
            rows_file = Path(tmp) / f"{name}.csv"
            with rows_file.open("w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(table.columns)
                writer.writerows(row + [""] * (len(table.columns) - len(row)) for row in table.rows)
            db.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM read_csv(?, header = true, '
                       "all_varchar = false, sample_size = -1)", [str(rows_file)])
            names.append(name)
    ConnectionRepo(store, tenant).add(SqlConnection(name=connection_name(collection), engine="duckdb", path=str(path)),
                              replace=True)
    return names


def withdraw(collection: str, tenant: str, names: list[str]) -> None:
    import duckdb

    path = database_path(collection, tenant)
    if not path.exists() or not names:
        return
    with duckdb.connect(str(path)) as db:
        for name in names:
            db.execute(f'DROP TABLE IF EXISTS "{name}"')
