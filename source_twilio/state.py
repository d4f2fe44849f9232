"""Stream state: for each partition (an account, or an account and a conference Status), the cursor, up to which
every version of every record has been read, and the versions read at or after it (see ``emission``).

``{"version": 2, "cursors": {"AC...": "2026-11-27T10:00:00Z"}, "seen": {"AC...": "<base64>"}}``: a few dozen
bytes per account, plus 6 bytes per record changed in the last minutes before the sync (or, for usage records,
per record inside the lookback). A child stream whose parent counts its children (message media) may also have
``"children": {"AC...": "<base64>"}``: for each parent read in those minutes, its version, how many children it
has and theirs, 7 bytes and 6 per child (see ``emission``). No records inside. A cursor only moves forward, and
only once a whole window below it has been emitted. Version 1 (without ``seen``, with usage ``digests``) is read: its cursors are kept and
its digests dropped, so usage inside the lookback is emitted once more. So is the state Airbyte's own connector
left (``migration``).

The JSON is built once per change, not each time the CDK asks for it (it asks after every record).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson

from source_twilio.config import ConfigError
from source_twilio.migration import EVERY_ACCOUNT, airbyte_cursors
from source_twilio.timeutil import format_datetime, parse_iso_datetime

STATE_VERSION = 2
READABLE_VERSIONS = (1, 2)
VERSION_BYTES = 6


def partition_key(partition: Mapping[str, Any]) -> str:
    """``AC...``, then each query parameter and parent field of the partition: ``AC.../Status=completed``,
    ``AC.../flow_sid=FW...``."""
    params = partition.get("params") or {}
    parents = {name: value for name, value in partition.items() if name not in ("account_sid", "params")}
    suffix = "".join(f"/{name}={value}" for name, value in sorted({**params, **parents}.items()))
    return f"{partition.get('account_sid', '')}{suffix}"


class StreamState:
    """Cursors and remembered versions per partition key. Each entry is written out (formatted, packed) once, when
    it changes, and the size of the whole is kept up to date as entries change: asking for it is free, and the
    JSON is assembled only when a STATE message is written. With a thousand accounts, a slice costs one entry."""

    def __init__(
        self,
        cursors: Mapping[str, datetime] | None = None,
        seen: Mapping[str, Iterable[int]] | None = None,
        children: Mapping[str, Mapping[int, frozenset[int]]] | None = None,
        *,
        every_account: datetime | None = None,
        migrated: bool = False,
    ) -> None:
        """``every_account``: the cursor of an account without its own (Airbyte's one cursor for a stream, or for all
        its accounts); never written: once a partition has read, it has its own. ``migrated``: the cursors are
        Airbyte's, which never read the records whose date is null (see ``migration``)."""
        self._every_account = every_account
        self.migrated = migrated
        self._cursors: dict[str, datetime] = {}
        self._seen: dict[str, frozenset[int]] = {}
        self._children: dict[str, dict[int, frozenset[int]]] = {}
        self._written: dict[str, dict[str, str]] = {"cursors": {}, "seen": {}, "children": {}}  # as in the JSON
        self._size = len(orjson.dumps({"version": STATE_VERSION, "cursors": {}, "seen": {}}))
        self._json: dict[str, Any] | None = None
        for key, moment in (cursors or {}).items():
            self.advance(key, moment)
        for key, versions in (seen or {}).items():
            self.remember(key, versions, replace=True)
        for key, by_parent in (children or {}).items():
            self.remember(key, (), replace=False, children=by_parent)

    def cursor(self, key: str) -> datetime | None:
        """The partition's cursor; for an account without one, ``every_account``."""
        found = self._cursors.get(key)
        return found if found is not None or "/" in key else self._every_account

    def seen(self, key: str) -> frozenset[int]:
        return self._seen.get(key, frozenset())

    def children(self, key: str) -> dict[int, frozenset[int]]:
        """The children of the parents read again, by the parent's version (see ``emission``)."""
        return self._children.get(key, {})

    @property
    def cursors(self) -> dict[str, datetime]:
        return dict(self._cursors)

    def advance(self, key: str, to: datetime) -> None:
        current = self._cursors.get(key)
        if current is None or to > current:
            self._cursors[key] = to
            self._write("cursors", key, format_datetime(to))

    def remember(
        self,
        key: str,
        versions: Iterable[int],
        *,
        replace: bool,
        children: Mapping[int, frozenset[int]] | None = None,
    ) -> None:
        """Add versions (and children by parent version) read for a partition; ``replace`` (its last slice) drops
        those of earlier syncs."""
        kept = frozenset(versions) if replace else self.seen(key) | frozenset(versions)
        self._put("seen", self._seen, key, kept, _pack)
        by_parent = {**({} if replace else self.children(key)), **(children or {})}
        self._put("children", self._children, key, by_parent, _pack_children)

    def _put(self, part: str, entries: dict[str, Any], key: str, value: Any, pack: Callable[[Any], str]) -> None:
        """One partition's entry, set (or dropped, when empty) and written out, if it changed."""
        if value == entries.get(key, type(value)()):
            return
        if value:
            entries[key] = value
        else:
            entries.pop(key, None)
        self._write(part, key, pack(value) if value else None)

    def _write(self, part: str, key: str, text: str | None) -> None:
        entries = self._written[part]
        if key in entries:
            self._size -= _entry_size(key, entries.pop(key))
        if text is not None:
            entries[key] = text
            self._size += _entry_size(key, text)
        self._json = None

    def to_json(self) -> dict[str, Any]:
        if self._json is None:
            self._json = self._build_json()
        return self._json

    @property
    def size(self) -> int:
        """About the bytes of the state as JSON (what one STATE message costs)."""
        return self._size

    def _build_json(self) -> dict[str, Any]:
        cursors, seen, children = (self._written[part] for part in ("cursors", "seen", "children"))
        if not cursors and not seen and not children:
            return {}
        state: dict[str, Any] = {"version": STATE_VERSION, "cursors": dict(sorted(cursors.items()))}
        if seen:
            state["seen"] = dict(sorted(seen.items()))
        if children:
            state["children"] = dict(sorted(children.items()))
        return state

    @classmethod
    def from_json(cls, value: Any, stream_name: str) -> StreamState:
        if value is None or value == {}:
            return cls()
        if not isinstance(value, Mapping):
            raise _unreadable(stream_name, f"it is a {type(value).__name__}, not an object")
        if "version" not in value and (migrated := airbyte_cursors(value, stream_name)) is not None:
            every = migrated.pop(EVERY_ACCOUNT, None)
            return cls(cursors=migrated, every_account=every, migrated=True)
        if value.get("version") not in READABLE_VERSIONS or not isinstance(value.get("cursors"), Mapping):
            keys = ", ".join(sorted(map(str, value))[:5])
            raise _unreadable(stream_name, f"it has keys {keys or 'none'}, not version {STATE_VERSION} and cursors")
        cursors = {}
        for key, instant in value["cursors"].items():
            parsed = parse_iso_datetime(instant) if isinstance(instant, str) else None
            if parsed is None:
                raise _unreadable(stream_name, f"the cursor of {key} is {instant!r}, not an ISO 8601 instant")
            cursors[str(key)] = parsed
        seen, children = value.get("seen", {}), value.get("children", {})
        for name, packed_by_key in (("seen versions", seen), ("children", children)):
            if not isinstance(packed_by_key, Mapping) or not all(isinstance(v, str) for v in packed_by_key.values()):
                raise _unreadable(stream_name, f"its {name} are not strings")
        try:
            versions = {str(key): _unpack(packed) for key, packed in seen.items()}
            by_parent = {str(key): _unpack_children(packed) for key, packed in children.items()}
        except ValueError as error:
            raise _unreadable(stream_name, f"its seen versions or children are not readable ({error})") from None
        return cls(cursors=cursors, seen=versions, children=by_parent)


