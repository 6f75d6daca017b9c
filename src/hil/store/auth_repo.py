"""Tenants, their users and API keys. A key is shown once, when it is created; the store keeps
only its SHA-256, so a copied store cannot be used to sign in."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from hil.errors import ConfigError, NotFound
from hil.store.audit_repo import AuditRepo
from hil.store.db import Store
from hil.store.tables import DEFAULT_TENANT, api_keys, tenants, users

ROLES = ("viewer", "operator", "approver", "admin")  # each role may do what the ones before it may
KEY_PREFIX = "hil_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user of a tenant with a role."""

    tenant: str
    user: str
    role: str

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


LOCAL_ADMIN = Principal(DEFAULT_TENANT, "local", "admin")  # the caller when authentication is off


@dataclass(frozen=True)
class User:
    id: str
    tenant: str
    name: str
    role: str
    created_at: float
    keys: int = 0


@dataclass(frozen=True)
class ApiKey:
    id: str
    prefix: str
    user: str
    tenant: str
    created_at: float
    revoked_at: float | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AuthRepo:
    def __init__(self, store: Store):
        self.store = store

    def _tenant_id(self, conn: sa.Connection, name: str, create: bool) -> str:
        row = conn.execute(sa.select(tenants.c.id).where(tenants.c.name == name)).first()
        if row is not None:
            return str(row.id)
        if not create:
            raise NotFound(f"no tenant named {name!r}", hint="see `hil users list`")
        if not NAME.match(name):
            raise ConfigError(f"tenant name {name!r} is not valid", hint="use letters, digits, '.', '_', '-' and '@'")
        tenant_id = str(uuid.uuid4())
        conn.execute(tenants.insert().values(id=tenant_id, name=name, created_at=time.time()))
        return tenant_id

    def add_user(self, name: str, role: str, tenant: str, actor: str = "cli") -> User:
        if role not in ROLES:
            raise ConfigError(f"unknown role {role!r}", hint=f"roles: {', '.join(ROLES)}")
        if not NAME.match(name):
            raise ConfigError(f"user name {name!r} is not valid", hint="use letters, digits, '.', '_', '-' and '@'")
        with self.store.write() as conn:
            tenant_id = self._tenant_id(conn, tenant, create=True)
            exists = conn.execute(sa.select(users.c.id).where(users.c.tenant_id == tenant_id,
                                                               users.c.name == name)).first()
            if exists is not None:
                raise ConfigError(f"tenant {tenant!r} already has a user {name!r}",
                                  hint="create another key for them with `hil keys create`")
            user_id = str(uuid.uuid4())
            now = time.time()
            conn.execute(users.insert().values(id=user_id, tenant_id=tenant_id, name=name, role=role, created_at=now))
            AuditRepo(self.store, tenant_id).append(conn, actor, "user.add", f"user {name}", {"role": role})
        return User(user_id, tenant, name, role, now)

    def users(self, tenant: str | None = None) -> list[User]:
        live = sa.func.sum(sa.case((api_keys.c.id.is_not(None) & api_keys.c.revoked_at.is_(None), 1), else_=0))
        q = (sa.select(users, tenants.c.name.label("tenant_name"), live.label("keys"))
             .join(tenants, tenants.c.id == users.c.tenant_id)
             .outerjoin(api_keys, api_keys.c.user_id == users.c.id)
             .group_by(users.c.id, tenants.c.name).order_by(tenants.c.name, users.c.name))
        if tenant:
            q = q.where(tenants.c.name == tenant)
        with self.store.read() as conn:
            return [User(r.id, r.tenant_name, r.name, r.role, r.created_at, int(r.keys or 0)) for r in conn.execute(q)]

    def create_key(self, user: str, tenant: str, actor: str = "cli") -> tuple[ApiKey, str]:
        """A new key for ``user``; returns it with its secret, which is never stored."""
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        with self.store.write() as conn:
            tenant_id = self._tenant_id(conn, tenant, create=False)
            row = conn.execute(sa.select(users.c.id).where(users.c.tenant_id == tenant_id,
                                                            users.c.name == user)).first()
            if row is None:
                raise NotFound(f"tenant {tenant!r} has no user {user!r}",
                               hint=f"add them with `hil users add {user} --role operator --tenant {tenant}`")
            key = ApiKey(str(uuid.uuid4()), secret[:12], user, tenant, time.time(), None)
            conn.execute(api_keys.insert().values(id=key.id, user_id=row.id, prefix=key.prefix,
                                                  key_hash=_hash(secret), created_at=key.created_at))
            AuditRepo(self.store, tenant_id).append(conn, actor, "key.create", f"user {user}",
                                                    {"key_id": key.id, "prefix": key.prefix})
        return key, secret

    def keys(self, tenant: str | None = None) -> list[ApiKey]:
        q = (sa.select(api_keys, users.c.name.label("user_name"), tenants.c.name.label("tenant_name"))
             .join(users, users.c.id == api_keys.c.user_id).join(tenants, tenants.c.id == users.c.tenant_id)
             .order_by(api_keys.c.created_at))
        if tenant:
            q = q.where(tenants.c.name == tenant)
        with self.store.read() as conn:
            return [ApiKey(r.id, r.prefix, r.user_name, r.tenant_name, r.created_at, r.revoked_at)
                    for r in conn.execute(q)]

    def revoke(self, key: str, actor: str = "cli") -> ApiKey:
        """Revoke a key named by its id, its prefix (as listed) or the key itself."""
        with self.store.write() as conn:
            by_id = api_keys.c.id.startswith(key) if len(key) >= 8 else api_keys.c.id == key
            rows = conn.execute(sa.select(api_keys.c.id).where(sa.or_(
                by_id, api_keys.c.prefix == key, api_keys.c.key_hash == _hash(key)))).all()
            if len(rows) != 1:
                raise NotFound(f"{'several keys match' if rows else 'no key matches'} {key!r}",
                               hint="see `hil keys list`; give the key's id")
            changed = conn.execute(api_keys.update().where(api_keys.c.id == rows[0].id, api_keys.c.revoked_at.is_(None))
                                   .values(revoked_at=time.time())).rowcount
            if changed:
                owner = conn.execute(sa.select(users.c.tenant_id, users.c.name).join(
                    api_keys, api_keys.c.user_id == users.c.id).where(api_keys.c.id == rows[0].id)).one()
                AuditRepo(self.store, owner.tenant_id).append(conn, actor, "key.revoke", f"user {owner.name}",
                                                              {"key_id": rows[0].id})
        return next(k for k in self.keys() if k.id == rows[0].id)

    def authenticate(self, secret: str) -> Principal | None:
        q = (sa.select(users.c.name, users.c.role, users.c.tenant_id)
             .join(api_keys, api_keys.c.user_id == users.c.id)
             .where(api_keys.c.key_hash == _hash(secret), api_keys.c.revoked_at.is_(None)))
        with self.store.read() as conn:
            row = conn.execute(q).first()
        return Principal(row.tenant_id, row.name, row.role) if row else None

    def tenant_id(self, name: str) -> str:
        """The id of the tenant named ``name`` (404 when there is none)."""
        with self.store.read() as conn:
            return self._tenant_id(conn, name, create=False)

    def tenant_name(self, tenant_id: str) -> str:
        """The tenant's name (its data folder is named after it); the id itself for a tenant with no row."""
        with self.store.read() as conn:
            name = conn.execute(sa.select(tenants.c.name).where(tenants.c.id == tenant_id)).scalar()
        return str(name) if name else tenant_id

    def any_keys(self) -> bool:
        with self.store.read() as conn:
            return conn.execute(sa.select(api_keys.c.id).where(api_keys.c.revoked_at.is_(None)).limit(1)).first() is not None
