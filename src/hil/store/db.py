"""Engine creation, the single-writer discipline, migrations and change notification."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from hil import settings
from hil.errors import ConfigError, StoreUnavailable
from hil.secrets import redact_url

MIGRATIONS = Path(__file__).parent / "migrations"
SYNC_MODES = ("milestones", "every", "off")  # HIL_SQLITE_SYNC
_PG_LOCK_ID = 0x48494C  # advisory lock that serialises migrations across processes


def compact_json(value: Any) -> str:
    """How JSON columns are written: no blanks between items (a store keeps millions of them)."""
    return json.dumps(value, separators=(",", ":"))


class Store:
    """One SQLAlchemy engine shared by events and state.

    On SQLite every write goes through :meth:`write`, which holds a process-wide lock and opens
    the transaction with ``BEGIN IMMEDIATE``, so there is exactly one writer and no lock-upgrade
    deadlock ("database is locked"). Other processes wait on ``busy_timeout``.
    """

    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.sync = settings.get_str("HIL_SQLITE_SYNC").strip().lower()
        if self.sync not in SYNC_MODES:
            raise ConfigError(f"HIL_SQLITE_SYNC is {self.sync!r}", hint=f"use one of {', '.join(SYNC_MODES)}")
        self._write_lock = threading.RLock()
        self._writer: sa.Connection | None = None  # SQLite: the writer's connection, kept between writes
        self._writer_sync: str | None = None  # the writer connection's synchronous level (None: not known)
        self._changed = threading.Condition()
        self._generation = 0
        self.engine = self._create_engine(url)

    def _create_engine(self, url: str) -> sa.Engine:
        if url.startswith("sqlite"):
            database = sa.engine.make_url(url).database
            if database and database != ":memory:":
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                      json_serializer=compact_json)

            @sa.event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA synchronous=" + ("NORMAL" if self.sync == "off" else "FULL"))
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

            @sa.event.listens_for(engine, "begin")
            def _on_begin(conn: sa.Connection) -> None:
                write = conn.get_execution_options().get("hil_write", False)
                conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                    "BEGIN IMMEDIATE" if write else "BEGIN")  # to the driver: a statement object costs more

            return engine
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, json_serializer=compact_json)

    @contextmanager
    def write(self, durable: bool = True) -> Iterator[sa.Connection]:
        """The one way to write. ``durable=False`` marks a run's progress between milestones: with
        HIL_SQLITE_SYNC=milestones its commit is not synced to disk by itself, but with the next
        durable commit (one WAL: syncing it syncs every frame before it). It is visible at once and
        survives a crash of the process either way.

        On SQLite the one writer keeps its connection between writes (taking one from the pool and
        handing it back cost as much as a step's own statements); one that failed is replaced."""
        with self._write_lock:
            conn = self._writer if self.is_sqlite else None
            if conn is None:
                conn = self.engine.connect()
                conn.execution_options(hil_write=True)
                self._writer_sync = None  # a pooled connection may have been left either way: set it
            ok = False
            try:
                if self.is_sqlite:
                    level = "NORMAL" if self.sync == "off" or (not durable and self.sync == "milestones") else "FULL"
                    if level != self._writer_sync:  # set only when it changes: progress commits come in runs
                        conn.connection.driver_connection.execute(f"PRAGMA synchronous={level}")  # type: ignore[union-attr]
                        self._writer_sync = level
                with conn.begin():
                    yield conn
                ok = True
            finally:
                if self.is_sqlite and ok:
                    self._writer = conn
                else:
                    self._writer = None
                    conn.close()
        self.notify()

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    # -- change notification (in process; other processes are seen by polling) --
    def notify(self) -> None:
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def generation(self) -> int:
        return self._generation

    def wait_for_change(self, since: int, timeout: float) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self._generation != since, timeout=timeout)
            return self._generation

    # -- lifecycle --
    def check(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.OperationalError as err:
            cause = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
            raise StoreUnavailable(
                f"cannot open the store at {redact_url(self.url)}: {cause}",
                hint="check HIL_DATABASE_URL (host, port, user, password, database)",
            ) from None

    def migrate(self) -> None:
        self.check()
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_LOCK_ID})")
            else:
                # A migration that rebuilds a referenced table (SQLite cannot drop a constraint)
                # must not trip the references; the pragma only works outside a transaction.
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
            finally:
                if self.is_sqlite:
                    conn.rollback()
                    conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
                else:
                    conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_LOCK_ID})")
                    conn.commit()

    def dispose(self) -> None:
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self.engine.dispose()


def open_store(url: str | None = None, migrate: bool = True) -> Store:
    store = Store(url or settings.database_url())
    if migrate:
        store.migrate()
    return store