def _entry_size(key: str, text: str) -> int:
    return len(key) + len(text) + 6  # "key":"text", with quotes, colon and comma


def _pack(versions: frozenset[int]) -> str:
    return base64.b64encode(b"".join(v.to_bytes(VERSION_BYTES, "big") for v in sorted(versions))).decode()


def _unpack(packed: str) -> frozenset[int]:
    return _unpack_raw(base64.b64decode(packed.encode(), validate=True))


def _unpack_raw(raw: bytes) -> frozenset[int]:
    if len(raw) % VERSION_BYTES:
        raise ValueError(f"{len(raw)} bytes is not a whole number of versions")
    return frozenset(int.from_bytes(raw[i : i + VERSION_BYTES], "big") for i in range(0, len(raw), VERSION_BYTES))


MAX_CHILDREN = 255  # of one parent, remembered by its version (one byte counts them); a parent with more is read again


def _pack_children(by_parent: Mapping[int, frozenset[int]]) -> str:
    """Each parent's version, the number of its children, and theirs (a parent with too many is left out)."""
    entries = (
        parent.to_bytes(VERSION_BYTES, "big")
        + len(children).to_bytes(1, "big")
        + b"".join(child.to_bytes(VERSION_BYTES, "big") for child in sorted(children))
        for parent, children in sorted(by_parent.items())
        if len(children) <= MAX_CHILDREN
    )
    return base64.b64encode(b"".join(entries)).decode()


def _unpack_children(packed: str) -> dict[int, frozenset[int]]:
    raw = base64.b64decode(packed.encode(), validate=True)
    by_parent: dict[int, frozenset[int]] = {}
    at = 0
    while at < len(raw):
        count_at = at + VERSION_BYTES
        end = count_at + 1 + raw[count_at] * VERSION_BYTES if count_at < len(raw) else len(raw) + 1
        if end > len(raw):
            raise ValueError(f"the parent at byte {at} is cut short")
        by_parent[int.from_bytes(raw[at:count_at], "big")] = _unpack_raw(raw[count_at + 1 : end])
        at = end
    return by_parent


def _unreadable(stream_name: str, why: str) -> ConfigError:
    return ConfigError(
        f"The saved state of stream {stream_name} is not one this connector can resume from ({why}). "
        "It may be corrupt or written by another connector or an older version. Reset the stream "
        "(Airbyte: Refresh / Reset data) to sync again from start_date."
    )
