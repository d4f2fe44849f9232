"""Restricted API keys (generally available 2025-12) carry only the permissions they were given: ``check`` says
which streams they cannot read (one cheap request per list), and a ``read`` fails those streams with a config
error naming the permission, while the others sync."""

from __future__ import annotations

from typing import Any

import pytest

from integration_tests.connector_runner import api_key_config, catalog_for, emitted_keys, expected_keys, run_connector
from integration_tests.emulator import Dataset, DatasetOptions, serve

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(
        DatasetOptions(
            seed=61, subaccounts=0, suspended_subaccounts=0, restricted_key_permissions=("accounts", "messaging")
        )
    )


def restricted_config(dataset: Dataset) -> dict[str, Any]:
    return api_key_config(dataset, "restricted_key")


def test_given_a_restricted_key_when_checking_then_it_succeeds_and_names_each_stream_it_cannot_read(dataset, tmp_path):
    with serve(dataset) as emulator:
        check = run_connector("check", emulator.url, tmp_path, config=restricted_config(dataset))
    status = check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "SUCCEEDED", status
    named = status["message"].split("streams: ", 1)[1].split(". Give", 1)[0].split("; ")
    unreadable = {entry.split(" (", 1)[0] for entry in named}
    assert {"calls", "queues", "usage_records", "alerts", "conversations", "conference_participants"} <= unreadable
    assert unreadable.isdisjoint({"messages", "message_media", "accounts", "messaging_services"})


def test_given_a_restricted_key_when_reading_then_streams_it_cannot_read_fail_naming_the_permission(dataset, tmp_path):
    catalog = catalog_for(["messages", "calls", "queues"])
    with serve(dataset) as emulator:
        run = run_connector("read", emulator.url, tmp_path, config=restricted_config(dataset), catalog=catalog)
    assert run.returncode != 0
    failed = {error["stream_descriptor"]["name"]: error for error in run.errors if error.get("stream_descriptor")}
    assert set(failed) == {"calls", "queues"}
    assert all(e["failure_type"] == "config_error" and "permission" in e["message"] for e in failed.values())
    assert sorted(emitted_keys(run.records["messages"], "messages")) == sorted(expected_keys(dataset, "messages"))
