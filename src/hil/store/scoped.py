"""The one way to say whose data an object works on.

Every repository and every service is built for one tenant and filters by it in one place
(:meth:`TenantScoped.mine`). Working across tenants is possible only where it is asked for by
name, with :data:`ALL_TENANTS` — the workers and approval expiry, which act on each run within
that run's own tenant — and only for classes that allow it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, final

import sqlalchemy as sa

from hil.store.db import Store


@final
class _AllTenants:
    """The explicit cross-tenant scope; there is one instance, :data:`ALL_TENANTS`."""

    def __repr__(self) -> str:
        return "ALL_TENANTS"


ALL_TENANTS: Final = _AllTenants()


class TenantScoped:
    """Base of tenant-scoped repositories and services: ``tenant`` is a tenant id or name, or
    :data:`ALL_TENANTS` for the classes whose ``cross_tenant`` is true."""

    cross_tenant: ClassVar[bool] = False

    def __init__(self, store: Store, tenant: str | _AllTenants):
        if tenant is ALL_TENANTS:
            if not self.cross_tenant:
                raise ValueError(f"{type(self).__name__} works within one tenant; name it")
            self._tenant: str | None = None
        elif isinstance(tenant, str) and tenant:
            self._tenant = tenant
        else:
            raise ValueError(f"{type(self).__name__} needs a tenant (got {tenant!r}); pass ALL_TENANTS "
                             "explicitly for a cross-tenant path")
        self.store = store

    @property
    def tenant(self) -> str | None:
        """The tenant, or None when this object works across tenants."""
        return self._tenant

    @property
    def scope(self) -> str | _AllTenants:
        """What to pass on to another scoped object so it works on the same data."""
        return ALL_TENANTS if self._tenant is None else self._tenant

    @property
    def owner(self) -> str:
        """The tenant that new rows belong to; a cross-tenant object creates nothing."""
        if self._tenant is None:
            raise ValueError(f"{type(self).__name__} across tenants cannot create rows; scope it to a tenant")
        return self._tenant

    def mine(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        """The filter that keeps a query within the tenant (no filter across tenants)."""
        return column == self._tenant if self._tenant is not None else sa.true()
