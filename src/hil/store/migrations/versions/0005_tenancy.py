"""Tenants, users and API keys; every top-level row belongs to a tenant

Names (of workflows, connections, collections) become unique per tenant instead of globally.
Existing rows join the tenant ``default``, which the CLI and an unauthenticated loopback server
use.

Revision ID: 0005
Revises: 0004
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DEFAULT_TENANT = "default"

# table -> (its unique constraint before, the columns unique per tenant after)
SCOPED = {
    "workflows": ("workflows_name_key", ["name"]),
    "connections": ("connections_name_key", ["name"]),
    "knowledge_collections": ("knowledge_collections_name_key", ["name"]),
    "sql_examples": ("uq_sql_examples_pair", ["connection", "question", "sql"]),
    "runs": (None, []),
}


def _old_table(name: str) -> sa.Table:
    """The table as it is, without its unique constraint: SQLite cannot drop an unnamed one, so the
    batch rebuild copies from this definition instead of a reflection that would keep it."""
    table = sa.Table(name, sa.MetaData(), autoload_with=op.get_bind())
    for c in list(table.constraints):
        if isinstance(c, sa.UniqueConstraint):
            table.constraints.discard(c)
    for col in table.columns:
        col.unique = False
    return table


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("name", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("tenant_id", sa.String(length=36), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_users_tenant_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("user_id", sa.String(length=36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
    )
    op.bulk_insert(sa.table("tenants", sa.column("id"), sa.column("name"), sa.column("created_at")),
                   [{"id": DEFAULT_TENANT, "name": DEFAULT_TENANT, "created_at": time.time()}])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, (old_unique, unique_cols) in SCOPED.items():
        with op.batch_alter_table(table, copy_from=_old_table(table) if sqlite else None,
                                  recreate="always" if sqlite and unique_cols else "auto") as b:
            b.add_column(sa.Column("tenant_id", sa.String(length=36), nullable=False,
                                   server_default=DEFAULT_TENANT))
            if unique_cols:
                if not sqlite and old_unique:
                    b.drop_constraint(old_unique, type_="unique")
                b.create_unique_constraint(f"uq_{table}_tenant", ["tenant_id", *unique_cols])
    op.create_index("ix_runs_tenant_created", "runs", ["tenant_id", "created_at"])
    op.create_index("ix_run_events_ts", "run_events", ["ts"])  # the tenant-wide event stream reads by time


def downgrade() -> None:
    raise NotImplementedError("tenancy cannot be undone without losing which tenant owns what")
