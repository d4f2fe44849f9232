"""Entry point of the connector (``main.py`` and the ``source-twilio`` console script)."""

from __future__ import annotations

import ctypes
import sys
from typing import Any

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import AirbyteMessage, Type

from source_twilio.preflight import preflight
from source_twilio.source import SourceTwilio

_serialize_with_cdk = AirbyteEntrypoint.airbyte_message_to_string


def serialize(message: AirbyteMessage) -> str:
    """Records are written with their nulls: the CDK's serializer omits every None, also inside record data,
    so a field Twilio sent as null would vanish from the warehouse row instead of arriving as null."""
    if message.type == Type.RECORD and message.record is not None:
        record: dict[str, Any] = {
            "stream": message.record.stream,
            "data": message.record.data,
            "emitted_at": message.record.emitted_at,
        }
        if message.record.namespace is not None:
            record["namespace"] = message.record.namespace
        return orjson.dumps({"type": "RECORD", "record": record}).decode()
    return _serialize_with_cdk(message)


def tune_malloc() -> None:
    """Keep glibc from holding freed page buffers: a few arenas instead of one per thread, and a fixed
    threshold above which buffers go straight back to the system. Without it, peak memory creeps up with
    the volume of data read, not its size at any moment. No-op outside glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_ARENA_MAX, 2)
        libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):
        pass


M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3


def run(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    tune_malloc()
    failure = preflight(args)
    if failure is not None:
        print(failure.message_line, flush=True)
        sys.exit(failure.exit_code)
    AirbyteEntrypoint.airbyte_message_to_string = staticmethod(serialize)  # type: ignore[method-assign]
    launch(SourceTwilio(), args)
