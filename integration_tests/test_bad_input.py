"""Users' bad input: each case gives one clear, specific message, and no stack trace.

A table of configs, credentials, catalogs and states a user can get wrong, run through the real entry point
(``source_twilio.run.run``: preflight, then the CDK) in-process, with back-off not slept. ``check`` must answer
one failed CONNECTION_STATUS (exit 0); ``discover`` and ``read`` one TRACE error of type config_error (exit 1),
with no record. A sample runs again as real processes, to show the in-process run says the same.
State that names accounts that no longer exist, or streams not in the catalog, is simply ignored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from integration_tests.connector_runner import (
    Run,
    api_key_config,
    auth_token_config,
    catalog_for,
    emitted_keys,
    expected_keys,
)
from integration_tests.emulator import Dataset, DatasetOptions, serve
from integration_tests.harness import assert_no_secrets, known_secrets, last_states, run_in_process, run_process

pytestmark = pytest.mark.e2e

UNREACHABLE = "http://127.0.0.1:9"
UNKNOWN_ACCOUNT = "AC" + "f" * 32
Config = Callable[[Dataset], Any]


def config_with(**changes: Any) -> Config:
    """The emulator's Auth Token config with fields changed (None removes one)."""

    def build(dataset: Dataset) -> dict[str, Any]:
        config = auth_token_config(dataset)
        for name, value in changes.items():
            if value is None:
                config.pop(name, None)
            else:
                config[name] = value
        return config

    return build


def credentials_with(**credentials: Any) -> Config:
    def build(dataset: Dataset) -> dict[str, Any]:
        values = {k: v(dataset) if callable(v) else v for k, v in credentials.items()}
        return {**auth_token_config(dataset), "credentials": values}

    return build


def key_sid(dataset: Dataset) -> str:
    return dataset.credentials["api_key_sid"]


def wrong_token(dataset: Dataset) -> dict[str, Any]:
    config = auth_token_config(dataset)
    config["credentials"]["auth_token"] = "wrong-token-00112233445566778899"
    return config


def wrong_key_secret(dataset: Dataset) -> dict[str, Any]:
    config = api_key_config(dataset)
    config["credentials"]["api_key_secret"] = "wrong-secret-00112233445566778899"
    return config


def standard_key(dataset: Dataset) -> dict[str, Any]:
    return api_key_config(dataset, "standard_key")


def messages_state(stream_state: Any) -> list[dict[str, Any]]:
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "messages"}, "stream_state": stream_state}}]


MESSAGES = catalog_for(["messages"], "incremental")
FOREIGN_STATE = {"cursor": {"id": 5}, "page": 3}  # neither this connector's nor Airbyte's Twilio connector's


@dataclass(frozen=True)
class Case:
    command: str
    expected: tuple[str, ...]  # parts of the one message
    config: Config = auth_token_config
    catalog: Any = None  # read: the queues stream unless given
    state: Any = None
    raw: dict[str, str | None] = field(default_factory=dict)  # files given as text, or missing (None)
    url: str | None = "emulator"


