"""Eventual consistency: what list endpoints show while some writes are still pending.

Twilio's lists are eventually consistent: a record written at T may only be listed seconds later,
and a changed record may still be listed in its old version for a while. :class:`Visibility` keeps
the truth (every write, at once) and, for each scope some pending write touched, the collection the
lists show instead: the state before the pending writes, plus whatever has since come due. A scope
with nothing pending is listed straight from the truth, so without lag nothing is copied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .store import Collection, Row

Scope = tuple[str, str | None]
"""(account SID, parent id or None): where a collection hangs."""


@dataclass
class _Lagging:
    """One scope whose listed state trails the truth: what is listed, and when each pending ident shows."""

    shown: Collection
    due: dict[str, float] = field(default_factory=dict)


class Visibility:
    """The truth (``truth[stream][scope]``) and what lists show of it. Not thread-safe: hold the dataset's lock."""

    def __init__(self, truth: dict[str, dict[Scope, Collection]]) -> None:
        self._truth = truth
        self._lagging: dict[tuple[str, Scope], _Lagging] = {}
        self._next_due: float | None = None

    @property
    def pending(self) -> int:
        """How many written rows lists do not show in their latest version yet."""
        return sum(len(lagging.due) for lagging in self._lagging.values())

    def shown(self, stream: str, scope: Scope) -> Collection | None:
        """The collection lists serve for ``scope``: the truth unless some write there is pending."""
        lagging = self._lagging.get((stream, scope))
        return lagging.shown if lagging is not None else self._truth[stream].get(scope)

    def scopes(self, stream: str) -> list[tuple[Scope, Collection]]:
        """Every scope of ``stream`` with the collection lists serve for it."""
        lagging = self._lagging
        return [
            (scope, lagging[(stream, scope)].shown if (stream, scope) in lagging else collection)
            for scope, collection in self._truth[stream].items()
        ]

    def put(self, stream: str, scope: Scope, rows: Iterable[Row], due: float | None) -> None:
        """Write ``rows`` (new or replacing rows of the same ident) into the truth.

        ``due=None`` lists them at once; otherwise lists keep showing what they showed before until
        the clock reaches ``due`` (a later pending write of the same row postpones it).
        """
        rows = list(rows)
        if not rows:
            return
        truth = self._truth[stream]
        key = (stream, scope)
        collection = truth.get(scope)
        lagging = self._lagging.get(key)
        if collection is None:  # a new scope (never lagging yet): one sort, not one insert per row
            truth[scope] = Collection(rows)
            if due is not None:
                self._lagging[key] = _Lagging(Collection())
                self._note(self._lagging[key], rows, due)
            return
        if due is not None and lagging is None:
            lagging = self._lagging[key] = _Lagging(collection.copy())  # the listed state from before this write
        for row in rows:
            collection.put(row)
        if lagging is not None:
            self._note(lagging, rows, due)
            if not lagging.due:
                del self._lagging[key]

    def _note(self, lagging: _Lagging, rows: Iterable[Row], due: float | None) -> None:
        for row in rows:
            if due is None:  # written for all to see: it supersedes any pending version of the row
                lagging.due.pop(row.ident, None)
                lagging.shown.put(row)
            else:
                lagging.due[row.ident] = due
        if due is not None and (self._next_due is None or due < self._next_due):
            self._next_due = due

    def reveal_due(self, now: float) -> int:
        """List every pending write whose time has come; return how many rows that was."""
        if self._next_due is None or now < self._next_due:
            return 0
        revealed = 0
        for key, lagging in list(self._lagging.items()):
            due_now = [ident for ident, due in lagging.due.items() if due <= now]
            if not due_now:
                continue
            revealed += len(due_now)
            if len(due_now) == len(lagging.due):
                del self._lagging[key]  # nothing left pending: the scope is listed from the truth again
                continue
            truth = self._truth[key[0]][key[1]]
            for ident in due_now:
                del lagging.due[ident]
                row = truth.get(ident)
                if row is not None:
                    lagging.shown.put(row)
        dues = [due for lagging in self._lagging.values() for due in lagging.due.values()]
        self._next_due = min(dues) if dues else None
        return revealed

    def reveal_all(self) -> int:
        """List every pending write at once; return how many rows that was."""
        revealed = self.pending
        self._lagging.clear()
        self._next_due = None
        return revealed
