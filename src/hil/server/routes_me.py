"""Who the caller is: what a client asks right after sign-in, to show only what the role may do."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hil.server.deps import State, Viewer
from hil.server.schemas import MeOut, errors
from hil.services.users import UserService

router = APIRouter(tags=["auth"])


@router.get("/me", response_model=MeOut, responses=errors(401))
def me(who: Viewer, state: State) -> dict[str, Any]:
    """The caller: user, role, tenant, whether the server authenticates callers, and what the role may
    do. Without authentication (a loopback server) every caller is the local admin."""
    return UserService(state.store).whoami(who, auth=state.auth)