CASES: dict[str, Case] = {
    # --- the config file and its fields -------------------------------------------------------------------------
    "config file not JSON": Case("read", ("config file", "is not valid JSON"), raw={"config": '{account_sid: "AC'}),
    "config file missing": Case("discover", ("config file", "does not exist"), raw={"config": None}),
    "config a JSON list": Case("check", ("configuration must be a JSON object",), raw={"config": "[]"}),
    "account_sid missing": Case("check", ("account_sid is missing", "Twilio Console"), config_with(account_sid=None)),
    "account_sid malformed": Case(
        "check", ("is not a Twilio Account SID", "32 hexadecimal"), config_with(account_sid="AC123")
    ),
    "account_sid with a line break": Case(
        "discover",
        ("account_sid has spaces or a line break",),
        lambda d: config_with(account_sid=d.main_account_sid + "\n")(d),
    ),
    "account_sid a number": Case("discover", ("account_sid must be a string",), config_with(account_sid=12345)),
    "API key SID in place of the account SID": Case(
        "check", ("holds an API key SID", "Authentication > API Key"), lambda d: config_with(account_sid=key_sid(d))(d)
    ),
    "no credentials": Case("check", ("No credentials",), config_with(credentials=None)),
    "wrong token (check)": Case(
        "check", ("Twilio rejected the Account SID", "HTTP 401", "20003", "Twilio Console"), wrong_token
    ),
    "wrong token (read)": Case(
        "read", ("Twilio rejected the Account SID", "HTTP 401", "20003", "Twilio Console"), wrong_token
    ),
    "wrong API key secret": Case(
        "check", ("Twilio refused the API key", "20003", "Check the key SID and secret"), wrong_key_secret
    ),
    "API key without secret": Case(
        "check",
        ("needs both api_key_sid", "api_key_secret"),
        credentials_with(auth_type="api_key", api_key_sid=key_sid),
    ),
    "account SID as the API key SID": Case(
        "check",
        ("api_key_sid holds an Account SID",),
        credentials_with(auth_type="api_key", api_key_sid=lambda d: d.main_account_sid, api_key_secret="s" * 32),
    ),
    "API key SID malformed": Case(
        "discover",
        ("api_key_sid must be an API key SID",),
        credentials_with(auth_type="api_key", api_key_sid="SK42", api_key_secret="s" * 32),
    ),
    "unknown auth_type": Case(
        "check",
        ("must be 'auth_token', 'api_key' or 'oauth_client_credentials'",),
        credentials_with(auth_type="oauth2"),
    ),
    "Auth Token in place of the account SID": Case(
        "check",
        ("is not a Twilio Account SID", "(32 characters)"),
        lambda d: config_with(account_sid=d.credentials["auth_token"])(d),
    ),
    "Auth Token in place of the start date": Case(
        "read", ("is not an ISO 8601",), lambda d: config_with(start_date=d.credentials["auth_token"])(d)
    ),
    "credentials without auth_type": Case(
        "discover", ("credentials must be",), credentials_with(api_key_sid=key_sid, api_key_secret="s" * 32)
    ),
    "Standard API key (check)": Case(
        "check", ("Standard API key", "cannot read /Accounts or /Keys", "Main API key"), standard_key
    ),
    "Standard API key (read)": Case("read", ("Standard API key", "Main API key"), standard_key),
    "Twilio unreachable": Case("check", ("Could not reach Twilio", "network"), url=UNREACHABLE),
    "start_date malformed": Case(
        "check", ("start_date '01/02/2024' is not an ISO 8601",), config_with(start_date="01/02/2024")
    ),
    "start_date without dashes": Case(
        "check",
        ("start_date '20240101' does not have the expected form", "YYYY-MM-DD"),
        config_with(start_date="20240101"),
    ),
    "start_date in the future": Case("read", ("is in the future",), config_with(start_date="2999-01-01T00:00:00Z")),
    "start_date before 2008": Case("discover", ("before 2008-01-01",), config_with(start_date="2005-06-01")),
    "start_date a number": Case("check", ("start_date must be a string",), config_with(start_date=20240101)),
    "lookback_window negative": Case(
        "check", ("lookback_window must be from 0 to 525600, got -5",), config_with(lookback_window=-5)
    ),
    "lookback_window absurd": Case(
        "read", ("lookback_window must be from 0 to 525600",), config_with(lookback_window=10**9)
    ),
    "lookback_window in quotes": Case(
        "discover", ("lookback_window must be of type integer, not string",), config_with(lookback_window="360")
    ),
    "num_workers zero": Case("check", ("num_workers must be from 1 to 100, got 0",), config_with(num_workers=0)),
    "num_workers negative": Case("check", ("num_workers must be from 1 to 100, got -3",), config_with(num_workers=-3)),
    "num_workers absurd": Case("read", ("num_workers must be from 1 to 100",), config_with(num_workers=100_000)),
    # --- the catalog --------------------------------------------------------------------------------------------
    "unknown stream": Case(
        "read",
        ("names a stream 'short_codes'", "refresh the source schema"),
        catalog={
            "streams": [
                {
                    **catalog_for(["queues"])["streams"][0],
                    "stream": {
                        "name": "short_codes",
                        "json_schema": {},
                        "supported_sync_modes": ["full_refresh"],
                    },
                }
            ]
        },
    ),
    "unsupported sync mode": Case(
        "read",
        ("sync mode 'append' for stream messages",),
        catalog={"streams": [{**MESSAGES["streams"][0], "sync_mode": "append"}]},
    ),
    "catalog not JSON": Case("read", ("catalog file", "is not valid JSON"), raw={"catalog": "streams: [messages]"}),
    "catalog without streams": Case("read", ("list of streams under 'streams'",), catalog={"stream": []}),
    # --- the state ----------------------------------------------------------------------------------------------
    "state not JSON": Case(
        "read", ("state file", "is not valid JSON"), catalog=MESSAGES, raw={"state": "{'messages': 1}"}
    ),
    "state a legacy object": Case(
        "read", ("legacy state format", "Reset"), catalog=MESSAGES, state={"messages": {"date_updated": "2024-01-01"}}
    ),
    "state a list of strings": Case(
        "read", ("Entry 1 of the state file", "JSON string"), catalog=MESSAGES, state=["messages"]
    ),
    "state GLOBAL": Case(
        "read",
        ("GLOBAL state message", "another connector"),
        catalog=MESSAGES,
        state=[{"type": "GLOBAL", "global": {"shared_state": {"cursor": 1}, "stream_states": []}}],
    ),
    "state from another connector": Case(
        "read",
        ("saved state of stream messages is not one this connector can resume from", "Reset"),
        catalog=MESSAGES,
        state=messages_state(FOREIGN_STATE),
    ),
    "state with a cursor that is not an instant": Case(
        "read",
        ("saved state of stream messages", "not an ISO 8601 instant"),
        catalog=MESSAGES,
        state=messages_state({"version": 1, "cursors": {UNKNOWN_ACCOUNT: "yesterday"}}),
    ),
}


