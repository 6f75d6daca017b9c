"""What is particular to HTTP in how resources are shown: opaque page cursors, and 409 for a
name already taken. The shapes of runs, approvals and workflows are the services' projections."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

from hil.errors import Conflict, InvalidRequest, NotFound
from hil.services.runs import Run


# -- cursors: opaque to clients, (created_at, id) of the last run of a page --
def encode_cursor(run: Run) -> str:
    return base64.urlsafe_b64encode(json.dumps([run.created_at, run.id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        at, run_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return float(at), str(run_id)
    except (ValueError, TypeError):
        raise InvalidRequest("the cursor is not valid", hint="pass next_cursor from the previous page unchanged",
                             details={"errors": [{"loc": "query.cursor", "msg": "not a cursor from this API"}]}) from None


def refuse_taken(lookup: Callable[[], object], message: str, hint: str | None = None) -> None:
    """Creating by name: 409 when ``lookup`` finds the name already used in the caller's tenant."""
    try:
        lookup()
    except NotFound:
        return
    raise Conflict(message, hint=hint)
