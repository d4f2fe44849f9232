"""Incremental syncs end to end: nothing lost, nothing repeated, late updates caught, resumable after a kill.

One emulator, three syncs in sequence (module-scoped, in order): sync 1 from no state, sync 2 from
sync 1's state with no change, then mutations (new and changed records, a new subaccount) and sync 3.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from integration_tests.connector_runner import (
    auth_token_config,
    catalog_for,
    emitted_keys,
    expected_keys,
    run_connector,
)
from integration_tests.emulator import Dataset, DatasetOptions, serve
from integration_tests.harness import run_until_killed
from source_twilio.definitions import BY_NAME, STREAMS
from source_twilio.emission import SETTLE

pytestmark = pytest.mark.e2e

INCREMENTAL = [d.name for d in STREAMS if d.incremental]


@pytest.fixture(scope="module")
def emulator():
    with serve(Dataset(DatasetOptions(seed=23))) as running:
        yield running


@pytest.fixture(scope="module")
def syncs(emulator, tmp_path_factory) -> dict[str, Any]:
    """Sync 1, sync 2 (no change), mutate, sync 3: each from the previous one's final state."""
    workdir = tmp_path_factory.mktemp("incremental")
    config = auth_token_config(emulator.dataset)
    catalog = catalog_for(INCREMENTAL, "incremental")
    truth_before_mutation = {stream: expected_keys(emulator.dataset, stream) for stream in INCREMENTAL}
    first_started = datetime.fromtimestamp(emulator.dataset.clock(), timezone.utc)
    first = run_connector("read", emulator.url, workdir, config=config, catalog=catalog)
    second = run_connector("read", emulator.url, workdir, config=config, catalog=catalog, state=first.final_states)
    messages = {item.record["sid"]: item.record for item in emulator.dataset.items("messages")}
    mutation = emulator.dataset.mutate()
    third = run_connector("read", emulator.url, workdir, config=config, catalog=catalog, state=second.final_states)
    for run in (first, second, third):
        assert run.returncode == 0 and run.errors == [], run.stderr[-3000:]
    return {
        "first": first,
        "second": second,
        "third": third,
        "mutation": mutation,
        "truth_before_mutation": truth_before_mutation,
        "messages_before_mutation": messages,
        "first_started": first_started,
    }


@pytest.mark.parametrize("stream", INCREMENTAL)
def test_sync_1_without_state_emits_exactly_the_emulator_records(syncs, emulator, stream):
    emitted = emitted_keys(syncs["first"].records.get(stream, []), stream)
    assert not [key for key, count in Counter(emitted).items() if count > 1]
    truth_before_mutation = syncs["truth_before_mutation"][stream]
    assert set(emitted) == truth_before_mutation


@pytest.mark.parametrize("stream", INCREMENTAL)
def test_sync_2_without_changes_emits_nothing(syncs, stream):
    assert syncs["second"].records.get(stream, []) == []


@pytest.mark.parametrize("stream", INCREMENTAL)
def test_sync_3_emits_every_new_and_changed_record_and_nothing_else(syncs, emulator, stream):
    mutation = syncs["mutation"]
    emitted = emitted_keys(syncs["third"].records.get(stream, []), stream)
    assert not [key for key, count in Counter(emitted).items() if count > 1]
    # What the mutation added or changed that Twilio still serves (the new subaccount's oldest messages
    # are past retention).
    wanted = _mutated_keys(mutation, stream) & expected_keys(emulator.dataset, stream)
    assert wanted, f"the mutation touched no {stream}: this would prove nothing"
    assert set(emitted) == wanted


def test_sync_3_does_not_emit_again_the_media_sync_2_did_not_ask_for(syncs):
    """Sync 2 reads again the unsent messages and those sent in the minutes before sync 1, all unchanged: it does
    not ask for their media again, and keeps what sync 1 remembered of them. The mutation changes such a message
    with media: sync 3 asks for them and must know them (``test_sync_3_...`` above checks it emits none)."""
    before = syncs["messages_before_mutation"]
    horizon = syncs["first_started"] - SETTLE
    read_again = [
        sid
        for sid in syncs["mutation"]["changed"]["messages"]
        if before[sid]["num_media"] != "0"
        and (before[sid]["date_sent"] is None or parsedate_to_datetime(before[sid]["date_sent"]) >= horizon)
    ]
    assert read_again, "no changed message with media was read again by sync 2: the test proves nothing"
    media_states = [
        s for s in syncs["second"].final_states if s["stream"]["stream_descriptor"]["name"] == "message_media"
    ]
    assert any(state["stream"]["stream_state"].get("children") for state in media_states)


def _mutated_keys(mutation: dict[str, Any], stream: str) -> set[tuple]:
    ids = set(mutation["new"].get(stream, [])) | set(mutation["changed"].get(stream, []))
    if stream == "usage_records":  # ids are account/date/category
        return {(a, c, d, d) for a, d, c in (i.split("/") for i in ids)}
    return {(sid,) for sid in ids}


