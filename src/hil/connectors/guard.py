"""The first read-only layer: statement classification with sqlglot.

The second layer is each engine's own read-only mode (see the connectors); both must agree
before a statement runs without a human's approval of that exact write.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from hil.errors import QueryRefused

READ_ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except)
WRITE_NODES = (exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Alter, exp.Merge,
               exp.Command, exp.Copy, exp.Attach, exp.Detach, exp.Pragma, exp.Set, exp.Use,
               exp.Transaction, exp.Commit, exp.Rollback, exp.TruncateTable, exp.Install, exp.Export,
               exp.Refresh, exp.Grant, exp.Revoke, exp.Describe, exp.Cache, exp.Uncache, exp.LoadData)
# Functions that reach outside the database or change state, in any of our dialects.
DENIED_FUNCTIONS = frozenset({
    "read_csv", "read_csv_auto", "read_parquet", "read_json", "read_json_auto", "read_json_objects",
    "read_text", "read_blob", "read_ndjson", "read_ndjson_auto", "read_xlsx", "glob", "parquet_scan",
    "sniff_csv", "parquet_metadata", "parquet_schema", "pg_read_file", "pg_read_binary_file", "pg_ls_dir",
    "pg_stat_file", "lo_import", "lo_export", "dblink", "dblink_exec", "pg_sleep", "set_config",
    "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "load_extension", "writefile",
    "readfile", "fts_main", "query_table", "query", "getenv", "current_setting",
})


def _write_node_types() -> tuple[type[exp.Expression], ...]:
    return tuple(t for t in WRITE_NODES if isinstance(t, type))


def _parse_one(sql: str, dialect: str) -> tuple[str, exp.Expr]:
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise QueryRefused("the SQL is empty")
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except sqlglot.errors.ParseError as err:
        first = str(err).splitlines()[0]
        raise QueryRefused(f"not valid {dialect} SQL: {first}") from None
    if len(statements) != 1:
        raise QueryRefused(f"only one statement may run at a time, got {len(statements)}")
    return text, statements[0]


def _check_parts(tree: exp.Expr, allowed_root: exp.Expr | None = None) -> None:
    """Refuse any nested statement that writes, function that reaches outside, or file read."""
    for node in tree.walk():
        if node is not allowed_root and isinstance(node, _write_node_types()):
            raise QueryRefused(f"the query contains a {node.key.upper()} statement, which is not read-only")
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in DENIED_FUNCTIONS:
                raise QueryRefused(f"function {name}() is not allowed: it reads files or changes state")
        if isinstance(node, exp.Table) and (isinstance(node.this, exp.Literal) or any(
                ch in node.name for ch in "/\\:") or node.name.startswith(".")):
            raise QueryRefused(f"reading the file {node.name!r} by its path is not allowed")
        if isinstance(node, exp.Into):
            raise QueryRefused("SELECT ... INTO writes a table and is not read-only")


def check_read_only(sql: str, dialect: str) -> str:
    """Return the statement (trimmed) if it is a single read-only query, else raise QueryRefused."""
    text, tree = _parse_one(sql, dialect)
    if not isinstance(tree, READ_ROOTS):
        raise QueryRefused(f"only read-only SELECT queries run without approval; this is {tree.key.upper()}")
    _check_parts(tree)
    return text


# Statements a write-enabled connection may run after a human approved the exact text.
WRITE_ROOTS: dict[type[exp.Expression], str] = {exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE",
                                                exp.Create: "CREATE", exp.Alter: "ALTER", exp.Drop: "DROP"}


def is_write(sql: str, dialect: str) -> bool:
    try:
        return isinstance(_parse_one(sql, dialect)[1], tuple(WRITE_ROOTS))
    except QueryRefused:
        return False


def check_write(sql: str, dialect: str) -> tuple[str, str]:
    """(statement, verb) for one INSERT, UPDATE, DELETE, CREATE, ALTER or DROP whose parts are
    as safe as a read's: no second statement, no file access, no settings, no extensions."""
    text, tree = _parse_one(sql, dialect)
    verb = next((v for t, v in WRITE_ROOTS.items() if isinstance(tree, t)), None)
    if verb is None:
        raise QueryRefused(f"{tree.key.upper()} is not a data change hil runs; allowed are "
                           f"{', '.join(WRITE_ROOTS.values())}")
    if isinstance(tree, exp.Create) and tree.args.get("kind", "").upper() not in ("TABLE", "VIEW", "INDEX"):
        raise QueryRefused(f"CREATE {tree.args.get('kind')} is not allowed; only tables, views and indexes")
    _check_parts(tree, allowed_root=tree)
    return text, verb


def has_limit(sql: str, dialect: str) -> bool:
    tree = sqlglot.parse_one(sql, read=dialect)
    return tree.args.get("limit") is not None


def tables_in(sql: str, dialect: str) -> tuple[str, ...] | None:
    """The tables a statement reads or writes (common table expressions excluded), lower-case and
    sorted; None when it does not parse, so a policy condition on tables is then not met."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return None
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    return tuple(sorted({t.name.lower() for t in tree.find_all(exp.Table) if t.name and t.name.lower() not in ctes}))
