"""The emulator serves Twilio's product hosts (conversations, studio, trunking, verify, messaging,
insights, pricing, monitor events) and Balance as Twilio does: routed by host and path through the
``/h/{hostname}`` prefix, in the ``meta`` envelope, with each account's own data behind its own credentials.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from integration_tests.emulator import Dataset, DatasetOptions, serve
from integration_tests.emulator.generate_products import ProductOptions
from integration_tests.emulator.products import PRODUCT_LISTS, emulated_base

NOW = datetime(2026, 5, 20, 15, 30, 0, tzinfo=timezone.utc)
TIMEOUT = 10
OAI = Path(os.environ.get("TWILIO_OAI_DIR") or Path(__file__).resolve().parents[1] / "vendor" / "twilio-oai")

# stream -> (host, path, list key); children get their parent SIDs filled in by the tests.
TOP_LEVEL = {
    "conversations": ("conversations.twilio.com", "/v1/Conversations", "conversations"),
    "users": ("conversations.twilio.com", "/v1/Users", "users"),
    "services": ("conversations.twilio.com", "/v1/Services", "services"),
    "roles": ("conversations.twilio.com", "/v1/Roles", "roles"),
    "flows": ("studio.twilio.com", "/v2/Flows", "flows"),
    "trunks": ("trunking.twilio.com", "/v1/Trunks", "trunks"),
    "verify_services": ("verify.twilio.com", "/v2/Services", "services"),
    "verify_attempts": ("verify.twilio.com", "/v2/Attempts", "attempts"),
    "messaging_services": ("messaging.twilio.com", "/v1/Services", "services"),
    "monitor_events": ("monitor.twilio.com", "/v1/Events", "events"),
    "voice_pricing_countries": ("pricing.twilio.com", "/v2/Voice/Countries", "countries"),
    "messaging_pricing_countries": ("pricing.twilio.com", "/v1/Messaging/Countries", "countries"),
    "phone_number_pricing_countries": ("pricing.twilio.com", "/v1/PhoneNumbers/Countries", "countries"),
}
COMPONENTS = {
    "conversations": ("twilio_conversations_v1.json", "conversations.v1.conversation"),
    "conversation_messages": ("twilio_conversations_v1.json", "conversations.v1.conversation.conversation_message"),
    "conversation_participants": (
        "twilio_conversations_v1.json",
        "conversations.v1.conversation.conversation_participant",
    ),
    "users": ("twilio_conversations_v1.json", "conversations.v1.user"),
    "user_conversations": ("twilio_conversations_v1.json", "conversations.v1.user.user_conversation"),
    "services": ("twilio_conversations_v1.json", "conversations.v1.service"),
    "roles": ("twilio_conversations_v1.json", "conversations.v1.role"),
    "flows": ("twilio_studio_v2.json", "studio.v2.flow"),
    "executions": ("twilio_studio_v2.json", "studio.v2.flow.execution"),
    "step": ("twilio_studio_v2.json", "studio.v2.flow.execution.execution_step"),
    "trunks": ("twilio_trunking_v1.json", "trunking.v1.trunk"),
    "verify_services": ("twilio_verify_v2.json", "verify.v2.service"),
    "verify_attempts": ("twilio_verify_v2.json", "verify.v2.verification_attempt"),
    "messaging_services": ("twilio_messaging_v1.json", "messaging.v1.service"),
    "messaging_service_phone_numbers": ("twilio_messaging_v1.json", "messaging.v1.service.phone_number"),
    "call_summaries": ("twilio_insights_v1.json", "insights.v1.call_summaries"),
    "monitor_events": ("twilio_monitor_v1.json", "monitor.v1.event"),
    "voice_pricing_countries": ("twilio_pricing_v2.json", "pricing.v2.voice.voice_country"),
    "messaging_pricing_countries": ("twilio_pricing_v1.json", "pricing.v1.messaging.messaging_country"),
    "phone_number_pricing_countries": ("twilio_pricing_v1.json", "pricing.v1.phone_number.phone_number_country"),
}


def session_for(username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.auth = (username, password)
    return session


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_of(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def read_all(session: requests.Session, url: str, **params: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Every record of a meta-envelope list, and the URLs followed."""
    response = session.get(url, params=params or None, timeout=TIMEOUT)
    records, followed = [], []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        records += body[body["meta"]["key"]]
        following = body["meta"]["next_page_url"]
        if not following:
            return records, followed
        followed.append(following)
        response = session.get(following, timeout=TIMEOUT)


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
def active_sub(creds: dict[str, Any]) -> str:
    return next(sid for sid in creds["subaccount_sids"] if sid not in creds["suspended_subaccount_sids"])


