"""The service layer: the one door to the data for the CLI, the server and the demo.

Each service is built for one tenant (``TenantScoped``) and owns its scoping; the callers above
never touch a repository. ``ALL_TENANTS`` is the explicit cross-tenant path (workers, expiry, the
event hub, readiness); ``DEFAULT_TENANT`` is the CLI's tenant and a keyless loopback server's.
"""

from hil.store.db import Store, open_store
from hil.store.scoped import ALL_TENANTS
from hil.store.tables import DEFAULT_TENANT

__all__ = ["ALL_TENANTS", "DEFAULT_TENANT", "Store", "open_store"]
