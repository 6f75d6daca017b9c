"""Named secrets of one tenant (`hil secrets`), referenced as secret://NAME in definitions, and
the rotation of the key that seals every stored secret."""

from __future__ import annotations

from hil import secrets
from hil.store.audit_repo import AuditRepo
from hil.store.db import Store
from hil.store.scoped import TenantScoped
from hil.store.secret_repo import SecretInfo, SecretRepo, reseal_all

__all__ = ["SecretInfo", "SecretService", "rotate_key"]


class SecretService(TenantScoped):
    def __init__(self, store: Store, tenant: str, *, actor: str = "cli"):
        super().__init__(store, tenant)
        self._repo = SecretRepo(store, tenant)
        self.actor = actor

    def set(self, name: str, value: str) -> SecretInfo:
        info = self._repo.set(name, value)
        AuditRepo(self.store, self.owner).record(self.actor, "secret.set", f"secret {name}")
        return info

    def list_all(self) -> list[SecretInfo]:
        return self._repo.list_all()

    def remove(self, name: str) -> None:
        self._repo.remove(name)
        AuditRepo(self.store, self.owner).record(self.actor, "secret.remove", f"secret {name}")


def rotate_key(store: Store, *, new_file_key: bool) -> int:
    """Seal every stored secret with the current key. With ``new_file_key`` a new key file is made
    first (the old key is kept as a previous one, so nothing is unreadable in between)."""
    if new_file_key:
        secrets.new_key_file()
    return reseal_all(store)
