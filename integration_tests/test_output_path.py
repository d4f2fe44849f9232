"""Records leave the connector as lines written where they are read (the workers), many per message of the CDK's
read loop; the output is what the CDK writes one record at a time: the same records in the same order, the same
STATE messages with the same record counts, the same statuses, and "Read N records" lines that count records."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from airbyte_cdk.models import AirbyteMessageSerializer, ConfiguredAirbyteCatalogSerializer, Type
from airbyte_cdk.test.entrypoint_wrapper import read as cdk_read

from integration_tests.connector_runner import auth_token_config, catalog_for, run_connector
from integration_tests.emulator import Dataset, DatasetOptions, serve
from integration_tests.harness import run_in_process
from source_twilio.config import EMULATOR_URL_ENV
from source_twilio.source import SourceTwilio

pytestmark = pytest.mark.e2e

STREAMS = ["messages", "message_media", "calls", "usage_records", "incoming_phone_numbers", "alerts"]


@pytest.fixture(scope="module")
def emulator():
    options = DatasetOptions(
        seed=29, messages_per_account=1_300, calls_per_account=400, subaccounts=0, suspended_subaccounts=0
    )
    with serve(Dataset(options)) as running:
        yield running


def without_nulls(value: Any) -> Any:
    """The CDK's own serializer drops nulls (ours keeps them): compared without."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def comparable(messages: list[dict[str, Any]]) -> list[Any]:
    """Every message but the timing ones, records without their emission time."""
    kept: list[Any] = []
    for message in messages:
        kind = message["type"]
        if kind == "RECORD":
            data = {key: value for key, value in message["record"]["data"].items() if key != "as_of"}  # Twilio's now
            kept.append(("RECORD", message["record"]["stream"], without_nulls(data)))
        elif kind == "STATE":
            kept.append(("STATE", message["state"]))
        elif kind == "TRACE" and message["trace"]["type"] == "STREAM_STATUS":
            status = message["trace"]["stream_status"]
            kept.append(("STATUS", status["stream_descriptor"]["name"], status["status"]))
    return kept


def test_given_a_read_then_our_entry_point_writes_what_the_cdk_writes_one_record_at_a_time(
    emulator, tmp_path, monkeypatch
):
    config = auth_token_config(emulator.dataset)
    catalog = catalog_for(STREAMS)
    ours = run_in_process("read", emulator.url, tmp_path, config=config, catalog=catalog)
    assert ours.returncode == 0, ours.stderr[-2000:]

    monkeypatch.setenv(EMULATOR_URL_ENV, emulator.url)
    cdk = cdk_read(SourceTwilio(), config, ConfiguredAirbyteCatalogSerializer.load(catalog))
    theirs = [AirbyteMessageSerializer.dump(message) for message in cdk.get_message_by_types(list(Type))]

    assert len(ours.records["messages"]) > 1_000  # pages of several hundred lines each
    assert comparable(ours.messages) == comparable(theirs)
    for stream in STREAMS:  # the CDK's own line, counting records, not the messages that carry them
        assert f"Read {len(ours.records.get(stream, []))} records from {stream} stream" in ours.logs
    counts = [m["state"]["sourceStats"]["recordCount"] for m in ours.messages if m["type"] == "STATE"]
    assert sum(counts) == sum(len(records) for records in ours.records.values())


def test_given_reads_as_a_process_then_every_line_but_records_is_the_one_the_cdks_serializer_writes(emulator, tmp_path):
    """The process writes its protocol messages without the CDK's serializers (``protocol``): each line, loaded and
    dumped again by them, is the same bytes. A first read, then one from its state (which is loaded the same way)."""
    config = auth_token_config(emulator.dataset)
    catalog = catalog_for(STREAMS, "incremental")
    (tmp_path / "first").mkdir()
    first = run_connector("read", emulator.url, tmp_path / "first", config=config, catalog=catalog)
    state = [message["state"] for message in first.messages if message["type"] == "STATE"]
    second = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog, state=state)
    for run in (first, second):
        assert run.returncode == 0, run.stderr[-2000:]
        lines = [line for line in run.stdout.splitlines() if not line.startswith('{"type":"RECORD"')]
        kinds = {orjson.loads(line)["type"] for line in lines}
        assert {"STATE", "TRACE", "LOG"} <= kinds
        for line in lines:
            assert orjson.dumps(AirbyteMessageSerializer.dump(AirbyteMessageSerializer.load(orjson.loads(line)))) == (
                line.encode()
            )
