"""What every route needs: the store and the caller. The caller comes from the API key (or is the
local admin when authentication is off), and a route states the least role it needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from hil.errors import Forbidden, Unauthorized
from hil.server.hub import EventHub
from hil.services import Store
from hil.services.users import LOCAL_ADMIN, Principal, UserService

_bearer = HTTPBearer(auto_error=False, description="An API key from `hil keys create`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The same key, for clients without bearer.")


@dataclass
class ServerState:
    store: Store
    hub: EventHub
    auth: bool  # False only on loopback: every caller is the local admin
    heartbeat_seconds: float = 15.0
    recheck_seconds: float = 2.0  # how often an open event stream re-checks its caller's key


def server(request: Request) -> ServerState:
    state: ServerState = request.app.state.hil
    return state


def api_key(bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
            header: Annotated[str | None, Depends(_header)]) -> str | None:
    return bearer.credentials if bearer else header


def caller(request: Request, key: Annotated[str | None, Depends(api_key)]) -> Principal:
    state = server(request)
    if not state.auth:
        return LOCAL_ADMIN
    if not key:
        raise Unauthorized("this server needs an API key", hint="send `Authorization: Bearer KEY`; "
                           "create a key with `hil keys create USER`")
    principal = UserService(state.store).authenticate(key)
    if principal is None:
        raise Unauthorized("the API key is unknown or revoked", hint="create a new one with `hil keys create USER`")
    return principal


def role(least: str) -> Callable[[Principal], Principal]:
    def check(who: Annotated[Principal, Depends(caller)]) -> Principal:
        if not who.may(least):
            raise Forbidden(f"{who.user} is a {who.role}; this needs the {least} role or higher",
                            hint="ask an admin of your tenant for the role")
        return who
    return check


def still_allowed(state: ServerState, key: str | None, who: Principal, least: str) -> Callable[[], str | None]:
    """For a long-lived response (an event stream): a check that says why the caller may no longer
    read (the key was revoked, the user moved or lost the role), or None while they still may."""
    def check() -> str | None:
        if not state.auth:
            return None
        now = UserService(state.store).authenticate(key) if key else None
        if now is None:
            return "the API key was revoked"
        if now.tenant != who.tenant or not now.may(least):
            return f"{now.user} may no longer read this stream"
        return None
    return check


Viewer = Annotated[Principal, Depends(role("viewer"))]
Operator = Annotated[Principal, Depends(role("operator"))]
Approver = Annotated[Principal, Depends(role("approver"))]
Admin = Annotated[Principal, Depends(role("admin"))]
State = Annotated[ServerState, Depends(server)]
ApiKey = Annotated[str | None, Depends(api_key)]
