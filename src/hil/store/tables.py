"""Table definitions. Times are epoch seconds (float) so both engines compare them the same way."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

DEFAULT_TENANT = "default"  # the CLI's tenant, and an unauthenticated loopback server's

workflows = sa.Table(
    "workflows",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, server_default="default"),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("latest_version", sa.Integer, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_workflows_tenant"),
)

workflow_versions = sa.Table(
    "workflow_versions",
    metadata,
    sa.Column("workflow_id", sa.String(36), sa.ForeignKey("workflows.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

connections = sa.Table(
    "connections",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, server_default="default"),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("engine", sa.String(16), nullable=False),
    sa.Column("path", sa.Text, nullable=True),
    sa.Column("dsn_encrypted", sa.Text, nullable=True),  # see hil.secrets; never returned
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_connections_tenant"),
)

sql_examples = sa.Table(
    "sql_examples",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, server_default="default"),
    sa.Column("connection", sa.String(64), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("sql", sa.Text, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # approved | feedback | import
    sa.Column("run_id", sa.String(36), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("tenant_id", "connection", "question", "sql", name="uq_sql_examples_tenant"),
    sa.Index("ix_sql_examples_run", "run_id"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("workflow_id", sa.String(36), sa.ForeignKey("workflows.id"), nullable=False),
    sa.Column("workflow_version", sa.Integer, nullable=False),
    sa.Column("tenant_id", sa.String(36), nullable=False, server_default="default"),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("thread_id", sa.String(36), nullable=True),
    sa.Column("created_by", sa.String(128), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("last_seq", sa.Integer, nullable=False, default=0),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", sa.Float, nullable=True),
    sa.Index("ix_runs_status", "status", "lease_expires_at"),
    sa.Index("ix_runs_created", "created_at"),
    sa.Index("ix_runs_tenant_created", "tenant_id", "created_at"),
)

run_events = sa.Table(
    "run_events",
    metadata,
    sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),  # an event's id is derived from (run_id, seq): run_repo.event_id
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("step", sa.String(64), nullable=True),
    sa.Column("agent", sa.String(64), nullable=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Index("ix_run_events_ts", "ts"),
)

approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("step", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("draft_id", sa.String(36), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("content", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=True),
    sa.Column("on_expiry", sa.String(16), nullable=False),
    sa.Column("decision", sa.String(16), nullable=True),
    sa.Column("edited", sa.JSON, nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("decided_by", sa.String(128), nullable=True),
    sa.Column("decided_role", sa.String(32), nullable=True),
    sa.Column("decided_at", sa.Float, nullable=True),
    sa.Index("ix_approvals_status", "status", "expires_at"),
    sa.Index("ix_approvals_run", "run_id"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("run_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("result", sa.JSON, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

# -- knowledge: collections of documents, their chunks, and (in migration 0004) the engine's own
# full-text index over the chunks: an FTS5 table on SQLite, an expression GIN index on Postgres,
# plus a pgvector table when the extension is available.
knowledge_collections = sa.Table(
    "knowledge_collections",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, server_default="default"),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("embedder", sa.String(128), nullable=False),  # "none" means full text only
    sa.Column("dim", sa.Integer, nullable=True),
    sa.Column("revision", sa.Integer, nullable=False, default=0),  # bumped on every change; keys vector caches
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_knowledge_collections_tenant"),
)

knowledge_documents = sa.Table(
    "knowledge_documents",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("collection_id", sa.String(36), sa.ForeignKey("knowledge_collections.id"), nullable=False),
    sa.Column("source", sa.Text, nullable=False),  # absolute path, or the upload's name
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # markdown, text, html, pdf, docx, csv, xlsx
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("modified_at", sa.Float, nullable=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # queued parsing embedding indexed failed
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("chunks", sa.Integer, nullable=False, default=0),
    sa.Column("text", sa.Text, nullable=True),  # the extracted text that chunk spans point into
    sa.Column("tables", sa.JSON, nullable=True),  # CSV/XLSX: tables offered to SQL
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("collection_id", "source", name="uq_knowledge_documents_source"),
    sa.Index("ix_knowledge_documents_status", "status"),
)

knowledge_chunks = sa.Table(
    "knowledge_chunks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # the FTS5 rowid
    sa.Column("collection_id", sa.String(36), nullable=False),
    sa.Column("document_id", sa.String(36), sa.ForeignKey("knowledge_documents.id"), nullable=False),
    sa.Column("ord", sa.Integer, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("heading", sa.Text, nullable=False),
    sa.Column("page", sa.Integer, nullable=True),
    sa.Column("page_end", sa.Integer, nullable=True),
    sa.Column("start", sa.Integer, nullable=False),
    sa.Column("end", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("embedding", sa.LargeBinary, nullable=True),  # float32, unit length; unused with pgvector
    sa.Column("embedded", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_knowledge_chunks_document", "document_id"),
    sa.Index("ix_knowledge_chunks_pending", "collection_id", "embedded"),
)

# -- tenancy: every workflow, connection, collection, example and run belongs to a tenant; users
# of a tenant hold a role and API keys (only a SHA-256 of each key is stored).
tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # viewer | operator | approver | admin
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_users_tenant_name"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),  # shown in listings, so a key can be named
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
)

# The audit log: per tenant, record n carries the hash of record n-1 (hil.policy.audit), so an
# edit, a deletion or a reordering breaks the chain; the head is signed into checkpoints kept
# outside the store, so a truncated tail is caught too.
audit_heads = sa.Table(
    "audit_heads",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("head", sa.String(64), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

secrets_table = sa.Table(
    "secrets",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value_encrypted", sa.Text, nullable=False),  # hil.secrets; never returned
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),  # every change is a new version; the highest is in force
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
)
