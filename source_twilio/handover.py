"""A slice's records between the worker that reads them and the thread that emits them.

The CDK emits slices in order, so a slice read ahead waits for the ones before it. With only a small queue between
them, a worker reading ahead stopped after a few hundred records: a first sync's one pass over each account's
messages was read one account after another, the others waiting for the CDK with their allowance idle. Here the
first ``IN_MEMORY`` chunks wait in memory as before; later ones are written to an unlinked temporary file, up to
``ON_DISK_BYTES`` per slice, and read back in order when their turn comes. Memory stays what it was, and a slice
read ahead is held up only once it has that much waiting on disk.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import threading
from collections import deque
from dataclasses import dataclass
from typing import IO, Any

from source_twilio.workers import POLL_SECONDS, Cancelled, raise_if_stopping

IN_MEMORY = 2  # chunks: with the page being read, what a slice read ahead holds in memory
ON_DISK_BYTES = 64 * 2**20  # per slice, once IN_MEMORY is full


@dataclass(frozen=True)
class _OnDisk:
    offset: int
    length: int


class Handover:
    """Items handed over in order from one producing thread to one consuming thread: chunks (lists), which may wait
    on disk, and any other item (an end marker, an error), which waits in memory."""

    def __init__(self, cancelled: threading.Event) -> None:
        self._cancelled = cancelled
        self._items: deque[Any] = deque()
        self._in_memory = 0  # chunks among the items
        self._changed = threading.Condition()
        self._file: IO[bytes] | None = None
        self._written = 0  # bytes in the file
        self._file_lock = threading.Lock()  # the file is written by the producer, read and closed by the consumer

    def put(self, item: Any) -> None:
        """Hands ``item`` over; waits only while both memory and disk are full. ``Cancelled`` once cancelled."""
        spill = isinstance(item, list)
        with self._changed:
            while True:
                if self._cancelled.is_set():
                    raise Cancelled
                if not spill or self._in_memory < IN_MEMORY:
                    self._items.append(item)
                    self._in_memory += spill
                    self._changed.notify_all()
                    return
                if self._written < ON_DISK_BYTES:
                    break
                self._changed.wait(POLL_SECONDS)
        on_disk = self._write(pickle.dumps(item, pickle.HIGHEST_PROTOCOL))
        with self._changed:
            self._items.append(on_disk)
            self._changed.notify_all()

    def get(self) -> Any:
        """The next item, waiting for it; ``Cancelled`` if the producer stopped without handing more over."""
        with self._changed:
            while not self._items:
                raise_if_stopping()
                if self._cancelled.is_set():
                    raise Cancelled
                self._changed.wait(POLL_SECONDS)
            item = self._items.popleft()
            if isinstance(item, list):
                self._in_memory -= 1
                self._changed.notify_all()
        return self._read(item) if isinstance(item, _OnDisk) else item

    def close(self) -> None:
        """Frees the file (the producer's later puts raise ``Cancelled``: its task is cancelled first)."""
        with self._file_lock:
            if self._file is not None:
                self._file.close()
                self._file = None
        with self._changed:
            self._changed.notify_all()

    def _write(self, data: bytes) -> _OnDisk:
        with self._file_lock:
            if self._cancelled.is_set():
                raise Cancelled
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="source-twilio-")  # noqa: SIM115 (closed by close())
            offset = self._written
            os.pwrite(self._file.fileno(), data, offset)
            self._written += len(data)
        return _OnDisk(offset, len(data))

    def _read(self, on_disk: _OnDisk) -> Any:
        with self._file_lock:
            if self._file is None:
                raise Cancelled
            data = os.pread(self._file.fileno(), on_disk.length, on_disk.offset)
        return pickle.loads(data)
