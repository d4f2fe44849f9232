"""Stream state: per partition (account, conference Status), the instant up to which every record was read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STATE_VERSION = 1


@dataclass
class StreamState:
    cursors: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "cursors": dict(self.cursors)} if self.cursors else {}

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None, stream_name: str) -> StreamState:
        if not value:
            return cls()
        return cls(cursors=dict(value.get("cursors", {})))
