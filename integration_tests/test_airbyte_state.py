"""An existing Airbyte connection pointed at this image: the state Airbyte's own Twilio connector left (per-partition
cursors keyed by subresource URI, usage records by account, one flat cursor for alerts) is resumed from, not
answered with "reset": each account goes on from its cursor (less the lookback), nothing changed since is lost, and
the history before it is not read again."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from integration_tests.connector_runner import (
    auth_token_config,
    catalog_for,
    emitted_keys,
    expected_keys,
    readable_accounts,
    run_connector,
)
from integration_tests.emulator import Dataset, DatasetOptions, serve
from source_twilio.migration import ACCOUNT

pytestmark = pytest.mark.e2e

STREAMS = ["messages", "calls", "alerts", "usage_records"]


def instant(value: str) -> datetime:
    if value[0].isdigit():
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsedate_to_datetime(value).astimezone(timezone.utc)


def airbyte_states(accounts: list[str], cursor: datetime) -> list[dict[str, Any]]:
    at = cursor.strftime("%Y-%m-%dT%H:%M:%SZ")

    def per_partition(resource: str, field: str) -> dict[str, Any]:
        return {
            "states": [
                {
                    "partition": {"subresource_uri": f"/2010-04-01/Accounts/{sid}/{resource}.json", "parent_slice": {}},
                    "cursor": {field: at},
                }
                for sid in accounts
            ]
        }

    blobs = {
        "messages": per_partition("Messages", "date_sent"),
        "calls": per_partition("Calls", "end_time"),
        "alerts": {"date_generated": at},
        "usage_records": {
            "states": [
                {
                    "partition": {"account_sid": sid, "date_created": "Tue, 17 Nov 2020 04:08:53 +0000"},
                    "cursor": {"start_date": at},
                }
                for sid in accounts
            ]
        },
    }
    return [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": blob}}
        for name, blob in blobs.items()
    ]


def test_given_the_state_airbytes_connector_left_when_reading_then_each_account_resumes_from_its_cursor(tmp_path):
    dataset = Dataset(DatasetOptions(seed=67, subaccounts=1, suspended_subaccounts=0, messages_per_account=600))
    now = datetime.fromtimestamp(dataset.clock(), timezone.utc)
    cursor = now - timedelta(days=3)
    accounts = sorted(readable_accounts(dataset))
    with serve(dataset) as emulator:
        run = run_connector(
            "read",
            emulator.url,
            tmp_path,
            config=auth_token_config(dataset),
            catalog=catalog_for(STREAMS, "incremental"),
            state=airbyte_states(accounts, cursor),
        )
    assert run.returncode == 0 and run.errors == [], run.stderr[-2000:]
    lookback = timedelta(minutes=360)
    for stream, filtered in (("messages", "date_sent"), ("calls", "start_time")):
        emitted = {record["sid"] for record in run.records.get(stream, [])}
        records = [item.record for item in dataset.items(stream) if item.account_sid in accounts]
        changed = {r["sid"] for r in records if instant(r["date_updated"]) >= cursor}
        assert changed and changed <= emitted, f"{stream}: changed since the cursor, not emitted"
        # (those with a null date are read, since Airbyte's date filters never returned them)
        old = {
            r["sid"]
            for r in records
            if r[filtered] and instant(r["date_updated"]) < cursor - lookback - timedelta(days=2)
        }
        assert old and not old & emitted, f"{stream}: the history before the cursor was read again"
    alerts = run.records.get("alerts", [])
    assert alerts and all(instant(a["date_generated"]) >= cursor - lookback - timedelta(days=1) for a in alerts)
    usage = run.records.get("usage_records", [])
    assert usage and all(u["start_date"] >= (cursor - timedelta(days=100)).strftime("%Y-%m-%d") for u in usage)
    assert all(state["stream"]["stream_state"].get("version") == 2 for state in run.final_states)


FIXTURE = Path(__file__).parent / "fixtures" / "airbyte_0_16_states.json"


def test_given_real_state_messages_of_airbytes_0_16_when_reading_then_its_sync_and_ours_hold_everything(tmp_path):
    """What Airbyte's 0.16.0 emitted and the state it left, for the same emulated accounts (see the fixture's
    comment): resumed from that state, the union of its records and ours is the emulator's data, though 0.16 missed
    unsent messages, completed conferences and recordings older than 400 days."""
    fixture = json.loads(FIXTURE.read_text())
    states = fixture["states"]
    dataset = Dataset(
        DatasetOptions(
            seed=71,
            subaccounts=1,
            suspended_subaccounts=0,
            messages_per_account=50,
            calls_per_account=20,
            now=datetime(2026, 11, 29, 8, 53, tzinfo=timezone.utc),
        )
    )
    streams = [state["stream"]["stream_descriptor"]["name"] for state in states]
    with serve(dataset) as emulator:
        run = run_connector(
            "read",
            emulator.url,
            tmp_path,
            config=auth_token_config(dataset),
            catalog=catalog_for(streams, "incremental"),
            state=states,
        )
    assert run.returncode == 0 and run.errors == [], run.stderr[-2000:]
    for stream, keys in fixture["records"].items():
        theirs = {tuple(key) for key in keys}
        ours = set(emitted_keys(run.records.get(stream, []), stream))
        assert theirs | ours == expected_keys(dataset, stream), stream
    messages = next(s for s in states if s["stream"]["stream_descriptor"]["name"] == "messages")
    cursors = {
        ACCOUNT.search(entry["partition"]["subresource_uri"]).group(0): instant(entry["cursor"]["date_sent"])
        for entry in messages["stream"]["stream_state"]["states"]
    }
    emitted = {record["sid"] for record in run.records.get("messages", [])}
    lookback = timedelta(minutes=360)
    old = [
        item.record["sid"]
        for item in dataset.items("messages")
        if item.record["date_sent"] and instant(item.record["date_updated"]) < cursors[item.account_sid] - lookback
    ]
    assert old and not set(old) & emitted, "messages sent before Airbyte's cursor were read again"
    assert all(state["stream"]["stream_state"].get("version") == 2 for state in run.final_states)