@pytest.fixture(scope="module")
def emulator():
    with serve(Dataset(DatasetOptions(seed=83))) as running:
        yield running


def run_case(case: Case, emulator, workdir, runner=run_in_process) -> tuple[Run, Any]:
    dataset = emulator.dataset
    config = case.config(dataset)
    catalog = case.catalog if case.catalog is not None or case.command != "read" else catalog_for(["queues"])
    url = emulator.url if case.url == "emulator" else case.url
    run = runner(case.command, url, workdir, config=config, catalog=catalog, state=case.state, raw=case.raw)
    return run, config


def the_one_message(case: Case, run: Run) -> str:
    if case.command == "check":
        statuses = [m["connectionStatus"] for m in run.of_type("CONNECTION_STATUS")]
        assert run.returncode == 0 and len(statuses) == 1 and statuses[0]["status"] == "FAILED", run.stdout[-2000:]
        assert run.errors == []
        return statuses[0]["message"]
    assert run.returncode == 1, run.stdout[-2000:]
    assert len(run.errors) == 1, [e["message"] for e in run.errors]
    assert run.errors[0]["failure_type"] == "config_error"
    assert run.records == {} and run.of_type("CATALOG") == []
    return run.errors[0]["message"]


@pytest.fixture
def no_waiting(monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda seconds: None)


def test_given_the_table_when_counted_then_it_has_at_least_25_cases():
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", CASES)
def test_given_bad_input_when_running_then_one_specific_message_and_no_stack_trace(
    emulator, tmp_path, no_waiting, name
):
    case = CASES[name]
    run, config = run_case(case, emulator, tmp_path)
    message = the_one_message(case, run)
    for part in case.expected:
        assert part in message, f"{part!r} not in {message!r}"
    assert "\n" not in message and "Traceback" not in message
    assert "Traceback" not in run.stdout + run.stderr
    assert_no_secrets(run, known_secrets(emulator.dataset, config))


SAMPLE = ["config file not JSON", "wrong token (read)", "state not JSON"]


def test_given_a_sample_of_bad_input_when_run_as_processes_then_the_same_single_message(emulator, tmp_path_factory):
    def message(name: str, runner) -> tuple[str, Run, Any]:
        workdir = tmp_path_factory.mktemp("sample")
        run, config = run_case(CASES[name], emulator, workdir, runner=runner)
        return the_one_message(CASES[name], run).replace(str(workdir), "<dir>"), run, config

    with ThreadPoolExecutor(len(SAMPLE)) as pool:
        processes = list(pool.map(lambda name: message(name, run_process), SAMPLE))
    for name, (from_process, process, config) in zip(SAMPLE, processes, strict=True):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(time, "sleep", lambda seconds: None)
            from_in_process, _, _ = message(name, run_in_process)
        assert from_process == from_in_process, name
        assert "Traceback" not in process.stdout + process.stderr, name
        assert_no_secrets(process, known_secrets(emulator.dataset, config))


# --- state that is simply ignored -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synced_once(emulator, tmp_path_factory) -> list[dict[str, Any]]:
    """The state of one incremental sync of messages."""
    run = run_process(
        "read",
        emulator.url,
        tmp_path_factory.mktemp("synced"),
        config=auth_token_config(emulator.dataset),
        catalog=MESSAGES,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return last_states(run)


def test_given_state_naming_an_account_that_no_longer_exists_when_reading_then_it_is_ignored(
    emulator, synced_once, tmp_path
):
    state = json.loads(json.dumps(synced_once))
    state[0]["stream"]["stream_state"]["cursors"][UNKNOWN_ACCOUNT] = "2024-05-01T00:00:00Z"
    emulator.reset_stats()
    run = run_process(
        "read", emulator.url, tmp_path, config=auth_token_config(emulator.dataset), catalog=MESSAGES, state=state
    )
    assert run.returncode == 0 and run.errors == [], run.stdout[-2000:]
    assert run.records.get("messages", []) == [], "nothing changed since the state was saved"
    assert UNKNOWN_ACCOUNT not in emulator.stats()["by_account"], "the connector asked Twilio about the unknown account"


def test_given_state_of_a_stream_not_in_the_catalog_when_reading_then_it_is_ignored(emulator, tmp_path):
    state = messages_state({"date_updated": "2024-01-01"})  # unreadable, but only calls is read
    catalog = catalog_for(["calls"], "incremental")
    run = run_process(
        "read", emulator.url, tmp_path, config=auth_token_config(emulator.dataset), catalog=catalog, state=state
    )
    assert run.returncode == 0 and run.errors == []
    assert set(emitted_keys(run.records["calls"], "calls")) == expected_keys(emulator.dataset, "calls")
