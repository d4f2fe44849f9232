import json
import logging
import subprocess
import sys
import threading

import pytest
from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

from source_twilio.process import serialize


def test_given_record_with_nulls_when_serialized_then_nulls_are_kept():
    message = AirbyteMessage(
        type=Type.RECORD,
        record=AirbyteRecordMessage(
            stream="messages", data={"sid": "SM1", "date_sent": None, "price": None}, emitted_at=1
        ),
    )
    assert json.loads(serialize(message)) == {
        "type": "RECORD",
        "record": {"stream": "messages", "data": {"sid": "SM1", "date_sent": None, "price": None}, "emitted_at": 1},
    }


LIGHT_THEN_WHOLE = """
import sys
from source_twilio.startup import import_cdk_lightly
import_cdk_lightly()
import airbyte_cdk.sources.streams.http
from airbyte_cdk.models import AirbyteMessageSerializer
print("declarative" if "airbyte_cdk.sources.declarative" in sys.modules else "light")
from airbyte_cdk import DeclarativeStream, launch
print("whole" if callable(launch) and "airbyte_cdk.sources.declarative" in sys.modules else "broken")
"""


def test_given_the_cdk_imported_lightly_when_a_name_of_the_package_is_used_then_the_whole_package_loads():
    completed = subprocess.run(
        [sys.executable, "-c", LIGHT_THEN_WHOLE], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.stdout.split() == ["light", "whole"], completed.stderr[-2000:]


PYDANTIC_V1_THEN_WHOLE = """
import sys
from source_twilio.startup import import_cdk_lightly
import_cdk_lightly()
from pydantic.v1 import BaseModel as FirstVersionModel
print("light" if "pydantic_core" not in sys.modules else "whole")
from pydantic import BaseModel, __version__
class Model(BaseModel):
    count: int
print("whole" if Model(count="2").count == 2 and __version__.startswith("2.") else "broken")
"""


def test_given_pydantic_registered_unrun_when_a_name_of_pydantic_2_is_used_then_the_whole_package_loads():
    completed = subprocess.run(
        [sys.executable, "-c", PYDANTIC_V1_THEN_WHOLE], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.stdout.split() == ["light", "whole"], completed.stderr[-2000:]


def test_given_messages_faster_than_the_flush_interval_when_written_then_the_buffer_never_holds_more_than_its_bound(
    monkeypatch,
):
    """The CDK's print buffer flushes by time only (every 0.1 s): records read back from disk at hundreds of MB a
    second piled up in it, and the connector's peak memory jumped at the end of a sync."""
    from airbyte_cdk.utils.print_buffer import PrintBuffer

    from source_twilio import process

    written: list[str] = []
    buffer = PrintBuffer(flush_interval=3600)
    monkeypatch.setattr(process, "PRINT_BUFFER", buffer)
    monkeypatch.setattr(sys, "__stdout__", type("Out", (), {"write": written.append, "flush": lambda self: None})())
    held: list[int] = []
    line = "x" * 100_000

    def messages():
        for _ in range(50):
            held.append(buffer.buffer.tell())
            yield line

    process.write_messages(messages())
    buffer.flush()  # as leaving the buffer does
    assert max(held) <= process.FLUSH_CHARS
    assert "".join(written) == (line + "\n") * 50


def test_given_a_worker_logging_while_messages_are_written_then_every_line_stays_whole(monkeypatch):
    """The suite found it: a worker's log line landed between a record and its newline, and the line was not JSON."""
    from airbyte_cdk.utils.print_buffer import PrintBuffer

    from source_twilio import process

    written: list[str] = []
    buffer = PrintBuffer(flush_interval=3600)
    monkeypatch.setattr(process, "PRINT_BUFFER", buffer)
    monkeypatch.setattr(sys, "__stdout__", type("Out", (), {"write": written.append, "flush": lambda self: None})())
    original_write = buffer.write
    loggers: list[threading.Thread] = []

    def write(message: str) -> None:
        original_write(message)
        if message.startswith("record"):  # a worker logs right after a record is written, before its newline
            loggers.append(threading.Thread(target=original_write, args=("log\n",)))
            loggers[-1].start()
            loggers[-1].join(0.2)  # it writes now, unless the line being written holds the buffer

    monkeypatch.setattr(buffer, "write", write)
    process.write_messages(iter(["record 1", "record 2"]))
    for logger in loggers:
        logger.join(5)
    buffer.flush()
    assert sorted("".join(written).splitlines()) == ["log", "log", "record 1", "record 2"]


class BinaryOut:
    """A text stdout over a binary buffer, recording every write to either, in order."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        outer = self

        class Buffer:
            def write(self, data: bytes) -> None:
                outer.writes.append(bytes(data))

            def flush(self) -> None:
                pass

        self.buffer = Buffer()

    def write(self, text: str) -> None:
        self.writes.append(text.encode())

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("binary", [True, False], ids=["stdout with a binary buffer", "text-only stdout"])
def test_given_record_lines_among_text_lines_when_written_then_stdout_holds_them_in_order_unchanged(
    monkeypatch, binary
):
    """Record lines are bytes from where they are made to stdout's binary buffer: no decoding, no text buffer.
    Text lines (STATE, LOG) still go through the CDK's print buffer, and whatever it holds is written first."""
    from airbyte_cdk.utils.print_buffer import PrintBuffer

    from source_twilio import process

    out = BinaryOut()
    if not binary:
        del out.buffer
    buffer = PrintBuffer(flush_interval=3600)
    monkeypatch.setattr(process, "PRINT_BUFFER", buffer)
    monkeypatch.setattr(sys, "__stdout__", out)
    buffer.write("log 0\n")  # a worker's log line, waiting in the print buffer
    records = '{"record":"caf\u00e9"}\n{"record":2}'.encode()
    process.write_messages(iter(["state 1", records, "state 2"]))
    buffer.flush()
    assert b"".join(out.writes) == b"log 0\nstate 1\n" + records + b"\nstate 2\n"
    if binary:
        assert records in out.writes  # written as it is, not decoded and encoded again


PAGE_BUFFERS_AGAIN = """
import resource
from source_twilio.process import tune_malloc
tune_malloc()
faults = []
for _ in range(20):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    page = bytearray(2 << 20)  # a page of 1,000 records and more, touched whole
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    del page
print(sum(faults[10:]))
"""


def test_given_a_page_sized_buffer_freed_when_one_is_allocated_again_then_its_memory_is_not_faulted_in_again():
    """Each page of a list is read into, parsed from and written out of buffers of about a megabyte. glibc gave
    every freed one back to the system and faulted the next one in again, page by page: 72,000 page faults in a
    60,000-message read, a tenth of its CPU in system time."""
    completed = subprocess.run(
        [sys.executable, "-c", PAGE_BUFFERS_AGAIN], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert int(completed.stdout) < 100, "page faults in ten allocations of a freed 2 MB buffer"


PAGES_PARSED_AGAIN = """
import resource
import orjson
from source_twilio.process import tune_malloc
tune_malloc()
page = b"[" + b"0," * 400_000 + b"0]"  # 800 KB of JSON whose values take no memory of their own (a cached int)
faults = []
for _ in range(20):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    orjson.loads(page)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(sum(faults[10:]))
"""


def test_given_a_page_parsed_when_the_next_one_is_parsed_then_the_parsers_buffer_is_not_faulted_in_again():
    """orjson parses a page in a buffer about twelve times its size, 11 MB for a page of 1,000 messages: above
    glibc's mmap threshold, each page's buffer was mapped, faulted in and unmapped again (17,000 of a 60,000-message
    read's 37,000 page faults)."""
    completed = subprocess.run(
        [sys.executable, "-c", PAGES_PARSED_AGAIN], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert int(completed.stdout) < 100, "page faults in ten parses of the same 800 KB page"


PAGES_OF_RECORDS = """
import gc
from source_twilio.startup import collect_from_now
collect_from_now()
collections = [0, 0, 0]
gc.callbacks.append(lambda phase, info: phase == "start" and collections.__setitem__(info["generation"], collections[info["generation"]] + 1))
for _ in range(100):  # 100 pages of 1,000 records, each with a nested object, as Twilio's are
    page = [{"sid": str(i), "price": "-0.0075", "subresource_uris": {"media": "/x"}} for i in range(1000)]
    del page
print(gc.get_freeze_count(), *collections)
"""


def test_given_pages_of_records_when_parsed_then_the_cycle_collector_seldom_runs_and_never_over_the_start_up():
    """Records are parsed into dicts, which the cycle collector tracks though they never form cycles: at its
    defaults it ran every 700 of them and traversed the whole heap, start-up included, every few hundred pages
    (an eighth of a 60,000-message read's CPU)."""
    completed = subprocess.run(
        [sys.executable, "-c", PAGES_OF_RECORDS], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    frozen, young, middle, full = map(int, completed.stdout.split())
    assert frozen > 5_000, "the objects of start-up are set aside from collections"
    assert young <= 25 and full == 0, (young, middle, full)


SPEC_COLLECTIONS = """
import contextlib, gc, io, sys
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
from source_twilio.run import run
before = len(collections)
with contextlib.redirect_stdout(io.StringIO()) as out:
    run(["spec"])
print(len(collections) - before, '"connectionSpecification"' in out.getvalue())
"""


def test_given_spec_when_it_starts_then_the_cycle_collector_does_not_run_over_the_modules_being_imported():
    completed = subprocess.run(
        [sys.executable, "-c", SPEC_COLLECTIONS], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.split() == ["0", "True"]


def test_given_the_source_when_asked_for_its_spec_then_the_cdks_spec_parsed_once_for_every_caller():
    """``read`` and ``discover`` check the config against the spec: the CDK's own ``spec`` parsed ``spec.yaml`` with
    YAML's pure-Python parser each time; ours is parsed once, by the C parser, and is the same spec."""
    from airbyte_cdk.connector import BaseConnector
    from airbyte_cdk.models import ConnectorSpecificationSerializer

    from source_twilio.source import SourceTwilio

    logger = logging.getLogger("airbyte")
    ours, again = SourceTwilio().spec(logger), SourceTwilio().spec(logger)
    assert ours is again
    cdks = BaseConnector.spec(SourceTwilio(), logger)
    assert ConnectorSpecificationSerializer.dump(ours) == ConnectorSpecificationSerializer.dump(cdks)
