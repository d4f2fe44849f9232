"""Choosing which subaccounts to read (config ``subaccounts``): the main account always, then all, only some, or
all but some; a SID that is not one of the account's subaccounts is a config error naming it; the state of an
account no longer selected is kept, so that selecting it again resumes it."""

from __future__ import annotations

from typing import Any

import pytest

from integration_tests.connector_runner import auth_token_config, catalog_for, run_connector
from integration_tests.emulator import Dataset, DatasetOptions, serve

pytestmark = pytest.mark.e2e

STREAMS = ["queues", "conversations", "messages"]
STRANGER = "AC" + "f" * 32  # well formed, not a subaccount of the emulator's account


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(
        DatasetOptions(seed=41, subaccounts=2, suspended_subaccounts=0, messages_per_account=20, calls_per_account=5)
    )


@pytest.fixture(scope="module")
def emulator(dataset):
    with serve(dataset) as running:
        yield running


def config_with(dataset: Dataset, subaccounts: dict[str, Any] | None) -> dict[str, Any]:
    config = auth_token_config(dataset)
    if subaccounts is not None:
        config["subaccounts"] = subaccounts
    return config


def accounts_read(run: Any) -> dict[str, set[str]]:
    return {stream: {record["account_sid"] for record in run.records.get(stream, [])} for stream in STREAMS}


@pytest.mark.parametrize("mode", ["absent", "all", "only", "except"])
def test_given_a_selection_when_reading_then_the_main_account_and_exactly_the_selected_subaccounts_are_read(
    emulator, dataset, tmp_path, mode
):
    main, first, second = dataset.accounts[:3]
    subaccounts = None if mode == "absent" else {"selection": mode, "sids": [first]}
    wanted = {"absent": {main, first, second}, "all": {main, first, second}, "only": {main, first}}
    run = run_connector(
        "read", emulator.url, tmp_path, config=config_with(dataset, subaccounts), catalog=catalog_for(STREAMS)
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert accounts_read(run) == dict.fromkeys(STREAMS, wanted.get(mode, {main, second}))


@pytest.mark.parametrize("command", ["check", "read"])
def test_given_a_sid_that_is_not_a_subaccount_then_check_and_read_fail_naming_it(emulator, dataset, tmp_path, command):
    config = config_with(dataset, {"selection": "only", "sids": [dataset.accounts[1], STRANGER]})
    catalog = catalog_for(STREAMS) if command == "read" else None
    run = run_connector(command, emulator.url, tmp_path, config=config, catalog=catalog)
    if command == "check":
        status = run.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
        assert status["status"] == "FAILED" and STRANGER in status["message"]
        assert dataset.accounts[1] not in status["message"]
    else:
        assert run.returncode != 0 and run.records == {}
        assert any(STRANGER in error["message"] and error["failure_type"] == "config_error" for error in run.errors)


def test_given_an_account_no_longer_selected_then_its_state_is_kept_and_it_resumes_when_selected_again(
    emulator, dataset, tmp_path
):
    catalog = catalog_for(["messages"], "incremental")
    first = run_connector("read", emulator.url, tmp_path, config=config_with(dataset, None), catalog=catalog)
    left_out = dataset.accounts[1]
    cursors = first.final_states[0]["stream"]["stream_state"]["cursors"]
    assert left_out in cursors
    config = config_with(dataset, {"selection": "except", "sids": [left_out]})
    second = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog, state=first.final_states)
    assert second.returncode == 0 and second.records.get("messages", []) == []
    assert second.final_states[0]["stream"]["stream_state"]["cursors"][left_out] == cursors[left_out]
    again = run_connector(
        "read", emulator.url, tmp_path, config=config_with(dataset, None), catalog=catalog, state=second.final_states
    )
    assert again.returncode == 0 and again.records.get("messages", []) == [], "resumed, not read from the start"