def url(emulator: Any, host: str, path: str) -> str:
    return emulated_base(emulator.url, f"https://{host}") + path


def own(dataset: Dataset, stream: str, account: str, parent: str | None = None) -> list[dict[str, Any]]:
    return [
        i.record for i in dataset.items(stream) if i.account_sid == account and (parent is None or i.parent == parent)
    ]


# ----- hosts -----


def test_given_the_host_helper_then_a_real_base_maps_to_its_prefix() -> None:
    assert emulated_base("http://127.0.0.1:9/", "https://conversations.twilio.com") == (
        "http://127.0.0.1:9/h/conversations.twilio.com"
    )


def test_given_one_path_on_two_hosts_then_each_host_serves_its_own_product(
    emulator: Any, client: requests.Session, creds: dict[str, Any]
) -> None:
    chat = client.get(url(emulator, "conversations.twilio.com", "/v1/Services"), timeout=TIMEOUT).json()
    messaging = client.get(url(emulator, "messaging.twilio.com", "/v1/Services"), timeout=TIMEOUT).json()
    verify = client.get(url(emulator, "verify.twilio.com", "/v2/Services"), timeout=TIMEOUT).json()

    assert {s["sid"][:2] for s in chat["services"]} == {"IS"}
    assert {s["sid"][:2] for s in messaging["services"]} == {"MG"}
    assert {s["sid"][:2] for s in verify["services"]} == {"VA"}


def test_given_the_legacy_hosts_through_the_prefix_then_they_answer_as_unprefixed(
    emulator: Any, client: requests.Session, creds: dict[str, Any]
) -> None:
    path = f"/2010-04-01/Accounts/{creds['account_sid']}/Queues.json"
    plain = client.get(emulator.url + path, timeout=TIMEOUT).json()
    prefixed = client.get(url(emulator, "api.twilio.com", path), timeout=TIMEOUT).json()
    alerts = client.get(emulator.url + "/v1/Alerts", timeout=TIMEOUT).json()
    prefixed_alerts = client.get(url(emulator, "monitor.twilio.com", "/v1/Alerts"), timeout=TIMEOUT).json()

    assert plain == prefixed
    assert alerts["alerts"] == prefixed_alerts["alerts"]
    assert prefixed_alerts["meta"]["url"].startswith(emulator.url + "/h/monitor.twilio.com/v1/Alerts?")
    assert alerts["meta"]["url"].startswith(emulator.url + "/v1/Alerts?")


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("nowhere.twilio.com", "/v1/Services"),
        ("api.twilio.com", "/v1/Alerts"),
        ("monitor.twilio.com", "/2010-04-01/Accounts.json"),
        ("studio.twilio.com", "/v1/Services"),
        ("conversations.twilio.com", "/v1/Conversations/CH00000000000000000000000000000000/Messages"),
    ],
)
def test_given_a_host_without_that_path_then_404(emulator: Any, client: requests.Session, host: str, path: str) -> None:
    response = client.get(url(emulator, host, path), timeout=TIMEOUT)

    assert response.status_code == 404
    assert response.json()["code"] == 20404


# ----- envelopes, paging, page sizes -----


