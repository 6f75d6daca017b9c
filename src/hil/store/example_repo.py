"""The SQL few-shot memory in the store: vouched-for question -> SQL pairs per connection.
What may enter is decided by :mod:`hil.engine.learning`."""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa

from hil.errors import NotFound
from hil.examples import Example, Source
from hil.store.scoped import TenantScoped
from hil.store.tables import sql_examples


class ExampleRepo(TenantScoped):
    """The few-shot memory of one tenant."""

    @property
    def _mine(self) -> sa.ColumnElement[bool]:
        return self.mine(sql_examples.c.tenant_id)

    def add(self, connection: str, question: str, sql: str, source: Source, run_id: str | None = None) -> Example:
        """Store a pair; adding the same pair again returns the stored one."""
        question, sql = question.strip(), sql.strip().rstrip(";")
        with self.store.write() as conn:
            row = conn.execute(sa.select(sql_examples).where(
                self._mine, sql_examples.c.connection == connection, sql_examples.c.question == question,
                sql_examples.c.sql == sql)).first()
            if row is not None:
                return _example(row)
            values = {"id": str(uuid.uuid4()), "connection": connection, "question": question, "sql": sql,
                      "source": source, "run_id": run_id, "created_at": time.time()}
            conn.execute(sql_examples.insert().values(tenant_id=self.owner, **values))
        return Example(**values)  # type: ignore[arg-type]

    def entries(self, connection: str | None = None, limit: int | None = None) -> list[Example]:
        q = sa.select(sql_examples).where(self._mine).order_by(sql_examples.c.created_at.desc())
        if connection:
            q = q.where(sql_examples.c.connection == connection)
        if limit:
            q = q.limit(limit)
        with self.store.read() as conn:
            return [_example(r) for r in conn.execute(q)]

    def get(self, id_or_prefix: str) -> Example:
        with self.store.read() as conn:
            rows = conn.execute(sa.select(sql_examples).where(self._mine, sql_examples.c.id.startswith(id_or_prefix))
                                .limit(2)).all()
        if len(rows) != 1:
            raise NotFound(f"no example {id_or_prefix!r}" if not rows else f"{id_or_prefix!r} matches several examples",
                           hint="see `hil examples list`; give more of the id")
        return _example(rows[0])

    def remove(self, id_or_prefix: str) -> Example:
        example = self.get(id_or_prefix)
        with self.store.write() as conn:
            conn.execute(sql_examples.delete().where(sql_examples.c.id == example.id))
        return example

    def forget_run(self, run_id: str) -> int:
        """Remove what a run taught, e.g. after its answer was marked wrong."""
        with self.store.write() as conn:
            return conn.execute(sql_examples.delete().where(self._mine, sql_examples.c.run_id == run_id)).rowcount or 0


def _example(row: sa.Row[tuple[object, ...]]) -> Example:
    m = row._mapping
    return Example(id=str(m["id"]), connection=str(m["connection"]), question=str(m["question"]),
                   sql=str(m["sql"]), source=m["source"], run_id=m["run_id"], created_at=float(m["created_at"]))
