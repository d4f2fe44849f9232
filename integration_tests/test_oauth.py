"""OAuth 2.0 client credentials (Twilio, generally available 2026-04-06): the connector exchanges the OAuth app's
client ID and secret for a Bearer token at ``POST oauth.twilio.com/v2/token`` and renews it before it expires, so
a sync outlives its tokens; the tokens and the secret never show in the output."""

from __future__ import annotations

import time
from typing import Any

import pytest

from integration_tests.connector_runner import START_DATE, catalog_for, emitted_keys, expected_keys, run_connector
from integration_tests.emulator import Dataset, DatasetOptions, serve
from source_twilio.definitions import BY_NAME

pytestmark = pytest.mark.e2e

STREAMS = ["accounts", "messages", "calls", "alerts", "conversations", "voice_pricing_countries"]


def oauth_config(dataset: Dataset, secret: str | None = None) -> dict[str, Any]:
    credentials = dataset.credentials
    return {
        "account_sid": credentials["account_sid"],
        "credentials": {
            "auth_type": "oauth_client_credentials",
            "client_id": credentials["oauth_client_id"],
            "client_secret": secret or credentials["oauth_client_secret"],
        },
        "start_date": START_DATE,
    }


def test_given_an_oauth_app_whose_tokens_expire_mid_sync_then_the_sync_renews_them_and_reads_everything(tmp_path):
    dataset = Dataset(
        DatasetOptions(
            seed=53, subaccounts=1, suspended_subaccounts=0, oauth_token_seconds=1, messages_per_account=3000
        )
    )
    with serve(dataset, latency_ms=250) as emulator:
        check = run_connector("check", emulator.url, tmp_path, config=oauth_config(dataset))
        before = dataset.oauth_tokens_issued
        started = time.monotonic()
        run = run_connector("read", emulator.url, tmp_path, config=oauth_config(dataset), catalog=catalog_for(STREAMS))
        refused = emulator.stats()["by_status"].get("401", 0)
    status = check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "SUCCEEDED" and "main account only" in status["message"]
    assert run.returncode == 0 and run.errors == [], run.stderr[-2000:]
    seconds = time.monotonic() - started
    assert seconds > 3, f"the sync took {seconds:.1f} s: too short to outlive a token of 1 s"
    assert dataset.oauth_tokens_issued - before >= 3, "the sync renewed its token"
    assert refused == 0, "tokens are renewed before they expire"
    main = dataset.main_account_sid
    for stream in ("messages", "calls", "alerts", "conversations", "voice_pricing_countries"):  # the main account's
        primary_key = BY_NAME[stream].primary_key
        mains = {tuple(i.record.get(p) for p in primary_key) for i in dataset.items(stream) if i.account_sid == main}
        assert set(emitted_keys(run.records[stream], stream)) == mains & expected_keys(dataset, stream), stream
    assert any("reaches the main account only" in message for message in run.logs)
    assert dataset.oauth_client[1] not in run.stdout + run.stderr
    assert "eyJ." not in run.stdout + run.stderr, "no access token in the output"


def test_given_a_wrong_client_secret_then_check_and_read_say_so_and_name_the_app(tmp_path):
    dataset = Dataset(DatasetOptions(seed=59, subaccounts=0, suspended_subaccounts=0))
    config = oauth_config(dataset, secret="w" * 32)
    with serve(dataset) as emulator:
        check = run_connector("check", emulator.url, tmp_path, config=config)
        run = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog_for(["queues"]))
    status = check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED" and dataset.oauth_client[0] in status["message"]
    assert "client_secret" in status["message"]
    assert run.returncode != 0 and any("client_secret" in error["message"] for error in run.errors)
    assert "w" * 32 not in check.stdout + run.stdout + run.stderr
