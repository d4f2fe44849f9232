"""Records of one stream under one scope, kept newest first so pages and date ranges are bisections.

A :class:`Row` pairs the wire record (inside an :class:`Item`) with what the server needs to
answer queries without parsing strings: its sort key and the epoch seconds of its time fields.
Rows are replaced, never edited in place, so a record handed out stays as it was served.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Any


@dataclass(frozen=True)
class Item:
    """One record the emulator holds, exactly as it is served.

    ``parent`` names the record it hangs under: the address SID of a dependent phone number,
    the conference SID of a participant, the message SID of a media item, the country code of an
    available phone number; ``None`` for top-level records. Treat ``record`` as read-only.
    """

    account_sid: str
    record: dict[str, Any]
    parent: str | None = None


class Row:
    """An item plus its position and pre-parsed time fields (never edited: replace it instead).

    ``sort_epoch`` orders rows newest first; ``ident`` breaks ties and is what page tokens name
    (the SID, or a natural key for records without one). ``times`` holds the epoch seconds of the
    record's filterable time fields, ``None`` where the record has null.
    """

    __slots__ = ("ident", "item", "key", "sort_epoch", "times")

    def __init__(self, item: Item, ident: str, sort_epoch: int, times: dict[str, int | None] | None = None) -> None:
        self.item = item
        self.ident = ident
        self.sort_epoch = sort_epoch
        self.times = times if times is not None else {}
        self.key = (-sort_epoch, ident)

    @property
    def record(self) -> dict[str, Any]:
        return self.item.record

    def __repr__(self) -> str:
        return f"Row({self.ident!r}, sort_epoch={self.sort_epoch})"


_KEY = attrgetter("key")


class Collection:
    """Rows sorted newest first (``sort_epoch`` descending, then ``ident`` ascending)."""

    def __init__(self, rows: Iterable[Row] = ()) -> None:
        self.rows: list[Row] = sorted(rows, key=_KEY)
        self._keys: list[tuple[int, str]] = [row.key for row in self.rows]
        self._by_ident: dict[str, Row] = {row.ident: row for row in self.rows}
        if len(self._by_ident) != len(self.rows):
            raise ValueError("duplicate idents in one collection")

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def get(self, ident: str) -> Row | None:
        return self._by_ident.get(ident)

    def copy(self) -> Collection:
        """A shallow copy (the rows are shared: they are never edited), without sorting again."""
        clone = Collection()
        clone.rows, clone._keys, clone._by_ident = list(self.rows), list(self._keys), dict(self._by_ident)
        return clone

    def put(self, row: Row) -> None:
        """Add ``row``, or swap it in for the row of the same ident."""
        if row.ident in self._by_ident:
            self.replace(row)
        else:
            self.add(row)

    def add(self, row: Row) -> None:
        if row.ident in self._by_ident:
            raise ValueError(f"{row.ident} is already in the collection")
        index = bisect_left(self._keys, row.key)
        self._keys.insert(index, row.key)
        self.rows.insert(index, row)
        self._by_ident[row.ident] = row

    def remove(self, ident: str) -> Row:
        row = self._by_ident.pop(ident)
        index = bisect_left(self._keys, row.key)
        del self._keys[index]
        del self.rows[index]
        return row

    def replace(self, row: Row) -> Row:
        """Swap in a new version of a row (its position may move); return the old one."""
        old = self.remove(row.ident)
        self.add(row)
        return old

    def span(self, lo_epoch: int | None, hi_epoch: int | None) -> tuple[int, int]:
        """Index range ``[start, end)`` of rows whose ``sort_epoch`` lies in ``[lo_epoch, hi_epoch]``."""
        start = 0 if hi_epoch is None else bisect_left(self._keys, (-hi_epoch,))
        end = len(self._keys) if lo_epoch is None else bisect_left(self._keys, (-lo_epoch + 1,))
        return start, max(start, end)

    def index_after(self, ident: str) -> int | None:
        """Index just past the row named ``ident`` in the current ordering, or None if unknown."""
        row = self._by_ident.get(ident)
        return None if row is None else bisect_right(self._keys, row.key)

    def index_of(self, ident: str) -> int | None:
        """Index of the row named ``ident`` in the current ordering, or None if unknown."""
        row = self._by_ident.get(ident)
        return None if row is None else bisect_left(self._keys, row.key)

    def scan(self, start: int, end: int, keep: Callable[[Row], bool], limit: int) -> list[Row]:
        """Up to ``limit`` rows from ``rows[start:end]`` that pass ``keep``, in order."""
        found: list[Row] = []
        for index in range(start, end):
            row = self.rows[index]
            if keep(row):
                found.append(row)
                if len(found) >= limit:
                    break
        return found

    def scan_backwards(self, start: int, end: int, keep: Callable[[Row], bool], limit: int) -> list[Row]:
        """Up to ``limit`` rows passing ``keep`` that come last in ``rows[start:end]``, in order."""
        found: list[Row] = []
        for index in range(end - 1, start - 1, -1):
            row = self.rows[index]
            if keep(row):
                found.append(row)
                if len(found) >= limit:
                    break
        found.reverse()
        return found
