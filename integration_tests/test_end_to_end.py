"""End-to-end: ``main.py spec|check|discover|read`` as subprocesses against the emulator, compared with what it holds."""

from __future__ import annotations

import re
from collections import Counter

import jsonschema
import pytest

from integration_tests.connector_runner import (
    ALL_STREAMS,
    api_key_config,
    auth_token_config,
    catalog_for,
    emitted_keys,
    expected_keys,
    run_connector,
    secrets_of,
)
from integration_tests.emulator import Dataset, DatasetOptions, serve

pytestmark = pytest.mark.e2e

RFC_2822 = re.compile(r"^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} ")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture(scope="module")
def emulator():
    dataset = Dataset(DatasetOptions(seed=11))
    with serve(dataset) as running:
        yield running


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def discovered(emulator, workdir):
    return run_connector("discover", emulator.url, workdir, config=auth_token_config(emulator.dataset))


@pytest.fixture(scope="module")
def full_read(emulator, workdir):
    return run_connector(
        "read", emulator.url, workdir, config=auth_token_config(emulator.dataset), catalog=catalog_for(ALL_STREAMS)
    )


def test_spec_prints_one_spec_message_with_secrets_marked(workdir):
    run = run_connector("spec", None, workdir)
    assert run.returncode == 0
    spec = run.of_type("SPEC")[0]["spec"]["connectionSpecification"]
    assert spec["properties"]["credentials"]["oneOf"][0]["properties"]["auth_token"]["airbyte_secret"] is True
    assert spec["properties"]["auth_token"]["airbyte_secret"] is True


def test_check_with_good_credentials_succeeds(emulator, workdir):
    run = run_connector("check", emulator.url, workdir, config=auth_token_config(emulator.dataset))
    assert run.of_type("CONNECTION_STATUS")[0]["connectionStatus"] == {"status": "SUCCEEDED"}


def test_check_with_wrong_token_fails_with_twilio_code_and_what_to_do(emulator, workdir):
    config = auth_token_config(emulator.dataset)
    config["credentials"]["auth_token"] = "f" * 32
    run = run_connector("check", emulator.url, workdir, config=config)
    status = run.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED"
    assert "401" in status["message"] and "20003" in status["message"] and "Twilio Console" in status["message"]
    assert "Traceback" not in run.stdout + run.stderr
    assert "f" * 32 not in run.stdout


def test_check_with_unreachable_host_says_so(emulator, workdir):
    run = run_connector("check", "http://127.0.0.1:9", workdir, config=auth_token_config(emulator.dataset))
    status = run.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED" and "Could not reach" in status["message"]
    assert "Traceback" not in status["message"]


def test_check_with_standard_api_key_says_it_cannot_list_accounts(emulator, workdir):
    run = run_connector("check", emulator.url, workdir, config=api_key_config(emulator.dataset, "standard_key"))
    status = run.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED"
    assert "Standard API key" in status["message"] and "Main API key" in status["message"]


def test_discover_lists_the_43_streams_with_their_keys(discovered):
    streams = {s["name"]: s for s in discovered.of_type("CATALOG")[0]["catalog"]["streams"]}
    assert set(streams) == set(ALL_STREAMS)
    assert streams["conference_participants"]["source_defined_primary_key"] == [["conference_sid"], ["call_sid"]]
    assert streams["usage_records"]["source_defined_primary_key"] == [
        ["account_sid"],
        ["category"],
        ["start_date"],
        ["end_date"],
    ]


