"""The streams of Twilio's other hosts (Conversations, Studio, Trunking, Verify, Messaging, Voice Insights, Monitor
events, Pricing) and the balance: what is special about each, end to end against the emulator.

The end-to-end suites check every stream's records against the emulator's truth; these tests check how they are
read: a subaccount's data with its own credentials, Voice Insights' 403, Verify's page size, pricing once, the
balance as one object.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from integration_tests.connector_runner import (
    api_key_config,
    auth_token_config,
    catalog_for,
    emitted_keys,
    expected_keys,
    readable_accounts,
    run_connector,
)
from integration_tests.emulator import Dataset, DatasetOptions, serve
from integration_tests.emulator.generate_products import ProductOptions

pytestmark = pytest.mark.e2e

PRICING = ["voice_pricing_countries", "messaging_pricing_countries", "phone_number_pricing_countries"]


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(
        DatasetOptions(seed=23, subaccounts=2, suspended_subaccounts=0, messages_per_account=10, calls_per_account=5)
    )


@pytest.fixture(scope="module")
def emulator(dataset):
    with serve(dataset) as running:
        yield running


def read(emulator: Any, tmp_path: Any, streams: list[str], config: dict[str, Any] | None = None) -> Any:
    emulator.reset_stats()
    run = run_connector(
        "read",
        emulator.url,
        tmp_path,
        config=config or auth_token_config(emulator.dataset),
        catalog=catalog_for(streams),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def by_account(records: list[dict[str, Any]]) -> Counter[str]:
    return Counter(record["account_sid"] for record in records)


def test_given_subaccounts_when_reading_conversations_then_each_accounts_own_are_read_with_its_own_credentials(
    emulator, dataset, tmp_path
):
    """Main-account credentials would get the main account's conversations back for every account: each would
    come out three times and the subaccounts' never."""
    run = read(emulator, tmp_path, ["conversations", "conversation_messages"])
    for stream in ("conversations", "conversation_messages"):
        records = run.records[stream]
        truth = Counter(item.account_sid for item in dataset.items(stream))
        assert by_account(records) == truth and len(truth) == 3, stream
        assert sorted(emitted_keys(records, stream)) == sorted(expected_keys(dataset, stream)), stream
    tokens = [i.record["auth_token"] for i in dataset.items("accounts")]
    assert not any(token in run.stdout + run.stderr for token in tokens)


def test_given_an_api_key_when_reading_conversations_then_only_the_main_accounts_are_read(emulator, dataset, tmp_path):
    run = read(emulator, tmp_path, ["conversations"], config=api_key_config(dataset))
    assert set(by_account(run.records["conversations"])) == {dataset.main_account_sid}
    assert any("reaches the main account only" in message for message in run.logs)


def test_given_an_account_without_voice_insights_then_its_summaries_are_a_warning_not_a_failure(tmp_path):
    dataset = Dataset(
        DatasetOptions(
            seed=29, subaccounts=2, suspended_subaccounts=0, products=ProductOptions(without_voice_insights=(1,))
        )
    )
    lacking = dataset.accounts[1]
    assert not dataset.has_voice_insights(lacking)
    with serve(dataset) as emulator:
        run = read(emulator, tmp_path, ["call_summaries", "flows"])
        refused = emulator.stats()["by_status"].get("403", 0)
    assert run.errors == []
    assert refused == 1, "a 403 for a missing feature is not retried"
    warnings = [m for m in run.logs if "call_summaries" in m and lacking in m and "Voice Insights" in m]
    assert len(warnings) == 1 and "403" in warnings[0]
    assert lacking not in by_account(run.records["call_summaries"])
    assert sorted(emitted_keys(run.records["call_summaries"], "call_summaries")) == sorted(
        expected_keys(dataset, "call_summaries")
    )
    assert run.records["flows"], "the other streams sync"


def test_given_verify_lists_when_reading_then_pages_are_at_most_what_verify_allows(tmp_path):
    """Verify refuses PageSize above 100 (400): its lists are asked for 100 at a time, and every record comes."""
    dataset = Dataset(
        DatasetOptions(
            seed=31,
            subaccounts=0,
            suspended_subaccounts=0,
            products=ProductOptions(verify_attempts=30, verify_services=30),
        )
    )
    assert len(dataset.items("verify_attempts")) > 100
    with serve(dataset) as emulator:
        run = read(emulator, tmp_path, ["verify_attempts", "verify_services"])
        stats = emulator.stats()
    assert set(stats["by_status"]) == {"200"}
    assert stats["by_endpoint"]["verify_attempts"] > 1, "the list spans pages of 100"
    for stream in ("verify_attempts", "verify_services"):
        assert sorted(emitted_keys(run.records[stream], stream)) == sorted(expected_keys(dataset, stream))


def test_given_subaccounts_when_reading_pricing_then_each_list_is_read_once(emulator, dataset, tmp_path):
    run = read(emulator, tmp_path, PRICING)
    by_endpoint = emulator.stats()["by_endpoint"]
    for stream in PRICING:
        assert by_endpoint[stream] == 1, stream
        keys = emitted_keys(run.records[stream], stream)
        assert len(keys) == len(set(keys)) == len(expected_keys(dataset, stream)), stream


def test_given_accounts_when_reading_the_balance_then_one_record_per_account(emulator, dataset, tmp_path):
    run = read(emulator, tmp_path, ["balance"])
    records = {record["account_sid"]: record for record in run.records["balance"]}
    assert set(records) == readable_accounts(dataset)
    main = records[dataset.main_account_sid]
    assert isinstance(main["balance"], float) and main["currency"]
    assert all(record["balance"] is None for sid, record in records.items() if sid != dataset.main_account_sid)


def test_given_lists_twilio_keeps_30_days_when_reading_every_account_then_one_warning_says_so_per_stream(
    emulator, tmp_path
):
    """Not one per account: with a thousand subaccounts that was two thousand lines every sync."""
    run = read(emulator, tmp_path, ["monitor_events", "call_summaries"])
    for stream in ("monitor_events", "call_summaries"):
        warnings = [m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] == "WARN"]
        said = [message for message in warnings if message.startswith(stream) and "30 days" in message]
        assert len(said) == 1, said
