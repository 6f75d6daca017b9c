"""A tamper-evident audit log.

Each tenant's records form a hash chain (``hil.hashing.chain_hash``): record n holds the hash of
record n-1, so an edited record, a deleted one or two swapped ones break the chain at that point.
A chain can still be cut short, or rebuilt whole by someone who can write the store. So after
every approval decision (and on ``hil audit checkpoint``) the chain's size and head hash are
signed with a key that is not in the store (``HIL_AUDIT_KEY``, else ``$HIL_HOME/audit.key``) and
appended to a checkpoint file outside the store (``HIL_AUDIT_CHECKPOINTS``) — in the manner of
Certificate Transparency's signed tree heads. Verification checks the chain and that it still
holds the last checkpoint: the same hash at the same size, so truncation and rewriting show too.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hil import settings
from hil.hashing import GENESIS, chain_hash
from hil.store.audit_repo import AuditRecord, AuditRepo

_lock = threading.Lock()
_file_keys: dict[Path, bytes] = {}  # a key file, read once: a decision signs a checkpoint every time


@dataclass(frozen=True)
class Checkpoint:
    tenant_id: str
    size: int
    head: str
    ts: float
    mac: str

    def signed(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "size": self.size, "head": self.head, "ts": self.ts}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    records: int
    message: str
    first_bad: int | None = None  # the seq of the first record that does not hold
    checkpoint: int | None = None  # the size of the checkpoint checked against

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "records": self.records, "message": self.message, "first_bad": self.first_bad,
                "checkpoint": self.checkpoint}


def _key() -> bytes:
    env = os.environ.get("HIL_AUDIT_KEY")
    if env:
        return env.encode()
    path = _path(settings.get_str("HIL_HOME"), "audit.key")
    known = _file_keys.get(path)
    if known is not None and os.path.exists(path):  # a home folder removed and made again gets a new key
        return known
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(32).hex().encode())
        _file_keys[path] = path.read_bytes().strip()
        return _file_keys[path]


@functools.lru_cache(maxsize=16)
def _path(folder: str, name: str = "") -> Path:
    """``folder/name`` with ``~`` expanded, worked out once (a decision signs a checkpoint every time)."""
    return Path(folder).expanduser() / name


def checkpoints_file() -> Path:
    configured = settings.get_str("HIL_AUDIT_CHECKPOINTS")
    return _path(configured) if configured else _path(settings.get_str("HIL_HOME"), "audit/checkpoints.jsonl")


def _mac(body: dict[str, Any]) -> str:
    return hmac.new(_key(), json.dumps(body, sort_keys=True).encode(), hashlib.sha256).hexdigest()


def checkpoint(repo: AuditRepo, last: AuditRecord | None = None) -> Checkpoint:
    """Sign the chain's size and head into the checkpoint file (append-only): the store's current
    head, or the chain up to ``last``, a record just appended (a prefix of the chain is a head too)."""
    size, head = (last.seq, last.hash) if last is not None else repo.head()
    body: dict[str, Any] = {"tenant_id": repo.owner, "size": size, "head": head, "ts": round(time.time(), 6)}
    cp = Checkpoint(**body, mac=_mac(body))
    line = (json.dumps({**body, "mac": cp.mac}) + "\n").encode()
    path = checkpoints_file()
    with _lock:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the first checkpoint: its folder is made once, not on every decision
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)  # one write of one line to a file opened to append: lines never interleave
        finally:
            os.close(fd)
    return cp


def last_checkpoint(tenant_id: str) -> Checkpoint | None:
    """The newest checkpoint of the tenant whose signature holds (a forged line is ignored)."""
    path = checkpoints_file()
    if not path.exists():
        return None
    found = None
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
            cp = Checkpoint(str(data["tenant_id"]), int(data["size"]), str(data["head"]), float(data["ts"]),
                            str(data["mac"]))
        except (ValueError, KeyError, TypeError):
            continue
        if cp.tenant_id == tenant_id and hmac.compare_digest(cp.mac, _mac(cp.signed())):
            found = cp if found is None or cp.size >= found.size else found
    return found


def verify_records(records: list[AuditRecord], cp: Checkpoint | None) -> Verdict:
    """Check a chain (as stored, in seq order) and that it holds the checkpoint."""
    prev, expected, at_checkpoint = GENESIS, 1, None
    for r in records:
        if r.seq != expected:
            return Verdict(False, len(records), f"record {expected} is missing (deleted, or the records were "
                           "renumbered)", expected)
        if r.prev_hash != prev:
            return Verdict(False, len(records), f"record {r.seq} does not follow record {r.seq - 1} (moved, or an "
                           "earlier record was changed)", r.seq)
        if chain_hash(prev, r.chained()) != r.hash:
            return Verdict(False, len(records), f"record {r.seq} was changed after it was written", r.seq)
        prev, expected = r.hash, expected + 1
        if cp is not None and r.seq == cp.size:
            at_checkpoint = r.hash
    size = expected - 1
    if cp is not None:
        if size < cp.size:
            return Verdict(False, size, f"the log ends at record {size} but a signed checkpoint saw {cp.size} "
                           "records: the tail was removed", size + 1, cp.size)
        if cp.size and at_checkpoint != cp.head:
            return Verdict(False, size, f"the first {cp.size} records differ from the signed checkpoint (the log was "
                           "rewritten)", cp.size, cp.size)
    note = f"; it holds the checkpoint of {cp.size} records" if cp else "; no checkpoint yet"
    return Verdict(True, size, f"{size} records, chain intact{note}", None, cp.size if cp else None)


def verify(repo: AuditRepo) -> Verdict:
    return verify_records(repo.records(), last_checkpoint(repo.owner))
