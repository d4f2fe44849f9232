"""Regions: an account processes its data in US1, IE1 or AU1, and Twilio's credentials are per region. The
emulator's accounts live in one region; every other region's hosts refuse their credentials (401). So a sync that
ends cleanly in a region read only that region's hosts."""

from __future__ import annotations

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
from source_twilio.config import EMULATOR_URL_ENV, TwilioConfig

pytestmark = pytest.mark.e2e

STREAMS = ["accounts", "messages", "alerts", "conversations", "call_summaries", "voice_pricing_countries", "balance"]


def config_in(dataset: Dataset, region: str | None) -> dict[str, Any]:
    config = auth_token_config(dataset)
    if region is not None:
        config["region"] = region
    return config


@pytest.mark.parametrize("region", ["ie1", "au1", "us1"])
def test_given_an_account_in_a_region_when_syncing_there_then_every_stream_is_read_from_that_regions_hosts(
    tmp_path, region
):
    dataset = Dataset(DatasetOptions(seed=43, subaccounts=1, suspended_subaccounts=0, region=region))
    with serve(dataset) as emulator:
        check = run_connector("check", emulator.url, tmp_path, config=config_in(dataset, region))
        run = run_connector(
            "read", emulator.url, tmp_path, config=config_in(dataset, region), catalog=catalog_for(STREAMS)
        )
        refused = emulator.stats()["by_status"].get("401", 0)
    assert check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED"
    assert run.returncode == 0 and run.errors == [], run.stderr[-2000:]
    assert refused == 0, "no request went to another region's hosts"
    for stream in STREAMS:
        assert sorted(emitted_keys(run.records[stream], stream)) == sorted(expected_keys(dataset, stream)), stream


def test_given_an_account_in_ie1_when_the_config_says_nothing_then_check_suggests_the_region(tmp_path):
    dataset = Dataset(DatasetOptions(seed=47, subaccounts=0, suspended_subaccounts=0, region="ie1"))
    with serve(dataset) as emulator:
        check = run_connector("check", emulator.url, tmp_path, config=config_in(dataset, None))
    status = check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED" and "401" in status["message"]
    assert "region" in status["message"] and "us1" in status["message"] and "ie1" in status["message"]


@pytest.mark.parametrize(
    "region, part", [("us1", ""), ("ie1", ".dublin.ie1"), ("au1", ".sydney.au1")], ids=["us1", "ie1", "au1"]
)
def test_given_a_region_in_production_then_credentials_go_only_to_that_regions_hosts(monkeypatch, region, part):
    monkeypatch.delenv(EMULATOR_URL_ENV, raising=False)
    config = TwilioConfig.from_mapping({"account_sid": "AC" + "0" * 32, "auth_token": "t" * 32, "region": region})
    products = ("api", "monitor", "conversations", "studio", "trunking", "verify", "messaging", "insights", "pricing")
    assert config.allowed_hosts == {f"https://{name}{part}.twilio.com" for name in products}