@pytest.mark.parametrize("stream", INCREMENTAL)
def test_union_of_syncs_deduplicated_by_cursor_equals_the_emulator_field_by_field(syncs, emulator, stream):
    definition = BY_NAME[stream]
    latest: dict[tuple, dict[str, Any]] = {}
    for run in (syncs["first"], syncs["second"], syncs["third"]):
        for record in run.records.get(stream, []):
            key = tuple(record.get(part) for part in definition.primary_key)
            if key not in latest or (record.get(definition.cursor_field) or "") >= (
                latest[key].get(definition.cursor_field) or ""
            ):
                latest[key] = record
    truth = {
        tuple(item.record.get(p, item.account_sid) for p in definition.primary_key): item.record
        for item in emulator.dataset.items(stream)
    }
    assert set(latest) == expected_keys(emulator.dataset, stream)
    for key, record in latest.items():
        assert_same_values(record, truth[key], ignore={"as_of"})


def assert_same_values(emitted: dict[str, Any], wire: dict[str, Any], ignore: set[str]) -> None:
    """Every field Twilio sent is in the record with the same value: instants as instants, numbers as numbers."""
    for name, value in wire.items():
        if name in ignore:
            continue
        assert name in emitted, name
        got = emitted[name]
        if value is None or got == value:
            assert got == value, name
        elif isinstance(value, str) and isinstance(got, str):
            assert _instant(got) == _instant(value), (name, got, value)
        else:
            assert float(got) == float(value), (name, got, value)


def _instant(value: str) -> datetime:
    if value[:1].isdigit():
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsedate_to_datetime(value).astimezone(timezone.utc)


def test_state_is_compact_per_account_and_never_moves_back(syncs):
    for run in (syncs["first"], syncs["third"]):
        for state in run.final_states:
            blob = state["stream"]["stream_state"]
            assert set(blob) <= {"version", "cursors", "seen", "children"}
            assert len(json.dumps(blob)) < 2000, blob
    before = {
        s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"]["cursors"]
        for s in syncs["second"].final_states
    }
    after = {
        s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"]["cursors"]
        for s in syncs["third"].final_states
    }
    for stream, cursors in before.items():
        assert all(after[stream][key] >= value for key, value in cursors.items())


def test_new_subaccount_gets_its_history_from_start_date(syncs):
    new_account = syncs["mutation"]["new_account_sid"]
    third = syncs["third"]
    assert any(r["account_sid"] == new_account for r in third.records["messages"])
    old = [
        r
        for r in third.records["calls"]
        if r["account_sid"] == new_account and r["start_time"] and r["start_time"] < "2026-01-01"
    ]
    assert old, "the new subaccount's calls of more than a year ago are read"
    cursors = next(s for s in third.final_states if s["stream"]["stream_descriptor"]["name"] == "messages")
    assert new_account in cursors["stream"]["stream_state"]["cursors"]


def test_unreadable_state_stops_with_a_message_instead_of_restarting(emulator, tmp_path):
    state = [
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "messages"}, "stream_state": {"cursor": {"id": 5}}},
        }
    ]
    run = run_connector(
        "read",
        emulator.url,
        tmp_path,
        config=auth_token_config(emulator.dataset),
        catalog=catalog_for(["messages"], "incremental"),
        state=state,
    )
    assert run.returncode != 0
    assert run.records == {}
    assert any("saved state of stream messages" in e["message"] and "Reset" in e["message"] for e in run.errors)


def test_killed_sync_resumes_from_its_last_state_without_loss_and_few_repeats(tmp_path):
    """A sync killed after some checkpoints, restarted from the last STATE it emitted: the union is the truth."""
    dataset = Dataset(DatasetOptions(seed=29, messages_per_account=3000, calls_per_account=800))
    with serve(dataset, latency_ms=5) as emulator:
        config = auth_token_config(dataset)
        catalog = catalog_for(INCREMENTAL, "incremental")
        killed = run_until_killed(emulator.url, tmp_path, config, catalog, state=None, after_records=4000)
        resumed = run_connector(
            "read", emulator.url, tmp_path, config=config, catalog=catalog, state=killed.final_states
        )
    assert resumed.returncode == 0 and resumed.errors == []
    repeated = 0
    for stream in INCREMENTAL:
        first = emitted_keys(killed.records.get(stream, []), stream)
        second = emitted_keys(resumed.records.get(stream, []), stream)
        assert set(first) | set(second) == expected_keys(dataset, stream), stream
        repeated += len(set(first) & set(second))
    total = sum(len(records) for records in resumed.records.values())
    print(f"killed sync: {sum(len(r) for r in killed.records.values())} records, {len(killed.of_type('STATE'))} states; "
          f"resumed: {total} records; re-emitted: {repeated}")  # fmt: skip
    assert repeated <= 0.1 * sum(len(expected_keys(dataset, s)) for s in INCREMENTAL)