def test_full_read_ends_cleanly(full_read):
    assert full_read.returncode == 0, full_read.stderr[-2000:]
    assert full_read.errors == []


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_full_read_emits_exactly_what_the_emulator_holds(full_read, emulator, stream):
    emitted = emitted_keys(full_read.records.get(stream, []), stream)
    duplicates = [key for key, count in Counter(emitted).items() if count > 1]
    expected = expected_keys(emulator.dataset, stream)
    assert expected, f"the emulator holds no {stream}: the comparison would prove nothing"
    assert duplicates == []
    assert set(emitted) - expected == set(), "extra records"
    assert expected - set(emitted) == set(), "missing records"


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_full_read_records_validate_against_the_discovered_schema(full_read, discovered, stream):
    schema = next(s for s in discovered.of_type("CATALOG")[0]["catalog"]["streams"] if s["name"] == stream)[
        "json_schema"
    ]
    validator = jsonschema.Draft7Validator(schema)
    date_times = [name for name, prop in schema["properties"].items() if prop.get("format") == "date-time"]
    dates = [name for name, prop in schema["properties"].items() if prop.get("format") == "date"]
    for record in full_read.records[stream]:
        validator.validate(record)
        for name in date_times:
            value = record.get(name)
            assert value is None or ISO_UTC.match(value), f"{stream}.{name} = {value!r}"
            assert value is None or not RFC_2822.match(value)
        for name in dates:
            assert record.get(name) is None or ISO_DATE.match(record[name])


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_full_read_records_carry_only_fields_their_schema_declares(full_read, discovered, stream):
    """A destination that follows the schema (PyAirbyte's DuckDB cache, for one) drops an undeclared field."""
    schema = next(s for s in discovered.of_type("CATALOG")[0]["catalog"]["streams"] if s["name"] == stream)
    declared = set(schema["json_schema"]["properties"])
    sent = set().union(*(set(record) for record in full_read.records[stream]))
    assert sent - declared == set()


def test_full_read_never_emits_a_secret(full_read, emulator):
    output = full_read.stdout + full_read.stderr
    leaked = [secret for secret in secrets_of(emulator.dataset) if secret in output]
    assert leaked == []
    assert all("auth_token" not in record for record in full_read.records["accounts"])


def test_full_read_keeps_nulls(full_read):
    unsent = [m for m in full_read.records["messages"] if m["date_sent"] is None]
    assert unsent, "the emulator has queued messages with no date_sent"
    assert all("price" in m for m in unsent)


def test_full_read_says_which_subaccount_it_skipped_and_why(full_read, emulator):
    suspended = emulator.dataset.credentials["suspended_subaccount_sids"]
    assert all(any(sid in log and "suspended" in log for log in full_read.logs) for sid in suspended)


def test_full_read_warns_that_old_messages_are_beyond_twilio_retention(full_read):
    assert any("messages" in log and "400 days" in log for log in full_read.logs)


def test_given_main_api_key_when_reading_then_subaccounts_out_of_its_reach_are_skipped_with_a_warning(
    emulator, workdir
):
    dataset = emulator.dataset
    run = run_connector("read", emulator.url, workdir, config=api_key_config(dataset), catalog=catalog_for(["queues"]))
    assert run.returncode == 0 and run.errors == []
    main = dataset.credentials["account_sid"]
    assert {r["account_sid"] for r in run.records["queues"]} == {main}
    for sid in dataset.credentials["subaccount_sids"]:
        if sid not in dataset.credentials["suspended_subaccount_sids"]:
            assert any(sid in log and "reaches the main account only" in log for log in run.logs)


def test_given_a_catalog_asking_incremental_for_full_refresh_streams_then_they_are_read_in_full_with_one_log_line(
    emulator, workdir
):
    """What PyAirbyte's default read() sends: every stream incremental, whatever it supports (issue 9, item 9)."""
    streams = ["accounts", "queues", "calls"]
    catalog = catalog_for(streams, "incremental")
    for configured in catalog["streams"]:
        configured["sync_mode"] = "incremental"
    run = run_connector("read", emulator.url, workdir, config=auth_token_config(emulator.dataset), catalog=catalog)
    assert run.returncode == 0 and run.errors == [], run.stdout[-2000:]
    for stream in streams:
        assert set(emitted_keys(run.records[stream], stream)) == expected_keys(emulator.dataset, stream)
    notes = [log for log in run.logs if "has no incremental mode" in log]
    assert sorted(notes) == [
        f"Stream {s} has no incremental mode: reading it in full refresh." for s in ("accounts", "queues")
    ]