@pytest.mark.parametrize("stream", ["conversations", "verify_attempts", "monitor_events", "voice_pricing_countries"])
def test_given_a_long_list_then_meta_pages_through_the_prefix_to_every_visible_record(
    emulator: Any, client: requests.Session, dataset: Dataset, creds: dict[str, Any], stream: str
) -> None:
    host, path, key = TOP_LEVEL[stream]
    records, followed = read_all(client, url(emulator, host, path), PageSize=25)

    held = [i.record for i in dataset.items(stream, visible_only=True) if i.account_sid == creds["account_sid"]]
    if stream == "monitor_events":  # 30 days of events are listed
        floor = epoch_of(iso(dataset.clock())) - 30 * 86_400
        held = [r for r in held if epoch_of(r["event_date"]) >= floor]
    assert len(followed) >= 2
    assert all(link.startswith(f"{emulator.url}/h/{host}{path}?") for link in followed)

    def dumped(rows: list[dict[str, Any]]) -> list[str]:
        return sorted(json.dumps(r, sort_keys=True) for r in rows)

    assert dumped(records) == dumped(held)
    assert key in client.get(followed[0], timeout=TIMEOUT).json()


def test_given_the_default_page_size_then_the_main_account_spans_pages_and_meta_says_so(
    emulator: Any, client: requests.Session
) -> None:
    body = client.get(url(emulator, "studio.twilio.com", "/v2/Flows"), timeout=TIMEOUT).json()
    flow = body["flows"][0]["sid"]
    page = client.get(url(emulator, "studio.twilio.com", f"/v2/Flows/{flow}/Executions"), timeout=TIMEOUT).json()

    assert page["meta"]["key"] == "executions" and page["meta"]["page_size"] == 50 and page["meta"]["page"] == 0
    assert len(page["executions"]) == 50 and page["meta"]["next_page_url"]
    second = client.get(page["meta"]["next_page_url"], timeout=TIMEOUT).json()
    assert second["meta"]["page"] == 1 and second["meta"]["previous_page_url"]
    assert not {e["sid"] for e in second["executions"]} & {e["sid"] for e in page["executions"]}


@pytest.mark.parametrize(
    ("host", "path", "largest"),
    [
        ("verify.twilio.com", "/v2/Services", 100),
        ("verify.twilio.com", "/v2/Attempts", 100),
        ("conversations.twilio.com", "/v1/Users", 50),
        ("conversations.twilio.com", "/v1/Conversations", 100),
        ("trunking.twilio.com", "/v1/Trunks", 1000),
    ],
)
def test_given_a_page_size_over_the_lists_limit_then_400(
    emulator: Any, client: requests.Session, host: str, path: str, largest: int
) -> None:
    ok = client.get(url(emulator, host, path), params={"PageSize": largest}, timeout=TIMEOUT)
    refused = client.get(url(emulator, host, path), params={"PageSize": largest + 1}, timeout=TIMEOUT)

    assert ok.status_code == 200
    assert refused.status_code == 400 and refused.json()["code"] == 20001


def test_given_conversation_children_then_they_list_under_their_parents(
    emulator: Any, client: requests.Session, dataset: Dataset, creds: dict[str, Any]
) -> None:
    main = creds["account_sid"]
    conversation = next(
        r for r in own(dataset, "conversations", main) if own(dataset, "conversation_messages", main, r["sid"])
    )
    sid = conversation["sid"]
    base = url(emulator, "conversations.twilio.com", f"/v1/Conversations/{sid}")
    messages, _ = read_all(client, base + "/Messages")
    newest_first, _ = read_all(client, base + "/Messages", Order="desc")
    participants, _ = read_all(client, base + "/Participants")
    user = next(i for i in dataset.items("user_conversations") if i.account_sid == main)
    by_sid, _ = read_all(client, url(emulator, "conversations.twilio.com", f"/v1/Users/{user.parent}/Conversations"))
    identity = next(r["identity"] for r in own(dataset, "users", main) if r["sid"] == user.parent)
    by_identity, _ = read_all(client, url(emulator, "conversations.twilio.com", f"/v1/Users/{identity}/Conversations"))

    assert [m["index"] for m in messages] == sorted(m["index"] for m in messages)
    assert newest_first == messages[::-1]
    assert {p["sid"] for p in participants} == {r["sid"] for r in own(dataset, "conversation_participants", main, sid)}
    assert by_sid == by_identity and user.record in by_sid


