"""The dry run of a SQL approval: what the engine would do with the statement, before anyone
approves it. A read is explained (EXPLAIN, never run) through the same guard and read-only mode
as the SQL agent's reads; a write is never executed: its impact is counted read-only, and the
plan shown is that count's."""

from __future__ import annotations

from typing import Any

from hil import datadirs, dbhosts, settings
from hil.connectors import connect
from hil.connectors.writes import estimate_impact
from hil.errors import InvalidDecision
from hil.store.auth_repo import AuthRepo
from hil.store.db import Store
from hil.store.run_repo import Approval, RunRepo
from hil.store.secret_repo import SecretRepo
from hil.store.workflow_repo import WorkflowRepo

SQL_KINDS = ("sql_read", "sql_write")


def dry_run(store: Store, tenant: str, approval: Approval, sql: str | None, *, user: str,
            restricted: bool) -> dict[str, Any]:
    """``approval``'s statement (or ``sql``, a reviewer's edit of it) explained on the run's own
    connection: ``{plan, estimated_rows, estimate, ...}``."""
    if approval.kind not in SQL_KINDS:
        raise InvalidDecision(f"a dry run explains SQL; approval {approval.id} is a {approval.kind}",
                              hint="only sql_read and sql_write approvals have a dry run")
    text = approval.content.get("sql") if sql is None else sql
    if not isinstance(text, str) or not text.strip():
        raise InvalidDecision("the SQL to dry-run is empty", hint="send {\"sql\": \"SELECT ...\"} or omit sql")
    run = RunRepo(store, tenant).get(approval.run_id)
    definition = WorkflowRepo(store, tenant).get(run.workflow_id, run.workflow_version).definition
    # the same checks the worker makes before it opens the run's databases
    wf = SecretRepo(store, tenant).resolved(definition, user)
    dbhosts.check(wf.dsns(), restricted)
    if restricted:
        datadirs.check(wf.files(), AuthRepo(store).tenant_name(tenant))
    cfg = wf.connection(approval.content.get("connection"))
    conn = connect(cfg, timeout_s=float(settings.get_int("HIL_QUERY_TIMEOUT")))
    try:
        out: dict[str, Any] = {"approval_id": approval.id, "kind": approval.kind, "connection": cfg.name,
                               "engine": cfg.engine, "sql": text.strip(), "edited": sql is not None}
        if approval.kind == "sql_write":
            impact = estimate_impact(conn, text)  # the write itself is never run, not even explained
            explained = conn.explain(impact["count_sql"]) if impact["count_sql"] else None
            return {**out, "plan": explained.plan if explained else "", "estimated_rows": impact["rows"],
                    "estimate": "count" if impact["rows"] is not None else "none",
                    "elapsed_ms": round(explained.elapsed_ms, 2) if explained else 0.0, "impact": impact}
        return {**out, **conn.explain(text).to_dict(), "impact": None}
    finally:
        conn.close()
