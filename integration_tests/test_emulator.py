"""The Twilio emulator behaves like Twilio as ../shared/twilio-api.md (section 12) describes it.

Every test talks HTTP to a running emulator with ``requests``, the way the connector will.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests

from integration_tests.emulator import STREAMS, Dataset, DatasetOptions, Faults, Item, serve

NOW = datetime(2026, 5, 20, 15, 30, 0, tzinfo=timezone.utc)
REPO_ROOT = Path(__file__).resolve().parents[1]
# Twilio's OpenAPI specs are vendored in the project (vendor/twilio-oai); TWILIO_OAI_DIR points elsewhere.
OAI = Path(os.environ.get("TWILIO_OAI_DIR") or Path(__file__).resolve().parents[1] / "vendor" / "twilio-oai")
API = "/2010-04-01"
TIMEOUT = 10
AUTHENTICATE = {
    "code": 20003,
    "message": "Authenticate",
    "more_info": "https://www.twilio.com/docs/errors/20003",
    "status": 401,
}

COMPONENTS = {
    "accounts": "api.v2010.account",
    "addresses": "api.v2010.account.address",
    "dependent_phone_numbers": "api.v2010.account.address.dependent_phone_number",
    "applications": "api.v2010.account.application",
    "available_phone_number_countries": "api.v2010.account.available_phone_number_country",
    "available_phone_numbers_local": "api.v2010.account.available_phone_number_country.available_phone_number_local",
    "available_phone_numbers_mobile": "api.v2010.account.available_phone_number_country.available_phone_number_mobile",
    "available_phone_numbers_toll_free": (
        "api.v2010.account.available_phone_number_country.available_phone_number_toll_free"
    ),
    "incoming_phone_numbers": "api.v2010.account.incoming_phone_number",
    "keys": "api.v2010.account.key",
    "calls": "api.v2010.account.call",
    "conferences": "api.v2010.account.conference",
    "conference_participants": "api.v2010.account.conference.participant",
    "outgoing_caller_ids": "api.v2010.account.outgoing_caller_id",
    "recordings": "api.v2010.account.recording",
    "transcriptions": "api.v2010.account.transcription",
    "queues": "api.v2010.account.queue",
    "message_media": "api.v2010.account.message.media",
    "messages": "api.v2010.account.message",
    "usage_records": "api.v2010.account.usage.usage_record.usage_record_daily",
    "usage_triggers": "api.v2010.account.usage.usage_trigger",
    "alerts": "monitor.v1.alert",
}
ACCOUNT_LISTS = {
    "addresses": "addresses",
    "applications": "applications",
    "incoming_phone_numbers": "incoming_phone_numbers",
    "keys": "keys",
    "calls": "calls",
    "outgoing_caller_ids": "outgoing_caller_ids",
    "recordings": "recordings",
    "transcriptions": "transcriptions",
    "queues": "queues",
    "messages": "messages",
}
NUMBER_STREAMS = {
    "local": "available_phone_numbers_local",
    "mobile": "available_phone_numbers_mobile",
    "toll_free": "available_phone_numbers_toll_free",
}


# ----- helpers -----


def rfc(value: str | None) -> datetime | None:
    return None if value is None else parsedate_to_datetime(value)


def utc(value: str) -> datetime:
    return parsedate_to_datetime(value).astimezone(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def message_time(record: dict[str, Any]) -> datetime:
    return rfc(record["date_sent"] or record["date_created"])


def within_days(moment: datetime, days: int) -> bool:
    return moment >= NOW - timedelta(days=days)


def session_for(username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.auth = (username, password)
    return session


def get(session: requests.Session, url: str, **params: Any) -> requests.Response:
    return session.get(url, params=params or None, timeout=TIMEOUT)


def read_all(session: requests.Session, base: str, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Follow next_page_uri (2010) or meta.next_page_url (Monitor) to the end."""
    response = get(session, base + path, **params)
    records = []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        records += body[key]
        following = body["meta"]["next_page_url"] if "meta" in body else body.get("next_page_uri")
        if not following:
            return records
        response = session.get(following if "://" in following else base + following, timeout=TIMEOUT)


def crawl(session: requests.Session, base: str) -> dict[str, list[dict[str, Any]]]:
    """Read every stream over HTTP the way a connector would, starting from /Accounts.json."""
    out: dict[str, list[dict[str, Any]]] = {stream: [] for stream in STREAMS}
    out["accounts"] = read_all(session, base, f"{API}/Accounts.json", "accounts", PageSize=1000)
    for account in out["accounts"]:
        if account["status"] != "active":
            continue
        uris, sid = account["subresource_uris"], account["sid"]
        for stream, key in ACCOUNT_LISTS.items():
            out[stream] += read_all(session, base, uris[stream], key, PageSize=1000)
        for status in ("init", "in-progress", "completed"):
            out["conferences"] += read_all(session, base, uris["conferences"], "conferences", Status=status)
        for conference in out["conferences"]:
            if conference["account_sid"] == sid:
                participants = conference["subresource_uris"]["participants"]
                out["conference_participants"] += read_all(session, base, participants, "participants")
        for address in (a for a in out["addresses"] if a["account_sid"] == sid):
            path = f"{API}/Accounts/{sid}/Addresses/{address['sid']}/DependentPhoneNumbers.json"
            out["dependent_phone_numbers"] += read_all(session, base, path, "dependent_phone_numbers")
        countries = get(session, base + uris["available_phone_numbers"]).json()["countries"]
        out["available_phone_number_countries"] += countries
        for country in countries:
            for kind, uri in country["subresource_uris"].items():
                out[NUMBER_STREAMS[kind]] += get(session, base + uri).json()["available_phone_numbers"]
        for message in (m for m in out["messages"] if m["account_sid"] == sid and m["num_media"] != "0"):
            out["message_media"] += read_all(session, base, message["subresource_uris"]["media"], "media_list")
        usage = f"{API}/Accounts/{sid}/Usage/Records/Daily.json"
        out["usage_records"] += read_all(
            session, base, usage, "usage_records", IncludeSubaccounts="false", PageSize=1000
        )
        out["usage_triggers"] += read_all(session, base, f"{API}/Accounts/{sid}/Usage/Triggers.json", "usage_triggers")
    out["alerts"] = read_all(session, base, "/v1/Alerts", "alerts", PageSize=1000)
    return out


def reachable(stream: str, item: Item, dataset: Dataset) -> bool:
    """What a client with the main auth token can read of what the emulator holds."""
    if dataset.account(item.account_sid)["status"] != "active" and stream != "accounts":
        return False
    record = item.record
    if stream == "messages":
        return within_days(message_time(record), 400)
    if stream == "message_media":
        return within_days(rfc(record["date_created"]), 400)
    if stream == "alerts":
        return within_days(datetime.fromisoformat(record["date_generated"].replace("Z", "+00:00")), 30)
    return True


def identity(stream: str, record: dict[str, Any]) -> str:
    if stream == "usage_records":
        return f"{record['account_sid']}/{record['start_date']}/{record['category']}"
    if stream == "conference_participants":
        return f"{record['conference_sid']}/{record['call_sid']}"
    if stream.startswith("available_phone_number"):
        return json.dumps(record, sort_keys=True)
    return record["sid"]


# ----- fixtures -----


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(DatasetOptions(seed=7, now=NOW))


@pytest.fixture(scope="module")
def emulator(dataset: Dataset) -> Iterator[Any]:
    with serve(dataset) as running:
        yield running


@pytest.fixture(scope="module")
def creds(dataset: Dataset) -> dict[str, Any]:
    return dataset.credentials


