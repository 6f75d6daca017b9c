"""Content hashes: one canonical JSON form, so an approval, a workflow version and a client all
compute the same digest for the same content."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def content_hash(data: Any) -> str:
    """SHA-256 of the canonical JSON of ``data``."""
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


GENESIS = "0" * 64  # the hash before a chain's first record


def chain_hash(prev_hash: str, record: dict[str, Any]) -> str:
    """The hash of a chained record: SHA-256 over the previous record's hash and this record's
    canonical JSON, so changing, removing or moving any record changes every hash after it."""
    return hashlib.sha256((prev_hash + "\n" + canonical_json(record)).encode()).hexdigest()
