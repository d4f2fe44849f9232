"""Stream state: for each partition (an account, or an account and a conference Status), the instant up to
which every record of its time filter has been read, and what is needed to tell a changed record from a
record seen before.

``{"version": 1, "cursors": {"AC...": "2026-11-27T10:00:00Z"}}`` - a few dozen bytes per account, no
records inside. A cursor only moves forward, and only when a whole window below it has been emitted.
Usage records have no ``date_updated``: for the days still inside the lookback their values are kept as
short digests under ``"digests"``, so an unchanged usage record is not emitted twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from source_twilio.config import ConfigError
from source_twilio.timeutil import format_datetime, parse_iso_datetime

STATE_VERSION = 1


def partition_key(partition: Mapping[str, Any]) -> str:
    params = partition.get("params") or {}
    suffix = "".join(f"/{name}={value}" for name, value in sorted(params.items()))
    return f"{partition.get('account_sid', '')}{suffix}"


def digest(values: tuple[Any, ...]) -> str:
    return hashlib.blake2b(repr(values).encode(), digest_size=6).hexdigest()


@dataclass
class StreamState:
    cursors: dict[str, datetime] = field(default_factory=dict)
    digests: dict[str, dict[str, str]] = field(default_factory=dict)

    def cursor(self, key: str) -> datetime | None:
        return self.cursors.get(key)

    def advance(self, key: str, to: datetime) -> None:
        current = self.cursors.get(key)
        if current is None or to > current:
            self.cursors[key] = to

    def to_json(self) -> dict[str, Any]:
        if not self.cursors:
            return {}
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "cursors": {key: format_datetime(value) for key, value in sorted(self.cursors.items())},
        }
        if self.digests:
            state["digests"] = {key: dict(sorted(values.items())) for key, values in sorted(self.digests.items())}
        return state

    @classmethod
    def from_json(cls, value: Any, stream_name: str) -> StreamState:
        if value is None or value == {}:
            return cls()
        if not isinstance(value, Mapping):
            raise _unreadable(stream_name, f"it is a {type(value).__name__}, not an object")
        if value.get("version") != STATE_VERSION or not isinstance(value.get("cursors"), Mapping):
            keys = ", ".join(sorted(map(str, value))[:5])
            raise _unreadable(stream_name, f"it has keys {keys or 'none'}, not version {STATE_VERSION} and cursors")
        cursors = {}
        for key, instant in value["cursors"].items():
            parsed = parse_iso_datetime(instant) if isinstance(instant, str) else None
            if parsed is None:
                raise _unreadable(stream_name, f"the cursor of {key} is {instant!r}, not an ISO 8601 instant")
            cursors[str(key)] = parsed
        digests = value.get("digests", {})
        if not isinstance(digests, Mapping) or not all(isinstance(v, Mapping) for v in digests.values()):
            raise _unreadable(stream_name, "its digests are not objects")
        return cls(
            cursors=cursors, digests={str(k): {str(a): str(b) for a, b in v.items()} for k, v in digests.items()}
        )


def _unreadable(stream_name: str, why: str) -> ConfigError:
    return ConfigError(
        f"The saved state of stream {stream_name} is not one this connector can resume from ({why}). "
        "It may be corrupt or written by another connector or an older version. Reset the stream "
        "(Airbyte: Refresh / Reset data) to sync again from start_date."
    )