@pytest.fixture
def client(creds: dict[str, Any]) -> requests.Session:
    return session_for(creds["account_sid"], creds["auth_token"])


@pytest.fixture(scope="module")
def main(creds: dict[str, Any]) -> str:
    return creds["account_sid"]


@pytest.fixture(scope="module")
def active_sub(creds: dict[str, Any]) -> str:
    return next(sid for sid in creds["subaccount_sids"] if sid not in creds["suspended_subaccount_sids"])


@pytest.fixture(scope="module")
def suspended_sub(creds: dict[str, Any]) -> str:
    return creds["suspended_subaccount_sids"][0]


@pytest.fixture(scope="module")
def components() -> dict[str, dict[str, Any]]:
    """Every component schema of the 2010-04-01 and Monitor v1 specs."""
    files = [OAI / "twilio_api_v2010.json", OAI / "twilio_monitor_v1.json"]
    return {
        name: schema for file in files for name, schema in json.loads(file.read_text())["components"]["schemas"].items()
    }


@pytest.fixture(scope="module")
def schemas(components: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {stream: components[name] for stream, name in COMPONENTS.items()}


@pytest.fixture(scope="module")
def crawled(emulator: Any, creds: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return crawl(session_for(creds["account_sid"], creds["auth_token"]), emulator.url)


# ----- authentication -----


def test_given_auth_token_when_listing_accounts_then_main_and_every_subaccount_are_listed(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    accounts = read_all(client, emulator.url, f"{API}/Accounts.json", "accounts")

    assert sorted(a["sid"] for a in accounts) == sorted(dataset.accounts)
    owners = {a["sid"]: a["owner_account_sid"] for a in accounts}
    assert set(owners.values()) == {main}
    assert Counter(a["status"] for a in accounts) == Counter(active=2, suspended=1)


def test_given_auth_token_when_reading_any_active_subaccount_then_ok(
    emulator: Any, client: requests.Session, active_sub: str
) -> None:
    assert get(client, f"{emulator.url}{API}/Accounts/{active_sub}/Messages.json").status_code == 200


def test_given_main_api_key_when_reading_main_then_ok_and_when_reading_subaccount_then_401(
    emulator: Any, creds: dict[str, Any], main: str, active_sub: str
) -> None:
    key = session_for(creds["api_key_sid"], creds["api_key_secret"])

    assert get(key, f"{emulator.url}{API}/Accounts/{main}/Messages.json").status_code == 200
    assert get(key, f"{emulator.url}{API}/Accounts/{main}/Keys.json").status_code == 200
    refused = get(key, f"{emulator.url}{API}/Accounts/{active_sub}/Messages.json")
    assert (refused.status_code, refused.json()) == (401, AUTHENTICATE)


@pytest.mark.parametrize("path", ["/Accounts.json", "/Accounts/{main}.json", "/Accounts/{main}/Keys.json"])
def test_given_standard_key_when_reading_accounts_or_keys_then_401(
    emulator: Any, creds: dict[str, Any], main: str, path: str
) -> None:
    standard = session_for(creds["standard_key_sid"], creds["standard_key_secret"])

    response = get(standard, emulator.url + API + path.format(main=main))

    assert (response.status_code, response.json()) == (401, AUTHENTICATE)


def test_given_standard_key_when_reading_other_main_account_lists_then_ok(
    emulator: Any, creds: dict[str, Any], main: str
) -> None:
    standard = session_for(creds["standard_key_sid"], creds["standard_key_secret"])

    for path in (f"{API}/Accounts/{main}/Messages.json", f"{API}/Accounts/{main}/Calls.json", "/v1/Alerts"):
        assert get(standard, emulator.url + path).status_code == 200, path


@pytest.mark.parametrize("resource", ["Messages.json", "Calls.json", "Usage/Records/Daily.json", "Keys.json"])
def test_given_suspended_subaccount_when_reading_its_resources_with_the_auth_token_then_401(
    emulator: Any, client: requests.Session, suspended_sub: str, resource: str
) -> None:
    response = get(client, f"{emulator.url}{API}/Accounts/{suspended_sub}/{resource}")

    assert (response.status_code, response.json()) == (401, AUTHENTICATE)


def test_given_suspended_subaccount_when_fetching_its_account_record_then_it_shows_suspended(
    emulator: Any, client: requests.Session, suspended_sub: str
) -> None:
    response = get(client, f"{emulator.url}{API}/Accounts/{suspended_sub}.json")

    assert response.status_code == 200
    assert response.json()["status"] == "suspended"


@pytest.mark.parametrize("auth", ["none", "wrong_token", "unknown_sid", "secret_swapped"])
def test_given_bad_credentials_then_401_with_twilio_body(
    emulator: Any, creds: dict[str, Any], main: str, auth: str
) -> None:
    sessions = {
        "none": requests.Session(),
        "wrong_token": session_for(main, "0" * 32),
        "unknown_sid": session_for("AC" + "1" * 32, creds["auth_token"]),
        "secret_swapped": session_for(creds["api_key_sid"], creds["standard_key_secret"]),
    }

    response = get(sessions[auth], f"{emulator.url}{API}/Accounts/{main}/Messages.json")

    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == AUTHENTICATE


def test_given_an_account_sid_that_is_not_ours_in_the_path_then_401(emulator: Any, client: requests.Session) -> None:
    response = get(client, f"{emulator.url}{API}/Accounts/AC{'1' * 32}/Messages.json")

    assert (response.status_code, response.json()) == (401, AUTHENTICATE)


def test_given_subaccount_token_when_reading_main_account_then_401_and_own_account_ok(
    emulator: Any, creds: dict[str, Any], main: str, active_sub: str
) -> None:
    sub = session_for(active_sub, creds["subaccount_auth_tokens"][active_sub])

    assert get(sub, f"{emulator.url}{API}/Accounts/{main}/Messages.json").status_code == 401
    assert get(sub, f"{emulator.url}{API}/Accounts/{active_sub}/Messages.json").status_code == 200
    listed = get(sub, f"{emulator.url}{API}/Accounts.json").json()["accounts"]
    assert [a["sid"] for a in listed] == [active_sub]


# ----- paths -----


@pytest.mark.parametrize(
    "path",
    [
        "/Accounts/{main}/Messages",
        "/Accounts/{main}/messages.json",
        "/Accounts/{main}/Widgets.json",
        "/Accounts/null/Messages.json",
        "/Accounts/{main}/Usage/Records/Fortnightly.json",
    ],
)
def test_given_unknown_path_then_404_naming_the_path(
    emulator: Any, client: requests.Session, main: str, path: str
) -> None:
    full = API + path.format(main=main)

    response = get(client, emulator.url + full)

    assert response.status_code == 404
    assert response.json() == {
        "code": 20404,
        "message": f"The requested resource {full} was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }


@pytest.mark.parametrize("path", ["ZZ/Local.json", "DK/Mobile.json", "US/Mobile.json", "GB/TollFree.json"])
def test_given_country_or_number_type_not_offered_then_404(
    emulator: Any, client: requests.Session, main: str, path: str
) -> None:
    response = get(client, f"{emulator.url}{API}/Accounts/{main}/AvailablePhoneNumbers/{path}")

    assert (response.status_code, response.json()["code"]) == (404, 20404)


def test_given_countries_then_subresource_uris_list_only_offered_types_and_envelope_has_no_paging(
    emulator: Any, client: requests.Session, main: str
) -> None:
    body = get(client, f"{emulator.url}{API}/Accounts/{main}/AvailablePhoneNumbers.json").json()

    assert set(body) == {"countries", "uri", "end"}
    offered = {c["country_code"]: set(c["subresource_uris"]) for c in body["countries"]}
    assert offered["DK"] == {"local"}
    assert offered["GB"] == {"local", "mobile"}
    assert offered["US"] == {"local", "toll_free"}
    numbers = get(client, emulator.url + body["countries"][0]["subresource_uris"]["local"]).json()
    assert set(numbers) == {"available_phone_numbers", "uri"}
    assert 3 <= len(numbers["available_phone_numbers"]) <= 10


def test_given_responses_then_content_type_is_json(emulator: Any, client: requests.Session, main: str) -> None:
    for path in (f"{API}/Accounts/{main}/Calls.json", f"{API}/Accounts/{main}/Nope.json", "/v1/Alerts"):
        assert get(client, emulator.url + path).headers["Content-Type"] == "application/json"


# ----- paging -----


def test_given_small_pages_when_following_next_page_uri_then_every_reachable_message_comes_once(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    served = read_all(client, emulator.url, f"{API}/Accounts/{main}/Messages.json", "messages", PageSize=37)

    expected = [
        i.record["sid"]
        for i in dataset.items("messages")
        if i.account_sid == main and reachable("messages", i, dataset)
    ]
    sids = [m["sid"] for m in served]
    assert len(sids) == len(set(sids))
    assert sorted(sids) == sorted(expected)


def test_given_first_page_then_envelope_is_relative_and_next_page_uri_keeps_filters(
    emulator: Any, client: requests.Session, main: str
) -> None:
    path = f"{API}/Accounts/{main}/Messages.json"

    body = get(client, emulator.url + path, **{"DateSent>": "2026-01-01", "PageSize": 2}).json()

    assert set(body) == {
        "messages",
        "page",
        "page_size",
        "start",
        "end",
        "uri",
        "first_page_uri",
        "next_page_uri",
        "previous_page_uri",
    }
    assert (body["page"], body["page_size"], body["start"], body["end"]) == (0, 2, 0, 1)
    assert body["first_page_uri"] == f"{path}?DateSent%3E=2026-01-01&PageSize=2&Page=0"
    assert body["uri"] == body["first_page_uri"]
    assert body["previous_page_uri"] is None
    last_sid = body["messages"][-1]["sid"]
    assert body["next_page_uri"] == f"{path}?DateSent%3E=2026-01-01&PageSize=2&Page=1&PageToken=PA{last_sid}"
    second = get(client, emulator.url + body["next_page_uri"]).json()
    assert (second["page"], second["start"], second["end"]) == (1, 2, 3)
    assert second["previous_page_uri"].endswith(f"Page=0&PageToken=PB{second['messages'][0]['sid']}")
    assert get(client, emulator.url + second["previous_page_uri"]).json()["messages"] == body["messages"]


def test_given_last_page_then_next_page_uri_is_null(emulator: Any, client: requests.Session, main: str) -> None:
    body = get(client, f"{emulator.url}{API}/Accounts/{main}/Queues.json").json()

    assert body["next_page_uri"] is None
    assert len(body["queues"]) == 3


def test_given_page_above_zero_without_page_token_then_400_20001(
    emulator: Any, client: requests.Session, main: str
) -> None:
    response = get(client, f"{emulator.url}{API}/Accounts/{main}/Messages.json", Page=1, PageSize=10)

    assert response.status_code == 400
    assert response.json() == {
        "code": 20001,
        "message": "PageToken is required for paging.",
        "more_info": "https://www.twilio.com/docs/errors/20001",
        "status": 400,
    }


@pytest.mark.parametrize("size", ["0", "1001", "-5", "fifty"])
def test_given_page_size_outside_1_to_1000_then_400_20001(
    emulator: Any, client: requests.Session, main: str, size: str
) -> None:
    response = get(client, f"{emulator.url}{API}/Accounts/{main}/Calls.json", PageSize=size)

    assert (response.status_code, response.json()["code"]) == (400, 20001)


def test_given_page_size_1000_then_accepted(emulator: Any, client: requests.Session, main: str) -> None:
    response = get(client, f"{emulator.url}{API}/Accounts/{main}/Calls.json", PageSize=1000)

    assert response.status_code == 200
    assert response.json()["page_size"] == 1000


@pytest.mark.parametrize("token", ["PAnot-a-sid", "XYZ", "PA" + "SM" + "0" * 32])
def test_given_unknown_page_token_then_400_21481(
    emulator: Any, client: requests.Session, main: str, token: str
) -> None:
    response = get(client, f"{emulator.url}{API}/Accounts/{main}/Messages.json", Page=1, PageToken=token)

    assert (response.status_code, response.json()["code"]) == (400, 21481)


def test_given_usage_records_when_paging_then_page_token_is_opaque_base64_and_pages_do_not_overlap(
    emulator: Any, client: requests.Session, main: str
) -> None:
    path = f"{API}/Accounts/{main}/Usage/Records/Daily.json"

    first = get(client, emulator.url + path, PageSize=4, StartDate="2026-05-10").json()
    records = read_all(client, emulator.url, path, "usage_records", PageSize=4, StartDate="2026-05-10")

    token = unquote(first["next_page_uri"].split("PageToken=")[1])
    last = first["usage_records"][-1]
    assert token.startswith("PA")
    assert base64.urlsafe_b64decode(token[2:]).decode() == f"{last['start_date']}|{last['category']}"
    keys = [(r["start_date"], r["category"]) for r in records]
    assert len(keys) == len(set(keys)) == 11 * 6


# ----- ordering -----


def test_given_lists_then_newest_first_by_their_sort_time(emulator: Any, client: requests.Session, main: str) -> None:
    messages = read_all(client, emulator.url, f"{API}/Accounts/{main}/Messages.json", "messages", PageSize=1000)
    calls = read_all(client, emulator.url, f"{API}/Accounts/{main}/Calls.json", "calls", PageSize=1000)
    recordings = read_all(client, emulator.url, f"{API}/Accounts/{main}/Recordings.json", "recordings")

    message_times = [message_time(m) for m in messages]
    call_times = [rfc(c["start_time"] or c["date_created"]) for c in calls]
    recording_times = [rfc(r["date_created"]) for r in recordings]
    for times in (message_times, call_times, recording_times):
        assert times == sorted(times, reverse=True)


# ----- filters -----


def _main_items(dataset: Dataset, stream: str, main: str) -> list[dict[str, Any]]:
    return [i.record for i in dataset.items(stream) if i.account_sid == main]


def test_given_date_sent_bounds_with_time_of_day_then_inclusive_to_the_second(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    sent = [
        m for m in _main_items(dataset, "messages", main) if m["date_sent"] and within_days(rfc(m["date_sent"]), 390)
    ]
    target = sent[len(sent) // 2]
    moment = rfc(target["date_sent"])
    path = f"{emulator.url}{API}/Accounts/{main}/Messages.json"

    exact = get(client, path, **{"DateSent>": iso(moment), "DateSent<": iso(moment)}).json()["messages"]
    after = get(client, path, **{"DateSent>": iso(moment + timedelta(seconds=1)), "PageSize": 1000}).json()["messages"]

    assert target["sid"] in {m["sid"] for m in exact}
    assert all(rfc(m["date_sent"]) == moment for m in exact)
    assert target["sid"] not in {m["sid"] for m in after}


def test_given_date_only_values_then_whole_utc_days_are_included(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    day = (NOW - timedelta(days=17)).date()
    midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    edges = {
        m["sid"]
        for m in _main_items(dataset, "messages", main)
        if m["date_sent"] and rfc(m["date_sent"]) in (midnight, midnight + timedelta(seconds=86_399))
    }
    path = f"{API}/Accounts/{main}/Messages.json"

    on_day = read_all(client, emulator.url, path, "messages", DateSent=str(day))
    between = read_all(client, emulator.url, path, "messages", **{"DateSent>": str(day), "DateSent<": str(day)})

    assert len(edges) == 2
    assert edges <= {m["sid"] for m in on_day}
    assert {m["sid"] for m in between} == {m["sid"] for m in on_day}
    assert all(utc(m["date_sent"]).date() == day for m in on_day)


def test_given_calls_start_time_with_time_of_day_then_compared_by_utc_day_only(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    calls = [c for c in _main_items(dataset, "calls", main) if c["start_time"] and utc(c["start_time"]).hour == 12]
    target = calls[0]
    day = utc(target["start_time"]).date()
    path = f"{emulator.url}{API}/Accounts/{main}/Calls.json"

    late_bound = get(client, path, **{"StartTime>": f"{day}T23:59:59Z", "PageSize": 1000}).json()["calls"]
    early_bound = get(client, path, **{"StartTime<": f"{day} 00:00:00", "PageSize": 1000}).json()["calls"]

    assert target["sid"] in {c["sid"] for c in late_bound}
    assert target["sid"] in {c["sid"] for c in early_bound}


def test_given_conferences_date_created_with_time_of_day_then_compared_by_utc_day_only(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    target = next(c for c in _main_items(dataset, "conferences", main) if c["status"] == "completed")
    day = utc(target["date_created"]).date()
    path = f"{emulator.url}{API}/Accounts/{main}/Conferences.json"

    found = get(client, path, Status="completed", **{"DateCreated>": f"{day}T23:59:59Z", "DateCreated<": str(day)})

    assert target["sid"] in {c["sid"] for c in found.json()["conferences"]}


def test_given_messages_date_sent_with_time_of_day_then_not_day_only(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    target = next(
        m for m in _main_items(dataset, "messages", main) if m["date_sent"] and 1 <= utc(m["date_sent"]).hour <= 22
    )
    day = utc(target["date_sent"]).date()

    found = get(client, f"{emulator.url}{API}/Accounts/{main}/Messages.json", **{"DateSent>": f"{day}T23:00:00Z"})

    assert target["sid"] not in {m["sid"] for m in found.json()["messages"]}


def test_given_records_with_null_filtered_field_then_they_never_match(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    yesterday = str((NOW - timedelta(days=1)).date())
    unsent = {m["sid"] for m in _main_items(dataset, "messages", main) if m["date_sent"] is None}
    unended = {c["sid"] for c in _main_items(dataset, "calls", main) if c["end_time"] is None}
    unstarted = {c["sid"] for c in _main_items(dataset, "calls", main) if c["start_time"] is None}
    base = f"{emulator.url}{API}/Accounts/{main}"

    messages = get(client, f"{base}/Messages.json", **{"DateSent>": yesterday, "PageSize": 1000}).json()["messages"]
    ended = get(client, f"{base}/Calls.json", **{"EndTime>": yesterday, "PageSize": 1000}).json()["calls"]
    started = get(client, f"{base}/Calls.json", **{"StartTime>": yesterday, "PageSize": 1000}).json()["calls"]

    assert unsent and unended and unstarted
    assert messages and not unsent & {m["sid"] for m in messages}
    assert ended and not unended & {c["sid"] for c in ended}
    assert started and not unstarted & {c["sid"] for c in started}


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-13-01", "2026-05-01T10:00:00", "06/11/2019 22:05:25 MST", "1716200000"]
)
def test_given_unparseable_date_filter_then_400_20001_with_a_message(
    emulator: Any, client: requests.Session, main: str, value: str
) -> None:
    response = get(client, f"{emulator.url}{API}/Accounts/{main}/Calls.json", **{"StartTime>": value})

    assert (response.status_code, response.json()["code"]) == (400, 20001)
    assert "StartTime>" in response.json()["message"]


def test_given_the_same_instant_in_each_accepted_format_then_the_same_messages(
    emulator: Any, client: requests.Session, main: str
) -> None:
    moment = NOW - timedelta(days=20, hours=3)
    spellings = [
        iso(moment),
        moment.strftime("%Y-%m-%d %H:%M:%S"),
        moment.strftime("%Y-%m-%d %H:%M:%SZ"),
        moment.strftime("%a, %d %b %Y %H:%M:%S +0000"),
        moment.astimezone(timezone(timedelta(hours=-8))).strftime("%a, %d %b %Y %H:%M:%S -0800"),
    ]
    path = f"{API}/Accounts/{main}/Messages.json"

    results = [
        sorted(m["sid"] for m in read_all(client, emulator.url, path, "messages", **{"DateSent>": s, "PageSize": 1000}))
        for s in spellings
    ]

    assert all(result == results[0] for result in results)
    assert results[0]


def test_given_no_status_when_listing_conferences_then_only_in_progress_ones(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    path = f"{API}/Accounts/{main}/Conferences.json"
    held = Counter(c["status"] for c in _main_items(dataset, "conferences", main))

    default = read_all(client, emulator.url, path, "conferences")
    by_status = {s: read_all(client, emulator.url, path, "conferences", Status=s) for s in held}

    assert set(held) == {"init", "in-progress", "completed"}
    assert {c["status"] for c in default} == {"in-progress"}
    assert len(default) == held["in-progress"]
    assert {s: len(found) for s, found in by_status.items()} == dict(held)
    assert all({c["status"] for c in found} == {s} for s, found in by_status.items())


def test_given_conferences_then_participants_only_in_init_and_in_progress_ones(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    conferences = _main_items(dataset, "conferences", main)
    counts = {}
    for conference in conferences:
        participants = read_all(client, emulator.url, conference["subresource_uris"]["participants"], "participants")
        counts[conference["sid"]] = (conference["status"], len(participants))

    assert all(n == 0 for status, n in counts.values() if status == "completed")
    assert all(1 <= n <= 4 for status, n in counts.values() if status != "completed")


def test_given_unknown_conference_or_address_then_404(emulator: Any, client: requests.Session, main: str) -> None:
    base = f"{emulator.url}{API}/Accounts/{main}"

    assert get(client, f"{base}/Conferences/CF{'0' * 32}/Participants.json").status_code == 404
    assert get(client, f"{base}/Addresses/AD{'0' * 32}/DependentPhoneNumbers.json").status_code == 404


# ----- usage records -----


def _usage(client: requests.Session, emulator: Any, account: str, **params: Any) -> dict[tuple[str, str], dict]:
    path = f"{API}/Accounts/{account}/Usage/Records/Daily.json"
    records = read_all(client, emulator.url, path, "usage_records", PageSize=1000, **params)
    return {(r["start_date"], r["category"]): r for r in records}


def test_given_include_subaccounts_default_then_main_records_sum_every_subaccount(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    window = {"StartDate": "2026-05-01", "EndDate": "2026-05-07"}
    default = _usage(client, emulator, main, **window)
    own = _usage(client, emulator, main, IncludeSubaccounts="false", **window)
    held = [i.record for i in dataset.items("usage_records") if "2026-05-01" <= i.record["start_date"] <= "2026-05-07"]

    assert default.keys() == own.keys()
    assert len(default) == 7 * 6
    for key, record in default.items():
        parts = [r for r in held if (r["start_date"], r["category"]) == key]
        assert len(parts) == len(dataset.accounts)
        assert int(record["count"]) == sum(int(r["count"]) for r in parts)
        assert float(record["price"]) == pytest.approx(sum(float(r["price"]) for r in parts))
        assert record["account_sid"] == main
    assert any(int(default[k]["count"]) > int(own[k]["count"]) for k in default)
    assert all(r["start_date"] == r["end_date"] for r in default.values())


def test_given_end_date_before_account_creation_then_404(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    created = utc(dataset.account(main)["date_created"]).date()
    path = f"{emulator.url}{API}/Accounts/{main}/Usage/Records/Daily.json"

    before = get(client, path, StartDate=str(created - timedelta(days=30)), EndDate=str(created - timedelta(days=1)))
    on = get(client, path, StartDate=str(created - timedelta(days=30)), EndDate=str(created))

    assert (before.status_code, before.json()["code"]) == (404, 20404)
    assert on.status_code == 200


def test_given_relative_start_date_then_it_counts_back_from_today(
    emulator: Any, client: requests.Session, main: str
) -> None:
    records = _usage(client, emulator, main, StartDate="-2days", IncludeSubaccounts="false")

    assert {day for day, _ in records} == {str((NOW - timedelta(days=n)).date()) for n in range(3)}


def test_given_usage_then_as_of_is_the_request_time(emulator: Any, client: requests.Session, main: str) -> None:
    records = _usage(client, emulator, main, StartDate="2026-05-19")

    as_of = {datetime.fromisoformat(r["as_of"]) for r in records.values()}
    assert len(as_of) == 1
    assert NOW <= as_of.pop() <= NOW + timedelta(minutes=10)


@pytest.mark.parametrize("params", [{"StartDate": "May 1st"}, {"IncludeSubaccounts": "maybe"}])
def test_given_bad_usage_parameters_then_400(
    emulator: Any, client: requests.Session, main: str, params: dict[str, str]
) -> None:
    response = get(client, f"{emulator.url}{API}/Accounts/{main}/Usage/Records/Daily.json", **params)

    assert (response.status_code, response.json()["code"]) == (400, 20001)


# ----- retention -----


@pytest.mark.parametrize("key", ["DateSent>", "DateSent", "DateSent<"])
def test_given_message_date_filter_older_than_400_days_then_400_20004(
    emulator: Any, client: requests.Session, main: str, key: str
) -> None:
    old = str((NOW - timedelta(days=401)).date())

    response = get(client, f"{emulator.url}{API}/Accounts/{main}/Messages.json", **{key: old})

    assert response.status_code == 400
    assert response.json() == {
        "code": 20004,
        "message": "Date range specified in query is partially or entirely outside of retention window of 400 days",
        "more_info": "https://www.twilio.com/docs/errors/20004",
        "status": 400,
    }


def test_given_no_filter_then_messages_older_than_400_days_are_gone(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    held = _main_items(dataset, "messages", main)

    served = read_all(client, emulator.url, f"{API}/Accounts/{main}/Messages.json", "messages", PageSize=1000)

    assert any(not within_days(message_time(m), 400) for m in held)
    assert all(within_days(message_time(m), 400) for m in served)
    assert len(served) == sum(within_days(message_time(m), 400) for m in held)


def test_given_media_date_filter_older_than_400_days_then_400_20004_and_old_messages_media_is_gone(
    emulator: Any, client: requests.Session, dataset: Dataset, main: str
) -> None:
    with_media = [m for m in _main_items(dataset, "messages", main) if m["num_media"] != "0"]
    recent = next(m for m in with_media if within_days(message_time(m), 400))
    ancient = next(m for m in with_media if not within_days(message_time(m), 400))
    old = str((NOW - timedelta(days=401)).date())

    refused = get(client, emulator.url + recent["subresource_uris"]["media"], **{"DateCreated>": old})
    listed = get(client, emulator.url + recent["subresource_uris"]["media"])
    gone = get(client, emulator.url + ancient["subresource_uris"]["media"])

    assert (refused.status_code, refused.json()["code"]) == (400, 20004)
    assert len(listed.json()["media_list"]) == int(recent["num_media"])
    assert (gone.status_code, gone.json()["code"]) == (404, 20404)


def test_given_alerts_start_date_older_than_30_days_then_400_20001(emulator: Any, client: requests.Session) -> None:
    response = get(client, f"{emulator.url}/v1/Alerts", StartDate=iso(NOW - timedelta(days=31)))

    assert (response.status_code, response.json()["code"]) == (400, 20001)
    assert "30 days" in response.json()["message"]


def test_given_no_filter_then_alerts_of_the_last_30_days_only(
    emulator: Any, client: requests.Session, dataset: Dataset
) -> None:
    def generated(record: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(record["date_generated"].replace("Z", "+00:00"))

    held = [i.record for i in dataset.items("alerts")]

    served = read_all(client, emulator.url, "/v1/Alerts", "alerts", PageSize=7)

    assert any(not within_days(generated(a), 30) for a in held)
    assert sorted(a["sid"] for a in served) == sorted(a["sid"] for a in held if within_days(generated(a), 30))
    assert [generated(a) for a in served] == sorted((generated(a) for a in served), reverse=True)


def test_given_alerts_query_matching_more_than_10000_then_400() -> None:
    busy = Dataset(
        DatasetOptions(
            seed=3,
            now=NOW,
            subaccounts=0,
            suspended_subaccounts=0,
            messages_per_account=10,
            calls_per_account=10,
            alerts=16_000,
        )
    )
    creds = busy.credentials
    session = session_for(creds["account_sid"], creds["auth_token"])

    with serve(busy) as running:
        too_many = get(session, f"{running.url}/v1/Alerts")
        narrowed = get(session, f"{running.url}/v1/Alerts", StartDate=iso(NOW - timedelta(days=5)))

    assert (too_many.status_code, too_many.json()["code"]) == (400, 20001)
    assert "10,000 results" in too_many.json()["message"]
    assert narrowed.status_code == 200


# ----- Monitor envelope -----


def test_given_alerts_then_meta_envelope_with_absolute_urls_from_the_host_header(
    emulator: Any, client: requests.Session
) -> None:
    body = get(client, f"{emulator.url}/v1/Alerts", PageSize=5, LogLevel="error").json()
    proxied = client.get(
        f"{emulator.url}/v1/Alerts", params={"PageSize": 5}, headers={"Host": "monitor.example:8443"}, timeout=TIMEOUT
    ).json()

    meta = body["meta"]
    assert set(body) == {"alerts", "meta"}
    assert meta["key"] == "alerts"
    assert (meta["page"], meta["page_size"], meta["previous_page_url"]) == (0, 5, None)
    assert meta["url"] == meta["first_page_url"] == f"{emulator.url}/v1/Alerts?LogLevel=error&PageSize=5&Page=0"
    assert meta["next_page_url"].startswith(f"{emulator.url}/v1/Alerts?LogLevel=error&PageSize=5&Page=1&PageToken=PANO")
    assert {a["log_level"] for a in body["alerts"]} == {"error"}
    assert proxied["meta"]["next_page_url"].startswith("http://monitor.example:8443/v1/Alerts?")


# ----- records: completeness and wire types -----


def test_given_every_stream_when_crawled_over_http_then_every_record_has_every_spec_property(
    crawled: dict[str, list[dict[str, Any]]], schemas: dict[str, dict[str, Any]]
) -> None:
    for stream, records in crawled.items():
        assert records, stream
        expected = set(schemas[stream]["properties"])
        missing = [expected - set(r) for r in records if expected - set(r)]
        assert not missing, (stream, missing[:3])


def test_given_every_stream_then_items_hold_every_spec_property_too(
    dataset: Dataset, schemas: dict[str, dict[str, Any]]
) -> None:
    for stream in STREAMS:
        expected = set(schemas[stream]["properties"])
        assert all(expected <= set(i.record) for i in dataset.items(stream)), stream


def test_given_every_stream_then_values_match_the_spec_patterns_and_enums(
    dataset: Dataset, schemas: dict[str, dict[str, Any]], components: dict[str, dict[str, Any]]
) -> None:
    def resolve(prop: dict[str, Any]) -> dict[str, Any]:
        return components[prop["$ref"].rsplit("/", 1)[1]] if "$ref" in prop else prop

    for stream in STREAMS:
        rules = {name: resolve(prop) for name, prop in schemas[stream]["properties"].items()}
        for item in dataset.items(stream):
            for name, rule in rules.items():
                value = item.record[name]
                # Twilio sends "" for unset application SIDs on phone numbers (its own fixture does too).
                if value is None or value == "":
                    continue
                if "pattern" in rule:
                    assert re.match(rule["pattern"], value), (stream, name, value)
                if "enum" in rule:
                    assert value in rule["enum"], (stream, name, value)


def test_given_a_crawl_then_it_returns_exactly_the_reachable_items(
    crawled: dict[str, list[dict[str, Any]]], dataset: Dataset
) -> None:
    for stream in STREAMS:
        held = [i for i in dataset.items(stream) if reachable(stream, i, dataset)]
        served = crawled[stream]
        if stream == "usage_records":
            served = [dict(r, as_of=None) for r in served]
            held = [Item(i.account_sid, dict(i.record, as_of=None)) for i in held]
        by_id = {identity(stream, i.record): i.record for i in held}
        assert Counter(identity(stream, r) for r in served) == Counter(list(by_id)), stream
        assert all(r == by_id[identity(stream, r)] for r in served), stream


def test_given_records_then_values_are_typed_as_twilio_sends_them(dataset: Dataset) -> None:
    messages = [i.record for i in dataset.items("messages")]
    calls = [i.record for i in dataset.items("calls")]
    usage = [i.record for i in dataset.items("usage_records")]

    assert all(isinstance(m["num_media"], str) and isinstance(m["num_segments"], str) for m in messages)
    assert all(m["price"] is None or m["price"].startswith("-0.") for m in messages)
    assert any(m["price"] is None and m["status"] == "queued" for m in messages)
    assert all(c["duration"] is None or c["duration"].isdigit() for c in calls)
    assert all(isinstance(r["channels"], int) for r in (i.record for i in dataset.items("recordings")))
    assert all(isinstance(r["price"], str) and isinstance(r["count"], str) for r in usage)
    assert all(len(r["start_date"]) == 10 and r["start_date"] == r["end_date"] for r in usage)
    alerts = [i.record for i in dataset.items("alerts")]
    assert all(a["date_generated"].endswith("Z") and isinstance(a["error_code"], str) for a in alerts)
    offsets = {m["date_created"][-5:] for m in messages}
    assert {"+0000", "-0800", "+0530"} <= offsets


def test_given_records_with_both_dates_then_date_updated_is_never_before_date_created(dataset: Dataset) -> None:
    for stream in STREAMS:
        for item in dataset.items(stream):
            created, updated = item.record.get("date_created"), item.record.get("date_updated")
            if created and updated:
                parse = rfc if stream != "alerts" else (lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")))
                assert parse(updated) >= parse(created), (stream, item.record)


def test_given_messages_then_media_counts_match_and_about_a_fifth_have_media(dataset: Dataset) -> None:
    media = Counter(i.parent for i in dataset.items("message_media"))
    messages = [i.record for i in dataset.items("messages")]

    assert all(media[m["sid"]] == int(m["num_media"]) for m in messages)
    assert all((m["num_media"] != "0") == m["sid"].startswith("MM") for m in messages)
    assert 0.12 < sum(m["num_media"] != "0" for m in messages) / len(messages) < 0.3


def test_given_the_dataset_then_its_shape_matches_the_options(dataset: Dataset) -> None:
    def statuses(stream: str) -> Counter[str]:
        return Counter(i.record["status"] for i in dataset.items(stream))

    assert len(dataset.accounts) == 3
    assert len(dataset.items("messages")) == 900
    assert len(dataset.items("calls")) == 450
    assert {"queued", "scheduled"} <= set(statuses("messages"))
    assert any(i.record["date_sent"] is None and i.record["status"] == "failed" for i in dataset.items("messages"))
    assert all(
        i.record["start_time"] is None for i in dataset.items("calls") if i.record["status"] in ("queued", "ringing")
    )
    assert {"queued", "ringing", "in-progress", "completed"} <= set(statuses("calls"))
    assert any(i.record["price"] is None and i.record["status"] == "completed" for i in dataset.items("calls"))
    assert {"init", "in-progress", "completed"} == set(statuses("conferences"))
    addresses = Counter(i.parent for i in dataset.items("dependent_phone_numbers"))
    assert any(addresses[i.record["sid"]] == 0 for i in dataset.items("addresses"))
    assert all(1 <= n <= 3 for n in addresses.values())
    assert all(i.record["conference_sid"] for i in dataset.items("conference_participants"))
    assert any(i.record["conference_sid"] for i in dataset.items("recordings"))
    recordings = {i.record["sid"] for i in dataset.items("recordings")}
    assert all(i.record["recording_sid"] in recordings for i in dataset.items("transcriptions"))
    assert {i.parent for i in dataset.items("available_phone_numbers_mobile")} == {"AU", "GB"}


def test_given_the_dataset_then_edge_instants_exist_and_retention_edges_are_clear(dataset: Dataset) -> None:
    sent = [message_time(i.record) for i in dataset.items("messages")]
    starts = [rfc(i.record["start_time"]) for i in dataset.items("calls") if i.record["start_time"]]
    alerts = [datetime.fromisoformat(i.record["date_generated"][:-1] + "+00:00") for i in dataset.items("alerts")]

    for times in (sent, starts, alerts):
        assert any(t.astimezone(timezone.utc).strftime("%H:%M:%S") == "00:00:00" for t in times)
        assert any(t.astimezone(timezone.utc).strftime("%H:%M:%S") == "23:59:59" for t in times)
    assert not [t for t in sent if abs((NOW - t) - timedelta(days=400)) < timedelta(days=1)]
    assert not [t for t in alerts if abs((NOW - t) - timedelta(days=30)) < timedelta(days=1)]
    assert min(sent) < NOW - timedelta(days=430)
    assert min(starts) < NOW - timedelta(days=1000)
    assert any(NOW - t < timedelta(minutes=30) for t in sent)


def test_given_two_accounts_then_messages_and_calls_share_no_sid(dataset: Dataset) -> None:
    for stream in ("messages", "calls"):
        owners: dict[str, set[str]] = {}
        for item in dataset.items(stream):
            owners.setdefault(item.record["sid"], set()).add(item.account_sid)
        assert all(len(accounts) == 1 for accounts in owners.values())


def test_given_the_same_seed_and_now_then_the_same_items_and_another_seed_differs(dataset: Dataset) -> None:
    again = Dataset(DatasetOptions(seed=7, now=NOW))
    other = Dataset(DatasetOptions(seed=8, now=NOW))

    for stream in STREAMS:
        assert again.items(stream) == dataset.items(stream), stream
    assert again.credentials == dataset.credentials
    assert {i.record["sid"] for i in other.items("messages")}.isdisjoint(
        i.record["sid"] for i in dataset.items("messages")
    )


def test_given_20000_messages_per_account_then_pages_of_1000_are_served() -> None:
    # Speed is measured by `make bench`, not asserted here.
    big = Dataset(DatasetOptions(seed=5, now=NOW, messages_per_account=20_000))
    creds = big.credentials
    session = session_for(creds["account_sid"], creds["auth_token"])

    with serve(big) as running:
        path = f"{API}/Accounts/{creds['account_sid']}/Messages.json"
        body = get(session, running.url + path, PageSize=1000).json()
        for _ in range(4):
            body = session.get(running.url + body["next_page_uri"], timeout=TIMEOUT).json()

    assert len(body["messages"]) == 1000
    assert body["page"] == 4


# ----- mutations -----


@pytest.fixture
def small() -> Dataset:
    return Dataset(
        DatasetOptions(
            seed=11, now=NOW, subaccounts=2, suspended_subaccounts=1, messages_per_account=60, calls_per_account=30
        )
    )


def test_given_mutate_then_new_and_changed_records_are_served_with_date_updated_at_the_mutation_time(
    small: Dataset,
) -> None:
    creds = small.credentials
    session = session_for(creds["account_sid"], creds["auth_token"])
    active_before = [sid for sid in small.accounts if small.account(sid)["status"] == "active"]

    with serve(small) as running:
        summary = small.mutate()
        moment = datetime.fromtimestamp(summary["epoch"], tz=timezone.utc)
        served = {
            sid: {
                m["sid"]: m
                for m in read_all(
                    session, running.url, f"{API}/Accounts/{sid}/Messages.json", "messages", PageSize=1000
                )
            }
            for sid in active_before
        }
        calls = {
            c["sid"]: c
            for sid in active_before
            for c in read_all(session, running.url, f"{API}/Accounts/{sid}/Calls.json", "calls", PageSize=1000)
        }

    new_messages = set(summary["new"]["messages"])
    for sid in active_before:
        mine = new_messages & served[sid].keys()
        assert len(mine) == 5
        assert all(rfc(served[sid][m]["date_created"]) >= moment - timedelta(minutes=1) for m in mine)
    changed = summary["changed"]["messages"]
    assert 1 <= len(changed) <= 4 * len(active_before)
    everything = {k: v for per_account in served.values() for k, v in per_account.items()}
    assert all(rfc(everything[sid]["date_updated"]) == moment for sid in changed)
    assert all(everything[sid]["price"] is not None and everything[sid]["date_sent"] for sid in changed)
    assert summary["changed"]["calls"]
    assert all(rfc(calls[sid]["date_updated"]) == moment for sid in summary["changed"]["calls"])
    assert all(calls[sid]["status"] == "completed" and calls[sid]["end_time"] for sid in summary["changed"]["calls"])
    assert summary["counts"]["new"]["conferences"] >= len(active_before)
    assert summary["counts"]["new"]["recordings"] >= 2 * len(active_before)
    assert summary["counts"]["changed"]["usage_records"] + summary["counts"]["new"].get("usage_records", 0) > 0
    assert summary["counts"]["new"]["alerts"] == 2


def test_given_mutate_then_a_new_active_subaccount_with_more_than_a_year_of_history_appears(small: Dataset) -> None:
    creds = small.credentials
    session = session_for(creds["account_sid"], creds["auth_token"])

    with serve(small) as running:
        summary = small.mutate()
        new_sid = summary["new_account_sid"]
        accounts = read_all(session, running.url, f"{API}/Accounts.json", "accounts")
        messages = read_all(session, running.url, f"{API}/Accounts/{new_sid}/Messages.json", "messages", PageSize=1000)
        calls = read_all(session, running.url, f"{API}/Accounts/{new_sid}/Calls.json", "calls", PageSize=1000)

    assert summary["new"]["accounts"] == [new_sid]
    assert new_sid in small.accounts and new_sid in small.credentials["subaccount_sids"]
    listed = {a["sid"]: a for a in accounts}
    assert listed[new_sid]["status"] == "active"
    assert listed[new_sid]["owner_account_sid"] == creds["account_sid"]
    assert min(message_time(m) for m in messages) < NOW - timedelta(days=365)
    assert min(rfc(c["date_created"]) for c in calls) < NOW - timedelta(days=365)
    assert set(summary["new"]["messages"]) >= {m["sid"] for m in messages}


def test_given_records_inserted_while_paging_then_no_record_comes_twice(small: Dataset) -> None:
    creds = small.credentials
    main = creds["account_sid"]
    session = session_for(main, creds["auth_token"])
    held_before = {i.record["sid"]: i.record for i in small.items("messages") if i.account_sid == main}

    with serve(small) as running:
        path = f"{API}/Accounts/{main}/Messages.json"
        body = get(session, running.url + path, PageSize=10).json()
        seen = [m["sid"] for m in body["messages"]]
        summary = small.mutate()
        while body["next_page_uri"]:
            body = session.get(running.url + body["next_page_uri"], timeout=TIMEOUT).json()
            seen += [m["sid"] for m in body["messages"]]

    moved = set(summary["changed"]["messages"])
    unchanged_reachable = {
        sid for sid, m in held_before.items() if within_days(message_time(m), 400) and sid not in moved
    }
    assert len(seen) == len(set(seen))
    assert unchanged_reachable <= set(seen)
    assert not set(summary["new"]["messages"]) & set(seen[10:])


def test_given_control_endpoints_then_mutate_items_and_stats_work_without_auth(small: Dataset) -> None:
    with serve(small) as running:
        summary = requests.post(f"{running.url}/_emulator/mutate", timeout=TIMEOUT).json()
        items = requests.get(f"{running.url}/_emulator/items", params={"stream": "accounts"}, timeout=TIMEOUT).json()
        unknown = requests.get(f"{running.url}/_emulator/items", params={"stream": "nope"}, timeout=TIMEOUT)
        stats = requests.get(f"{running.url}/_emulator/stats", timeout=TIMEOUT).json()
        reset = requests.post(f"{running.url}/_emulator/reset-stats", timeout=TIMEOUT).json()

    assert summary["new_account_sid"] in {i["record"]["sid"] for i in items}
    assert items == [
        {"account_sid": i.account_sid, "parent": i.parent, "record": i.record} for i in small.items("accounts")
    ]
    assert unknown.status_code == 400
    assert stats["total_requests"] == 0  # control requests are not counted
    assert reset["total_requests"] == 0


# ----- concurrency -----


def _burst(session: requests.Session, urls: list[str]) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return list(pool.map(lambda url: session.get(url, timeout=TIMEOUT), urls))


def test_given_concurrency_limit_when_one_account_exceeds_it_then_429_20429_without_retry_after(
    dataset: Dataset, main: str, active_sub: str, creds: dict[str, Any]
) -> None:
    session = session_for(creds["account_sid"], creds["auth_token"])
    with serve(dataset, latency_ms=300, concurrency_limit=1) as running:
        same = _burst(session, [f"{running.url}{API}/Accounts/{main}/Queues.json"] * 4)
        spread = _burst(
            session,
            [
                f"{running.url}{API}/Accounts/{main}/Queues.json",
                f"{running.url}{API}/Accounts/{active_sub}/Queues.json",
            ],
        )
        stats = running.stats()

    throttled = [r for r in same if r.status_code == 429]
    assert throttled and any(r.status_code == 200 for r in same)
    assert throttled[0].json() == {
        "code": 20429,
        "message": "Too Many Requests",
        "more_info": "https://www.twilio.com/docs/errors/20429",
        "status": 429,
    }
    assert int(throttled[0].headers["Twilio-Concurrent-Requests"]) >= 2
    assert "Retry-After" not in throttled[0].headers
    assert [r.status_code for r in spread] == [200, 200]
    assert stats["status_429"] == len(throttled)
    assert stats["max_in_flight_by_account"][main] >= 2
    assert stats["by_account"][active_sub] == 1


def test_given_retry_after_when_throttled_then_retry_after_header(
    dataset: Dataset, main: str, creds: dict[str, Any]
) -> None:
    session = session_for(creds["account_sid"], creds["auth_token"])
    with serve(dataset, faults=Faults(retry_after=2), latency_ms=300, concurrency_limit=1) as running:
        responses = _burst(session, [f"{running.url}{API}/Accounts/{main}/Queues.json"] * 3)

    assert {r.headers["Retry-After"] for r in responses if r.status_code == 429} == {"2"}


# ----- faults -----


@pytest.mark.parametrize(
    ("faults", "status", "code"),
    [
        (Faults(rate_429=1.0), 429, 20429),
        (Faults(rate_500=1.0), 500, 20500),
        (Faults(rate_503=1.0), 503, 20503),
        (Faults(rate_transient_401=1.0), 401, 20003),
    ],
)
def test_given_an_error_fault_then_every_request_gets_that_twilio_error(
    dataset: Dataset, main: str, client: requests.Session, faults: Faults, status: int, code: int
) -> None:
    with serve(dataset, faults=faults) as running:
        response = get(client, f"{running.url}{API}/Accounts/{main}/Calls.json")

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response.headers["Content-Type"] == "application/json"


def test_given_rate_429_with_retry_after_then_header_present(
    dataset: Dataset, main: str, client: requests.Session
) -> None:
    with serve(dataset, faults=Faults(rate_429=1.0, retry_after=1.5)) as running:
        response = get(client, f"{running.url}{API}/Accounts/{main}/Calls.json")

    assert response.headers["Retry-After"] == "1.5"


def test_given_html_fault_then_a_502_or_503_html_page(dataset: Dataset, main: str, client: requests.Session) -> None:
    with serve(dataset, faults=Faults(rate_html=1.0, seed=4)) as running:
        responses = [get(client, f"{running.url}{API}/Accounts/{main}/Calls.json") for _ in range(8)]

    assert {r.status_code for r in responses} == {502, 503}
    assert all(r.headers["Content-Type"] == "text/html" and "<HTML>" in r.text for r in responses)


def test_given_drop_fault_then_the_connection_closes_without_a_response(
    dataset: Dataset, main: str, client: requests.Session
) -> None:
    with serve(dataset, faults=Faults(rate_drop=1.0)) as running, pytest.raises(requests.ConnectionError):
        get(client, f"{running.url}{API}/Accounts/{main}/Calls.json")


def test_given_truncate_fault_then_the_body_is_cut_short(dataset: Dataset, main: str, client: requests.Session) -> None:
    with (
        serve(dataset, faults=Faults(rate_truncate=1.0)) as running,
        pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)),
    ):
        get(client, f"{running.url}{API}/Accounts/{main}/Calls.json")


def test_given_slow_fault_then_the_client_times_out(dataset: Dataset, main: str, client: requests.Session) -> None:
    with serve(dataset, faults=Faults(rate_slow=1.0, slow_seconds=2.0)) as running, pytest.raises(requests.ReadTimeout):
        client.get(f"{running.url}{API}/Accounts/{main}/Calls.json", timeout=0.3)


def test_given_persistent_failure_path_then_matching_paths_always_500_and_others_succeed(
    dataset: Dataset, main: str, client: requests.Session
) -> None:
    with serve(dataset, faults=Faults(persistent_failure_path=r"/Usage/Records")) as running:
        failing = [get(client, f"{running.url}{API}/Accounts/{main}/Usage/Records/Daily.json") for _ in range(3)]
        fine = get(client, f"{running.url}{API}/Accounts/{main}/Usage/Triggers.json")

    assert [(r.status_code, r.json()["code"]) for r in failing] == [(500, 20500)] * 3
    assert fine.status_code == 200


def test_given_foreign_next_page_host_then_next_links_point_at_it(
    dataset: Dataset, main: str, client: requests.Session
) -> None:
    with serve(dataset, faults=Faults(foreign_next_page_host="evil.example.com")) as running:
        messages = get(client, f"{running.url}{API}/Accounts/{main}/Messages.json", PageSize=5).json()
        alerts = get(client, f"{running.url}/v1/Alerts", PageSize=5).json()

    assert messages["next_page_uri"].startswith(f"https://evil.example.com{API}/Accounts/{main}/Messages.json?")
    assert alerts["meta"]["next_page_url"].startswith("https://evil.example.com/v1/Alerts?")
    assert alerts["meta"]["url"].startswith(running.url)


def test_given_faults_then_control_endpoints_are_never_affected(dataset: Dataset) -> None:
    with serve(dataset, faults=Faults(rate_drop=0.5, rate_500=0.5)) as running:
        statuses = [requests.get(f"{running.url}/_emulator/stats", timeout=TIMEOUT).status_code for _ in range(5)]

    assert statuses == [200] * 5


def test_given_the_same_fault_seed_then_the_same_sequence_of_outcomes(
    dataset: Dataset, main: str, client: requests.Session
) -> None:
    def outcomes() -> list[int]:
        with serve(dataset, faults=Faults(rate_500=0.3, rate_429=0.2, seed=9)) as running:
            return [get(client, f"{running.url}{API}/Accounts/{main}/Queues.json").status_code for _ in range(20)]

    first = outcomes()

    assert first == outcomes()
    assert {200, 429, 500} <= set(first)


def test_given_requests_then_stats_count_them_by_status_account_and_endpoint(
    dataset: Dataset, main: str, client: requests.Session
) -> None:
    with serve(dataset, faults=Faults(persistent_failure_path="Calls")) as running:
        get(client, f"{running.url}{API}/Accounts/{main}/Messages.json")
        get(client, f"{running.url}{API}/Accounts/{main}/Calls.json")
        get(client, f"{running.url}/v1/Alerts")
        stats = running.stats()
        running.reset_stats()
        after = running.stats()

    assert stats["total_requests"] == 3
    assert stats["by_status"] == {"200": 2, "500": 1}
    assert stats["by_account"] == {main: 3}
    assert stats["by_endpoint"] == {"messages": 1, "calls": 1, "alerts": 1}
    assert stats["faults_injected"] == {"persistent_500": 1}
    assert stats["max_in_flight"] == 1
    assert after["total_requests"] == 0


# ----- command line -----


def test_given_the_cli_then_it_announces_the_url_writes_the_info_file_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    info_file = tmp_path / "emulator.json"
    command = [
        sys.executable, "-m", "integration_tests.emulator", "--port", "0", "--seed", "2", "--messages", "20",
        "--calls", "10", "--subaccounts", "1", "--suspended", "0", "--fault-5xx", "0", "--info-file", str(info_file),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline().strip()
        info = json.loads(info_file.read_text())
        session = session_for(info["account_sid"], info["auth_token"])
        accounts = get(session, f"{info['url']}{API}/Accounts.json").json()["accounts"]
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=10)

    assert line == f"listening on {info['url']}"
    assert info["url"].startswith("http://127.0.0.1:")
    assert {"api_key_sid", "api_key_secret", "standard_key_sid", "standard_key_secret", "subaccount_sids"} <= set(info)
    assert len(accounts) == 2
    assert returncode == 0, process.stderr.read()
