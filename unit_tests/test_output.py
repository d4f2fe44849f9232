"""Records packed into RECORD lines where they are read (``output``): the lines the CDK's own message would give."""

from __future__ import annotations

import orjson
from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

from source_twilio.output import RecordLines, pack_records, serialize_record

RECORDS = [
    {"sid": "SM1", "body": 'caf\u00e9 \u2603 "quoted"\n', "price": -0.02, "error_code": None, "num_media": 0},
    {"sid": "SM2", "nested": {"a": [1, None, {"b": True}]}, "date_sent": None},
    {},
]


def cdk_line(record: dict, emitted_at: int) -> bytes:
    message = AirbyteMessage(
        type=Type.RECORD, record=AirbyteRecordMessage(stream="messages", data=record, emitted_at=emitted_at)
    )
    return serialize_record(message).encode()


def emitted_at_of(lines: RecordLines) -> int:
    return orjson.loads(lines.lines.split(b"\n")[0])["record"]["emitted_at"]


def test_given_records_when_packed_then_each_line_is_the_cdks_record_message_with_its_nulls():
    packed = pack_records("messages")(list(RECORDS))
    assert len(packed) == 1 and isinstance(packed[0], RecordLines)
    lines = packed[0]
    assert lines.count == len(RECORDS)
    emitted_at = emitted_at_of(lines)
    assert lines.lines.split(b"\n") == [cdk_line(record, emitted_at) for record in RECORDS]


def test_given_nothing_when_packed_then_nothing():
    assert pack_records("messages")([]) == []
