"""A parent's list read once per sync, when its child stream is read too.

A child stream (a message's media, a conference's participants) finds its parents by reading the parent's
lists, request for request as the parent stream reads them. When both are in the catalog, the parent is read
first (``parents_first``) and keeps, for each request of a slice it read to the end, the records that can have
children; the child's slice that would make the same request (same partition, window or sweep, probe or not)
takes them instead. A slice whose requests differ (the two streams' cursors apart) reads the list itself, so
sharing never changes what is emitted, only how often a page is fetched.

What is kept waits on disk (an unlinked temporary file, gone when the process ends however it ends), compressed,
so memory does not grow with the history of a first sync; only the index of slices stays in memory.
"""

from __future__ import annotations

import tempfile
import threading
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from airbyte_cdk.models import ConfiguredAirbyteCatalog

from source_twilio.definitions import BY_NAME, ChildOf

Record = Mapping[str, Any]
CHUNK = 100  # records compressed together: a child stream takes a long slice in parts of this many parents


class TooLong(Exception):
    """The kept outcome of a probe whose range did not fit in one page."""


def parents_first(catalog: ConfiguredAirbyteCatalog) -> ConfiguredAirbyteCatalog:
    """The catalog in its own order, except that a child stream comes right after its parent when both are in it."""
    names = [configured.stream.name for configured in catalog.streams]

    def place(index: int) -> tuple[int, int]:
        child_of = _child_of(names[index])
        if child_of is not None and child_of.parent in names:
            return names.index(child_of.parent), 1 + index
        return index, 0

    catalog.streams = [catalog.streams[i] for i in sorted(range(len(names)), key=place)]
    return catalog


def _child_of(name: str) -> ChildOf | None:
    definition = BY_NAME.get(name)
    return definition.child_of if definition else None


@dataclass
class _Kept:
    chunks: list[tuple[int, int]] = field(default_factory=list)  # offset and length in the file
    too_long: bool = False
    takers: int = 0  # children yet to take it


class SharedLists:
    """The parents' records kept for the children read later in the sync, by request."""

    def __init__(self, selected: list[str] | None = None) -> None:
        self._children: dict[str, list[ChildOf]] = {}  # parent name -> the children selected with it
        for name in selected or ():
            child_of = _child_of(name)
            if child_of is not None and child_of.parent in (selected or ()):
                self._children.setdefault(child_of.parent, []).append(child_of)
        self._kept: dict[tuple[str, str], _Kept] = {}
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()

    def keeper(self, parent: str, request: str, partition_params: Mapping[str, str]) -> Keeper | None:
        """Where the parent's slice keeps its records, or None when no child selected will make the same request."""
        wanting = [
            child_of
            for child_of in self._children.get(parent, ())
            if child_of.parent_partitions is None or dict(partition_params) in child_of.parent_partitions
        ]
        return Keeper(self, (parent, request), wanting) if wanting else None

    def parts(self, parent: str, request: str) -> int:
        """In how many parts the records kept for this request can be taken (one per chunk; 0: none kept)."""
        with self._lock:
            kept = self._kept.get((parent, request))
            return 0 if kept is None or kept.too_long else len(kept.chunks)

    def take(self, parent: str, request: str, part: int | None = None) -> Iterator[Record] | None:
        """The records kept for this request (let go once every child took them), or only its ``part`` of ``parts``
        (kept until the sync ends: parts are read ahead in any order); ``TooLong`` for a probe that did not fit;
        None when nothing was kept."""
        with self._lock:
            kept = self._kept.get((parent, request))
            if kept is None:
                return None
            if part is None:
                kept.takers -= 1
                if kept.takers <= 0:
                    del self._kept[(parent, request)]
        if kept.too_long:
            raise TooLong
        return self._records(kept.chunks if part is None else kept.chunks[part : part + 1])

    def close(self) -> None:
        with self._lock:
            self._kept.clear()
            if self._file is not None:
                self._file.close()
                self._file = None

    def write_chunk(self, records: list[Record]) -> tuple[int, int]:
        data = zlib.compress(orjson.dumps(records), 1)
        with self._lock:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="source-twilio-")  # noqa: SIM115 (closed by close())
            offset = self._file.seek(0, 2)
            self._file.write(data)
        return offset, len(data)

    def _read(self, offset: int, length: int) -> list[Record]:
        with self._lock:
            assert self._file is not None
            self._file.seek(offset)
            data = self._file.read(length)
        return orjson.loads(zlib.decompress(data))

    def _records(self, chunks: list[tuple[int, int]]) -> Iterator[Record]:
        for offset, length in chunks:
            yield from self._read(offset, length)

    def store(self, key: tuple[str, str], kept: _Kept) -> None:
        with self._lock:
            self._kept[key] = kept


class Keeper:
    """One slice of a parent: the records any selected child would expand, kept once the slice is read whole."""

    def __init__(self, shared: SharedLists, key: tuple[str, str], children: list[ChildOf]) -> None:
        self._shared = shared
        self._key = key
        self._children = children
        self._buffer: list[Record] = []
        self._kept = _Kept(takers=len(children))

    def add(self, record: Record) -> None:
        if any(child_of.has_children(record) for child_of in self._children):
            self._buffer.append(record)
            if len(self._buffer) >= CHUNK:
                self._flush()

    def finish(self) -> None:
        """The slice was read to its end: its records are there for the children."""
        self._flush()
        self._shared.store(self._key, self._kept)

    def too_long(self) -> None:
        self._kept = _Kept(too_long=True, takers=self._kept.takers)
        self._shared.store(self._key, self._kept)

    def _flush(self) -> None:
        if self._buffer:
            self._kept.chunks.append(self._shared.write_chunk(self._buffer))
            self._buffer = []