def test_given_balance_then_one_object_and_main_credentials_read_a_subaccounts(
    emulator: Any, client: requests.Session, creds: dict[str, Any], active_sub: str
) -> None:
    main = creds["account_sid"]
    own_balance = client.get(f"{emulator.url}/2010-04-01/Accounts/{main}/Balance.json", timeout=TIMEOUT).json()
    sub_balance = client.get(f"{emulator.url}/2010-04-01/Accounts/{active_sub}/Balance.json", timeout=TIMEOUT)
    sub = session_for(active_sub, creds["subaccount_auth_tokens"][active_sub])
    refused = sub.get(f"{emulator.url}/2010-04-01/Accounts/{main}/Balance.json", timeout=TIMEOUT)

    assert set(own_balance) == {"account_sid", "balance", "currency"}
    assert own_balance["account_sid"] == main and float(own_balance["balance"]) > 0 and own_balance["currency"] == "USD"
    assert sub_balance.status_code == 200 and sub_balance.json()["account_sid"] == active_sub
    assert refused.status_code == 401


# ----- accounts and credentials -----


def test_given_main_credentials_then_product_hosts_return_only_the_main_accounts_data(
    emulator: Any, client: requests.Session, dataset: Dataset, creds: dict[str, Any]
) -> None:
    records, _ = read_all(client, url(emulator, "trunking.twilio.com", "/v1/Trunks"))

    assert {r["account_sid"] for r in records} == {creds["account_sid"]}
    assert records == own(dataset, "trunks", creds["account_sid"])


def test_given_subaccount_credentials_then_product_hosts_return_the_subaccounts_data(
    emulator: Any, dataset: Dataset, creds: dict[str, Any], active_sub: str
) -> None:
    sub = session_for(active_sub, creds["subaccount_auth_tokens"][active_sub])
    records, _ = read_all(sub, url(emulator, "studio.twilio.com", "/v2/Flows"))
    flow = records[0]["sid"]
    executions, _ = read_all(sub, url(emulator, "studio.twilio.com", f"/v2/Flows/{flow}/Executions"))
    main_view = session_for(creds["account_sid"], creds["auth_token"])
    foreign = main_view.get(url(emulator, "studio.twilio.com", f"/v2/Flows/{flow}/Executions"), timeout=TIMEOUT)

    assert records == own(dataset, "flows", active_sub)
    assert {e["sid"] for e in executions} == {r["sid"] for r in own(dataset, "executions", active_sub, flow)}
    assert foreign.status_code == 404  # the main account's credentials do not reach a subaccount's flows


def test_given_api_keys_then_they_reach_their_own_accounts_product_data(
    emulator: Any, dataset: Dataset, creds: dict[str, Any]
) -> None:
    for key in ("api_key", "standard_key"):
        session = session_for(creds[f"{key}_sid"], creds[f"{key}_secret"])
        records, _ = read_all(session, url(emulator, "verify.twilio.com", "/v2/Services"))
        assert records == own(dataset, "verify_services", creds["account_sid"]), key


def test_given_a_suspended_subaccount_or_bad_credentials_then_product_hosts_answer_401(
    emulator: Any, creds: dict[str, Any]
) -> None:
    suspended = creds["suspended_subaccount_sids"][0]
    for session in (
        session_for(suspended, creds["subaccount_auth_tokens"][suspended]),
        session_for(creds["account_sid"], "wrong"),
    ):
        response = session.get(url(emulator, "conversations.twilio.com", "/v1/Conversations"), timeout=TIMEOUT)
        assert response.status_code == 401 and response.json()["code"] == 20003


