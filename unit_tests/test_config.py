from datetime import datetime, timedelta, timezone

import pytest

from source_twilio.config import EMULATOR_URL_ENV, ConfigError, TwilioConfig

NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
SID = "AC" + "a" * 32
KEY = "SK" + "b" * 32
TOKEN = "auth-token-value-0123456789abcdef"


def parse(**config):
    return TwilioConfig.from_mapping(config, now=NOW)


def test_given_airbyte_upstream_config_when_parsed_then_it_works_unchanged():
    config = parse(
        account_sid=SID, auth_token=TOKEN, start_date="2024-01-01T00:00:00Z", lookback_window=60, num_worker=7
    )
    assert (config.username, config.password, config.auth_type) == (SID, TOKEN, "auth_token")
    assert config.start_date == datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert config.lookback == timedelta(minutes=60)
    assert config.num_workers == 7


def test_given_api_key_when_parsed_then_key_is_the_username():
    config = parse(
        account_sid=SID, credentials={"auth_type": "api_key", "api_key_sid": KEY, "api_key_secret": "s" * 32}
    )
    assert (config.username, config.auth_type) == (KEY, "api_key")


def test_given_no_start_date_when_parsed_then_two_years_back_and_defaults():
    config = parse(account_sid=SID, auth_token=TOKEN)
    assert config.start_date == NOW - timedelta(days=730)
    assert config.lookback == timedelta(minutes=360) and config.num_workers == 40


def test_given_both_worker_spellings_when_parsed_then_num_workers_wins():
    assert parse(account_sid=SID, auth_token=TOKEN, num_workers=3, num_worker=9).num_workers == 3


@pytest.mark.parametrize(
    "config, message",
    [
        ({}, "account_sid is missing"),
        ({"account_sid": "AC123", "auth_token": TOKEN}, "is not a Twilio Account SID"),
        ({"account_sid": 12, "auth_token": TOKEN}, "account_sid must be a string"),
        ({"account_sid": KEY, "auth_token": TOKEN}, "account_sid holds an API key SID"),
        ({"account_sid": SID}, "No credentials"),
        ({"account_sid": SID, "credentials": {"auth_type": "api_key", "api_key_sid": KEY}}, "needs both api_key_sid"),
        (
            {"account_sid": SID, "credentials": {"auth_type": "api_key", "api_key_sid": SID, "api_key_secret": "x"}},
            "holds an Account SID",
        ),
        ({"account_sid": SID, "credentials": {"auth_type": "oauth"}}, "must be 'auth_token', 'api_key' or"),
        ({"account_sid": SID, "credentials": "token"}, "credentials must be an object"),
        ({"account_sid": SID, "auth_token": TOKEN, "start_date": "01/02/2024"}, "is not an ISO 8601 date"),
        ({"account_sid": SID, "auth_token": TOKEN, "start_date": "2027-01-01"}, "is in the future"),
        ({"account_sid": SID, "auth_token": TOKEN, "start_date": "2005-01-01"}, "before 2008-01-01"),
        ({"account_sid": SID, "auth_token": TOKEN, "lookback_window": -5}, "lookback_window must be from 0 to 525600"),
        (
            {"account_sid": SID, "auth_token": TOKEN, "lookback_window": 10**9},
            "lookback_window must be from 0 to 525600",
        ),
        (
            {"account_sid": SID, "auth_token": TOKEN, "lookback_window": "soon"},
            "lookback_window must be a whole number",
        ),
        ({"account_sid": SID, "auth_token": TOKEN, "num_workers": 0}, "num_workers must be from 1 to 100"),
        ({"account_sid": SID, "auth_token": TOKEN, "num_worker": 500}, "num_worker must be from 1 to 100"),
        ({"account_sid": SID, "auth_token": TOKEN, "num_workers": True}, "num_workers must be a whole number"),
        ({"account_sid": SID, "auth_token": TOKEN, "region": "eu1"}, "region must be one of us1, ie1, au1"),
        ({"account_sid": SID, "auth_token": TOKEN, "subaccounts": "all"}, "subaccounts must be an object"),
        ({"account_sid": SID, "auth_token": TOKEN, "subaccounts": {"selection": "some"}}, "'all', 'only' or 'except'"),
        (
            {"account_sid": SID, "auth_token": TOKEN, "subaccounts": {"selection": "only"}},
            "subaccounts.sids must be a list",
        ),
        (
            {"account_sid": SID, "auth_token": TOKEN, "subaccounts": {"selection": "except", "sids": ["AC12"]}},
            "not an Account SID",
        ),
        (
            {"account_sid": SID, "auth_token": TOKEN, "subaccounts": {"selection": "only", "sids": [SID]}},
            "lists the main account",
        ),
    ],
)
def test_given_bad_config_when_parsed_then_one_specific_message(config, message):
    with pytest.raises(ConfigError) as raised:
        TwilioConfig.from_mapping(config, now=NOW)
    assert message in raised.value.message
    assert TOKEN not in raised.value.message


