"""SQL few-shot memory

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sql_examples",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("connection", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("connection", "question", "sql", name="uq_sql_examples_pair"),
    )
    op.create_index("ix_sql_examples_run", "sql_examples", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_sql_examples_run", table_name="sql_examples")
    op.drop_table("sql_examples")
