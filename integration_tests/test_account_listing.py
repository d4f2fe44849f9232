"""Twilio's list of accounts, which every stream's lists are planned from, asked for once per sync.

A list Twilio fails for good is retried for minutes (the CDK's back-off) before the sync gives up on it. The
accounts are listed once per sync: when that list fails, every stream ends at once naming it, rather than each
stream retrying it again for minutes (43 streams took over two hours to end).
"""

from __future__ import annotations

import pytest

from integration_tests.connector_runner import auth_token_config, catalog_for
from integration_tests.emulator import Dataset, DatasetOptions, Faults, PersistentFault, serve
from integration_tests.harness import back_off_recorded, run_in_process

pytestmark = pytest.mark.e2e

STREAMS = ["messages", "calls", "queues"]


def test_given_the_list_of_accounts_failing_for_good_when_reading_then_it_is_asked_for_once_and_every_stream_fails(
    tmp_path,
):
    dataset = Dataset(DatasetOptions(seed=83))
    faults = Faults(persistent=(PersistentFault(r"^/2010-04-01/Accounts\.json$", status=500),))
    with back_off_recorded(), serve(dataset, faults=faults) as emulator:
        run = run_in_process(
            "read", emulator.url, tmp_path, config=auth_token_config(dataset), catalog=catalog_for(STREAMS)
        )
        attempts = emulator.stats()["faults_injected"].get("persistent_500", 0)

    assert run.returncode != 0 and run.records == {}
    assert attempts == 11, "the first try and ten retries, once for the sync, not once per stream"
    by_stream = {error["stream_descriptor"]["name"]: error for error in run.errors if error.get("stream_descriptor")}
    assert set(by_stream) == set(STREAMS)
    assert all("Stream accounts is incomplete" in error["message"] for error in by_stream.values()), by_stream
