"""Users and API keys. Tenants are created here, so this is the one service that works across
tenants by nature: it is for the operator of the server (the CLI) and for authenticating a key,
never for an API caller's own requests."""

from __future__ import annotations

from typing import Any

from hil.store.auth_repo import LOCAL_ADMIN, ROLES, ApiKey, AuthRepo, Principal, User
from hil.store.db import Store

__all__ = ["ABILITIES", "LOCAL_ADMIN", "ROLES", "ApiKey", "Principal", "User", "UserService"]

# What each role may do, by the least role that may: what a client shows or hides for a caller.
ABILITIES = {"read": "viewer", "ask": "operator", "upload": "operator", "feedback": "operator", "cancel": "operator",
             "decide": "approver", "configure": "admin"}


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

    def whoami(self, who: Principal, *, auth: bool) -> dict[str, Any]:
        """The caller as a client needs to know them: name, role, tenant (by name), whether the server
        authenticates callers, and what the role may do (``may``), so no button is offered that the
        server would refuse."""
        return {"user": who.user, "role": who.role, "tenant": self._repo.tenant_name(who.tenant), "auth": auth,
                "roles": list(ROLES), "may": {action: who.may(least) for action, least in ABILITIES.items()}}
