"""Events keep no id column: an event's id is derived from its run and seq

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The id and its unique index were a third of every event row; (run_id, seq) is already unique,
    # so the id is now computed from it when an event is read (hil.store.run_repo.event_id).
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("run_events", recreate="always") as b:
            b.drop_column("id")
    else:
        op.drop_column("run_events", "id")  # its unique constraint goes with it


def downgrade() -> None:
    op.add_column("run_events", sa.Column("id", sa.String(length=36), nullable=True))
    raise NotImplementedError("event ids are derived now; an older version cannot read events without them")
