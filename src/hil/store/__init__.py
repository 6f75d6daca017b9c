"""The store: tables, migrations, repositories. One engine per process, one writer at a time."""

from hil.store.db import Store, open_store

__all__ = ["Store", "open_store"]
