"""A bounded, thread-safe least-recently-used map: what a long-lived process keeps per database,
collection or server, so that a server with many of them does not grow without limit.

The bound is read when an entry is added (``bound`` is a callable, so a setting changed at run
time takes effect at the next entry). An entry pushed out is handed to ``on_evict``: a cache of
open resources closes them there."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    def __init__(self, bound: Callable[[], int], on_evict: Callable[[K, V], None] | None = None):
        self._bound = bound
        self._on_evict = on_evict
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The entry, now the most recently used; None when absent."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        """Add or replace an entry; the least recently used go while there are more than the bound
        (at least one entry is kept: the one just added). A replaced entry is evicted too."""
        evicted: list[tuple[K, V]] = []
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None and old is not value:
                evicted.append((key, old))
            self._items[key] = value
            while len(self._items) > max(1, self._bound()):
                evicted.append(self._items.popitem(last=False))
        for k, v in evicted:  # outside the lock: closing a resource may take a while
            if self._on_evict is not None:
                self._on_evict(k, v)

    def pop(self, key: K) -> V | None:
        with self._lock:
            return self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            evicted = list(self._items.items())
            self._items.clear()
        for k, v in evicted:
            if self._on_evict is not None:
                self._on_evict(k, v)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        """The keys, least recently used first (a snapshot)."""
        with self._lock:
            return iter(list(self._items))
