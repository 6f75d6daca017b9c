"""Knowledge collections, documents and chunks, with the engine's full-text index

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Postgres full text over the same expression the search queries use, so the GIN index serves them.
PG_TSVECTOR = "to_tsvector('english', title || ' ' || heading || ' ' || text)"


def upgrade() -> None:
    op.create_table(
        "knowledge_collections",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("name", sa.String(length=64), nullable=False, unique=True),
        sa.Column("embedder", sa.String(length=128), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "knowledge_documents",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("collection_id", sa.String(length=36), sa.ForeignKey("knowledge_collections.id"), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("modified_at", sa.Float(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("tables", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("collection_id", "source", name="uq_knowledge_documents_source"),
    )
    op.create_index("ix_knowledge_documents_status", "knowledge_documents", ["status"])
    op.create_table(
        "knowledge_chunks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=36), sa.ForeignKey("knowledge_documents.id"), nullable=False),
        sa.Column("ord", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("page_end", sa.Integer(), nullable=True),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedded", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_knowledge_chunks_document", "knowledge_chunks", ["document_id"])
    op.create_index("ix_knowledge_chunks_pending", "knowledge_chunks", ["collection_id", "embedded"])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # the collection is stored in the index too, so a search needs no join to filter by it
        op.execute("CREATE VIRTUAL TABLE knowledge_fts USING fts5(title, heading, text, collection_id UNINDEXED, "
                   "tokenize='porter unicode61')")
        return
    op.execute(f"CREATE INDEX ix_knowledge_chunks_fts ON knowledge_chunks USING gin ({PG_TSVECTOR})")
    # pgvector when the server has it; without it vectors stay in knowledge_chunks.embedding and
    # are scored in the process, as on SQLite.
    if _create_vector_extension(bind):
        op.execute("CREATE TABLE knowledge_vectors (chunk_id integer PRIMARY KEY REFERENCES knowledge_chunks(id) "
                   "ON DELETE CASCADE, collection_id varchar(36) NOT NULL, embedding vector NOT NULL)")
        op.execute("CREATE INDEX ix_knowledge_vectors_collection ON knowledge_vectors (collection_id)")


def _create_vector_extension(bind: sa.Connection) -> bool:
    if not bind.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").first():
        return False
    try:
        with bind.begin_nested():  # a role without the privilege must not abort the migration
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
    except sa.exc.DBAPIError:
        return False
    return True


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE knowledge_fts")
    else:
        op.execute("DROP TABLE IF EXISTS knowledge_vectors")
    op.drop_table("knowledge_chunks")
    op.drop_table("knowledge_documents")
    op.drop_table("knowledge_collections")
