"""Deadline escalation shared by every kind of row that climbs a ladder of steps when nobody
acts in time (an incident nobody answers, a CLA who misses a check-in).

Such a row carries two columns: a count of steps taken (`escalations`) and when the next one
falls due (`next_escalation_at`, NULL for none). A worker task polls the indexed due column
and takes each due step with `claim()`: one conditional UPDATE that moves the pair from the
state the step was planned from to the next one. Whoever changes exactly one row took the
step; everyone else (a second worker, a restart replaying the pass, a user's action that
changed the plan meanwhile) changes nothing and moves on. Call it inside the transaction
that records the step and queues its notifications, so the step and its messages commit
together or not at all: nothing doubled, nothing lost.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from django.db.models import Model, Q

logger = logging.getLogger(__name__)


def claim(
    model: type[Model],
    pk: int,
    *,
    taken: int,
    due_at: datetime,
    following: datetime | None,
    still: Q | None = None,
) -> bool:
    """Move row `pk` from (`taken`, `due_at`) to (`taken` + 1, `following`), if it is still in
    that state and matches `still` (e.g. still open); True when this call did it."""
    rows = model._default_manager.filter(pk=pk, escalations=taken, next_escalation_at=due_at)
    if still is not None:
        rows = rows.filter(still)
    return rows.update(escalations=taken + 1, next_escalation_at=following) == 1


def drop_plan(model: type[Model], pk: int, *, taken: int, due_at: datetime) -> None:
    """Forget a planned step that can no longer be taken (its ladder lost steps), so the row
    is not read again on every pass, forever; only if nobody changed the plan meanwhile."""
    model._default_manager.filter(pk=pk, escalations=taken, next_escalation_at=due_at).update(
        next_escalation_at=None
    )


def take_due(
    due_ids: Callable[[int], Iterable[int]],
    take: Callable[[int], bool],
    *,
    limit: int,
    label: str,
) -> int:
    """Take every due step, at most `limit`; returns how many this call took.

    `due_ids(n)` lists up to n rows whose step is due, oldest first; `take(pk)` takes one and
    says whether it did. A step due at the same time as the one before is taken in the same
    pass. One row failing is logged and skipped: it never stops the others.
    """
    taken = 0
    while taken < limit:
        due = list(due_ids(limit - taken))
        if not due:
            break
        progress = 0
        for pk in due:
            try:
                progress += bool(take(pk))
            except Exception:
                logger.exception("escalating %s %s failed", label, pk)
        if progress == 0:
            break  # what is left is being taken by another worker, or keeps failing
        taken += progress
    return taken