def test_given_any_valid_credentials_then_pricing_is_the_same_global_list(
    emulator: Any, client: requests.Session, creds: dict[str, Any], active_sub: str
) -> None:
    sub = session_for(active_sub, creds["subaccount_auth_tokens"][active_sub])
    for stream in ("voice_pricing_countries", "messaging_pricing_countries", "phone_number_pricing_countries"):
        host, path, _ = TOP_LEVEL[stream]
        mine, _ = read_all(client, url(emulator, host, path))
        theirs, _ = read_all(sub, url(emulator, host, path))
        assert mine == theirs and len(mine) > 50
        assert all(set(r) == {"country", "iso_country", "url"} for r in mine)
        assert [r["iso_country"] for r in mine] == sorted(r["iso_country"] for r in mine)


def test_given_an_account_without_advanced_features_then_voice_insights_answers_403(
    emulator: Any, client: requests.Session, creds: dict[str, Any], active_sub: str
) -> None:
    sub = session_for(active_sub, creds["subaccount_auth_tokens"][active_sub])
    refused = sub.get(url(emulator, "insights.twilio.com", "/v1/Voice/Summaries"), timeout=TIMEOUT)
    allowed = client.get(url(emulator, "insights.twilio.com", "/v1/Voice/Summaries"), timeout=TIMEOUT)

    assert refused.status_code == 403 and refused.json()["code"] == 20403
    assert "Voice Insights" in refused.json()["message"]
    assert allowed.status_code == 200


# ----- time filters and retention -----


