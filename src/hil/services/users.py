"""Users and API keys. Tenants are created here, so this is the one service that works across
tenants by nature: it is for the operator of the server (the CLI) and for authenticating a key,
never for an API caller's own requests."""

from __future__ import annotations

from hil.store.auth_repo import LOCAL_ADMIN, ROLES, ApiKey, AuthRepo, Principal, User
from hil.store.db import Store

__all__ = ["LOCAL_ADMIN", "ROLES", "ApiKey", "Principal", "User", "UserService"]


class UserService:
    def __init__(self, store: Store):
        self._repo = AuthRepo(store)

    def add_user(self, name: str, role: str, tenant: str, actor: str = "cli") -> User:
        return self._repo.add_user(name, role, tenant, actor)

    def users(self, tenant: str | None = None) -> list[User]:
        return self._repo.users(tenant)

    def create_key(self, user: str, tenant: str, actor: str = "cli") -> tuple[ApiKey, str]:
        """A new key; its secret is returned once and only its hash is stored."""
        return self._repo.create_key(user, tenant, actor)

    def keys(self, tenant: str | None = None) -> list[ApiKey]:
        return self._repo.keys(tenant)

    def revoke(self, key: str, actor: str = "cli") -> ApiKey:
        return self._repo.revoke(key, actor)

    def tenant_id(self, name: str) -> str:
        return self._repo.tenant_id(name)

    def authenticate(self, secret: str) -> Principal | None:
        return self._repo.authenticate(secret)

    def any_keys(self) -> bool:
        return self._repo.any_keys()
