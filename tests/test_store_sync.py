"""HIL_SQLITE_SYNC: which SQLite commits are synced to disk. With ``milestones`` (the default) a
durable write commits with synchronous=FULL and a run's progress between milestones with NORMAL
(syncing the WAL at the next durable commit syncs every frame before it); ``every`` syncs every
commit; ``off`` none. The writer's level is set when it changes, and always on a connection it has
not set yet."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import ConfigError
from hil.store import open_store

FULL, NORMAL = 2, 1


def _sync_levels(path: Path) -> tuple[int, int, int]:
    """synchronous inside a durable write, inside a progress write, and in a durable write after it."""
    store = open_store(f"sqlite:///{path}")
    try:
        levels = []
        for durable in (True, False, False, True):
            with store.write(durable=durable) as conn:
                levels.append(int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one()))
                conn.exec_driver_sql("UPDATE runs SET last_seq = last_seq WHERE id = 'none'")
        assert levels[1] == levels[2]  # a second progress write keeps the level
        return levels[0], levels[1], levels[3]
    finally:
        store.dispose()


def test_milestones_sync_durable_writes_and_let_progress_ride_on_them(tmp_path: Path) -> None:
    assert _sync_levels(tmp_path / "m.db") == (FULL, NORMAL, FULL)


@pytest.mark.parametrize(("mode", "levels"), [("every", (FULL, FULL, FULL)), ("off", (NORMAL, NORMAL, NORMAL)),
                                              (" Milestones ", (FULL, NORMAL, FULL))])
def test_every_and_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, levels: tuple[int, ...]) -> None:
    monkeypatch.setenv("HIL_SQLITE_SYNC", mode)
    assert _sync_levels(tmp_path / "s.db") == levels


def test_a_progress_write_that_fails_restores_full_sync(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        with pytest.raises(RuntimeError), store.write(durable=False):
            raise RuntimeError("the write fails")
        with store.write() as conn:
            assert int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one()) == FULL
    finally:
        store.dispose()


def test_an_unknown_mode_is_refused_with_the_choices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_SQLITE_SYNC", "sometimes")
    with pytest.raises(ConfigError) as err:
        open_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert "HIL_SQLITE_SYNC is 'sometimes'" in err.value.message
    assert "milestones, every, off" in (err.value.hint or "")