def _bounds(
    client: requests.Session,
    address: str,
    records: list[dict[str, Any]],
    field: str,
    lower: str,
    upper: str,
    **extra: Any,
) -> tuple[set[str], set[str], str, dict[str, Any]]:
    """What ``lower=t`` and ``upper=t`` return for ``t`` a record's own time; (lower hits, upper hits, ident, record)."""
    ident = "call_sid" if "call_sid" in records[0] else "sid"
    record = records[len(records) // 2]
    at = record[field]
    above, _ = read_all(client, address, **{**extra, lower: at})
    below, _ = read_all(client, address, **{**extra, upper: at})
    return {r[ident] for r in above}, {r[ident] for r in below}, ident, record


def test_given_execution_date_filters_then_from_is_inclusive_and_to_exclusive(
    emulator: Any, client: requests.Session, dataset: Dataset, creds: dict[str, Any]
) -> None:
    flow = own(dataset, "flows", creds["account_sid"])[0]["sid"]
    records = own(dataset, "executions", creds["account_sid"], flow)
    address = url(emulator, "studio.twilio.com", f"/v2/Flows/{flow}/Executions")
    above, below, _, record = _bounds(client, address, records, "date_created", "DateCreatedFrom", "DateCreatedTo")
    at = epoch_of(record["date_created"])

    assert record["sid"] in above and record["sid"] not in below
    assert above == {r["sid"] for r in records if epoch_of(r["date_created"]) >= at}
    assert below == {r["sid"] for r in records if epoch_of(r["date_created"]) < at}
    offset = client.get(address, params={"DateCreatedFrom": iso(at).replace("Z", "+00:00")}, timeout=TIMEOUT)
    assert {r["sid"] for r in offset.json()["executions"]} <= above and offset.status_code == 200


def test_given_verify_attempt_date_filters_then_both_bounds_are_exclusive(
    emulator: Any, client: requests.Session, dataset: Dataset, creds: dict[str, Any]
) -> None:
    records = own(dataset, "verify_attempts", creds["account_sid"])
    address = url(emulator, "verify.twilio.com", "/v2/Attempts")
    above, below, _, record = _bounds(client, address, records, "date_created", "DateCreatedAfter", "DateCreatedBefore")
    at = epoch_of(record["date_created"])

    assert record["sid"] not in above | below
    assert above == {r["sid"] for r in records if epoch_of(r["date_created"]) > at}
    assert below == {r["sid"] for r in records if epoch_of(r["date_created"]) < at}


def test_given_monitor_event_dates_then_both_bounds_are_inclusive_and_older_than_30_days_is_400(
    emulator: Any, client: requests.Session, dataset: Dataset, creds: dict[str, Any]
) -> None:
    floor = dataset.clock() - 30 * 86_400
    records = [r for r in own(dataset, "monitor_events", creds["account_sid"]) if epoch_of(r["event_date"]) >= floor]
    address = url(emulator, "monitor.twilio.com", "/v1/Events")
    above, below, _, record = _bounds(client, address, records, "event_date", "StartDate", "EndDate")
    at = epoch_of(record["event_date"])
    too_old = client.get(address, params={"StartDate": iso(floor - 3600)}, timeout=TIMEOUT)

    assert record["sid"] in above & below
    assert above == {r["sid"] for r in records if epoch_of(r["event_date"]) >= at}
    assert below == {r["sid"] for r in records if epoch_of(r["event_date"]) <= at}
    assert too_old.status_code == 400 and too_old.json()["code"] == 20001
    older = [r for r in own(dataset, "monitor_events", creds["account_sid"]) if epoch_of(r["event_date"]) < floor]
    assert older  # held (the truth) but never listed
    listed, _ = read_all(client, address)
    assert not {r["sid"] for r in older} & {r["sid"] for r in listed}


def test_given_call_summary_times_then_bounds_are_inclusive_newest_first_and_30_days_back_at_most(
    emulator: Any, client: requests.Session, dataset: Dataset, creds: dict[str, Any]
) -> None:
    floor = dataset.clock() - 30 * 86_400
    held = own(dataset, "call_summaries", creds["account_sid"])
    records = [r for r in held if epoch_of(r["start_time"]) >= floor and r["processing_state"] == "complete"]
    address = url(emulator, "insights.twilio.com", "/v1/Voice/Summaries")
    start = iso(floor + 3600)
    above, below, _, record = _bounds(client, address, records, "start_time", "StartTime", "EndTime", StartTime=start)
    at = epoch_of(record["start_time"])
    listed, _ = read_all(client, address, StartTime=start)
    too_old = client.get(address, params={"StartTime": iso(floor - 86_400)}, timeout=TIMEOUT)
    relative, _ = read_all(client, address, StartTime="29d")

    assert record["call_sid"] in above & below
    assert above == {r["call_sid"] for r in records if epoch_of(r["start_time"]) >= at}
    assert below == {r["call_sid"] for r in records if epoch_of(r["start_time"]) <= at}
    assert [r["start_time"] for r in listed] == sorted((r["start_time"] for r in listed), reverse=True)
    assert too_old.status_code == 400 and too_old.json()["code"] == 17002
    assert any(epoch_of(r["start_time"]) < floor for r in held)  # held beyond retention, never listed
    assert 0 < len(relative) <= len(listed)


def test_given_no_start_time_then_call_summaries_cover_the_last_4_hours_and_complete_ones(
    emulator: Any, client: requests.Session, dataset: Dataset, creds: dict[str, Any]
) -> None:
    address = url(emulator, "insights.twilio.com", "/v1/Voice/Summaries")
    default, _ = read_all(client, address)
    everything, _ = read_all(client, address, StartTime="4h", ProcessingState="all")
    now = dataset.clock()

    assert default and all(now - epoch_of(r["start_time"]) <= 4 * 3600 for r in default)
    assert all(r["processing_state"] == "complete" for r in default)
    assert {r["processing_state"] for r in everything} == {"complete", "partial"}


def test_given_conversation_dates_then_inclusive_newest_first_and_unfiltered_oldest_first(
    emulator: Any, client: requests.Session, dataset: Dataset, creds: dict[str, Any]
) -> None:
    records = own(dataset, "conversations", creds["account_sid"])
    address = url(emulator, "conversations.twilio.com", "/v1/Conversations")
    above, below, _, record = _bounds(client, address, records, "date_created", "StartDate", "EndDate")
    unfiltered, _ = read_all(client, address)
    dated, _ = read_all(client, address, StartDate="2000-01-01T00:00:00Z")
    at = epoch_of(record["date_created"])

    assert record["sid"] in above & below
    assert above == {r["sid"] for r in records if epoch_of(r["date_created"]) >= at}
    assert [r["date_created"] for r in unfiltered] == sorted(r["date_created"] for r in unfiltered)
    assert dated == unfiltered[::-1] or [r["date_created"] for r in dated] == sorted(
        (r["date_created"] for r in dated), reverse=True
    )


# ----- the data -----


def _components() -> dict[str, dict[str, Any]]:
    found = {}
    for stream, (name, component) in COMPONENTS.items():
        found[stream] = json.loads((OAI / name).read_text())["components"]["schemas"][component]
    return found


def test_given_every_product_stream_then_items_carry_every_spec_property(dataset: Dataset) -> None:
    for stream, component in _components().items():
        items = dataset.items(stream)
        assert items, stream
        missing = set(component["properties"]) - set(items[0].record)
        assert not missing, (stream, missing)
        assert all(set(i.record) == set(items[0].record) for i in items), stream


def test_given_every_product_list_then_each_active_account_holds_data(dataset: Dataset) -> None:
    active = [sid for sid in dataset.accounts if dataset.account(sid)["status"] == "active"]
    for product in PRODUCT_LISTS:
        holders = {i.account_sid for i in dataset.items(product.spec.stream)}
        expected = {dataset.main_account_sid} if product.scope == "global" else set(active)
        if product.spec.stream == "call_summaries":
            expected = {sid for sid in active if dataset.has_voice_insights(sid)}
        assert expected <= holders, product.spec.stream
    assert {i.account_sid for i in dataset.items("balance")} == set(dataset.accounts)


def test_given_the_same_seed_then_the_same_product_items() -> None:
    again = Dataset(DatasetOptions(seed=7, now=NOW))
    other = Dataset(DatasetOptions(seed=7, now=NOW))

    for stream, _ in COMPONENTS.items():
        assert again.items(stream) == other.items(stream), stream


# ----- mutation -----


def test_given_a_mutation_then_incremental_product_streams_get_new_and_updated_records() -> None:
    dataset = Dataset(DatasetOptions(seed=3, now=NOW, products=ProductOptions(without_voice_insights=())))
    before = {
        s: {json.dumps(i.record, sort_keys=True) for i in dataset.items(s)} for s in ("executions", "conversations")
    }
    summary = dataset.mutate()
    moment = summary["time"]

    for stream in ("executions", "call_summaries", "verify_attempts", "monitor_events", "conversations"):
        assert summary["counts"]["new"].get(stream), stream
    for stream in ("executions", "call_summaries", "verify_attempts", "conversations"):
        assert summary["counts"]["changed"].get(stream), stream
    for stream in ("executions", "verify_attempts", "conversations"):
        changed = set(summary["changed"][stream])
        records = [i.record for i in dataset.items(stream) if i.record["sid"] in changed]
        assert records and all(r["date_updated"] == moment for r in records), stream
    partial = set(summary["changed"]["call_summaries"])
    assert all(
        i.record["processing_state"] == "complete"
        for i in dataset.items("call_summaries")
        if i.record["call_sid"] in partial
    )
    after = {s: {json.dumps(i.record, sort_keys=True) for i in dataset.items(s)} for s in before}
    assert all(after[s] != before[s] for s in before)

    with serve(dataset) as running:
        main = dataset.credentials
        session = session_for(main["account_sid"], main["auth_token"])
        address = url(running, "verify.twilio.com", "/v2/Attempts")
        listed, _ = read_all(session, address, DateCreatedAfter=iso(epoch_of(moment) - 600))
    new = set(summary["new"]["verify_attempts"])
    mine = {i.record["sid"] for i in dataset.items("verify_attempts") if i.account_sid == main["account_sid"]}
    assert new & mine <= {r["sid"] for r in listed}
