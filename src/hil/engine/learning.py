"""What a run may teach the SQL few-shot memory, decided from its event log alone.

A SQL draft a human approved or edited, in a run that finished, is remembered. A user's "this
answer is wrong" removes what the run taught; "this answer is correct" adds it even when nobody
had to approve. "The query returned rows" is never enough.
"""

from __future__ import annotations

from hil.engine.state import RunState

# Decisions nobody looked at: expiry rules ("system:expiry") and blanket approvals ("auto:cli --yes").
AUTOMATIC_DECIDERS = ("system:", "auto:")


def approved_pairs(state: RunState, *, human_only: bool = True) -> list[tuple[str, str]]:
    """(connection, sql) for the SQL step's final draft, when it ran and (if ``human_only``) a
    human approved or edited it, not an expiry rule, a blanket --yes or an auto-approving policy."""
    st = state.steps.get("sql")
    if st is None or not st.finished or not st.drafts or not st.output:
        return []
    last = st.drafts[-1]
    by_human = last.decision in ("approve", "edit") and not str(last.decided_by or "").startswith(AUTOMATIC_DECIDERS)
    if last.failed_with or (human_only and not by_human):
        return []
    content = last.approved_content
    if content.get("write"):  # examples teach reading; a remembered write would invite more writes
        return []
    connection, sql = content.get("connection"), (st.output or {}).get("sql") or content.get("sql")
    return [(str(connection), str(sql))] if connection and sql else []