def test_given_emulator_variable_when_parsed_then_both_hosts_point_at_it(monkeypatch):
    monkeypatch.setenv(EMULATOR_URL_ENV, "http://127.0.0.1:8555")
    config = parse(account_sid=SID, auth_token=TOKEN)
    assert config.api_base == config.monitor_base == "http://127.0.0.1:8555"
    assert config.allowed_hosts == {"http://127.0.0.1:8555"}


def test_given_no_emulator_variable_when_parsed_then_only_twilio_hosts(monkeypatch):
    monkeypatch.delenv(EMULATOR_URL_ENV, raising=False)
    assert parse(account_sid=SID, auth_token=TOKEN).allowed_hosts == {
        f"https://{product}.twilio.com"
        for product in ("api", "monitor", "conversations", "studio", "trunking", "verify", "messaging", "insights")
    } | {"https://pricing.twilio.com"}


# --- values that could be secrets are never echoed ------------------------------------------------------------

SECRET_LOOKING = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"  # an Auth Token pasted into the wrong field


@pytest.mark.parametrize(
    "config",
    [
        {"account_sid": SECRET_LOOKING, "auth_token": TOKEN},
        {"account_sid": SID, "auth_token": TOKEN, "start_date": SECRET_LOOKING},
        {"account_sid": SID, "auth_token": TOKEN, "lookback_window": SECRET_LOOKING},
        {"account_sid": SID, "auth_token": TOKEN, "num_workers": SECRET_LOOKING},
        {"account_sid": SID, "credentials": {"auth_type": SECRET_LOOKING}},
        {
            "account_sid": SID,
            "credentials": {"auth_type": "api_key", "api_key_sid": SECRET_LOOKING, "api_key_secret": "x" * 32},
        },
    ],
    ids=["account_sid", "start_date", "lookback_window", "num_workers", "auth_type", "api_key_sid"],
)
def test_given_a_secret_pasted_into_the_wrong_field_when_parsed_then_at_most_two_characters_are_shown(config):
    with pytest.raises(ConfigError) as raised:
        TwilioConfig.from_mapping(config, now=NOW)
    assert SECRET_LOOKING[:3] not in raised.value.message, raised.value.message


# --- the emulator override: test-only, and never a way to send credentials elsewhere --------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8555", "http://localhost:8555", "http://[::1]:8555"])
def test_given_emulator_variable_on_loopback_when_parsed_then_plain_http_is_accepted(monkeypatch, url):
    monkeypatch.setenv(EMULATOR_URL_ENV, url)
    monkeypatch.delenv("DEPLOYMENT_MODE", raising=False)
    assert parse(account_sid=SID, auth_token=TOKEN).api_base == url


@pytest.mark.parametrize("url", ["http://twilio.example.com", "http://10.0.0.5:8080", "http://127.0.0.1.example.com"])
def test_given_emulator_variable_with_plain_http_beyond_loopback_when_parsed_then_refused(monkeypatch, url):
    monkeypatch.setenv(EMULATOR_URL_ENV, url)
    monkeypatch.delenv("DEPLOYMENT_MODE", raising=False)
    with pytest.raises(ConfigError) as raised:
        parse(account_sid=SID, auth_token=TOKEN)
    assert EMULATOR_URL_ENV in raised.value.message and "loopback" in raised.value.message


@pytest.mark.parametrize("url", ["http://127.0.0.1:8555", "https://emulator.example.com"])
def test_given_emulator_variable_in_cloud_mode_when_parsed_then_refused(monkeypatch, url):
    monkeypatch.setenv(EMULATOR_URL_ENV, url)
    monkeypatch.setenv("DEPLOYMENT_MODE", "cloud")
    with pytest.raises(ConfigError) as raised:
        parse(account_sid=SID, auth_token=TOKEN)
    assert EMULATOR_URL_ENV in raised.value.message and "cloud" in raised.value.message


@pytest.mark.parametrize(
    "subaccounts, read",
    [
        (None, {"AC" + "1" * 32, "AC" + "2" * 32}),
        ({"selection": "all"}, {"AC" + "1" * 32, "AC" + "2" * 32}),
        ({"selection": "only", "sids": ["AC" + "1" * 32]}, {"AC" + "1" * 32}),
        ({"selection": "except", "sids": [" AC" + "1" * 32 + " "]}, {"AC" + "2" * 32}),
    ],
)
def test_given_a_subaccount_selection_when_parsed_then_it_includes_exactly_the_chosen_subaccounts(subaccounts, read):
    selection = parse(account_sid=SID, auth_token=TOKEN, subaccounts=subaccounts).subaccounts
    assert {sid for sid in ("AC" + "1" * 32, "AC" + "2" * 32) if selection.includes(sid)} == read
