"""The emulator's "harsher Twilio" switches: its clock in the Date header, lagging lists, strict
upper bounds, customer-set message retention, a lower alert cap, persistent faults on chosen requests
and account status changes. Every switch is off by default (test_emulator.py covers that Twilio).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from integration_tests.emulator import Dataset, DatasetOptions, Faults, PersistentFault, serve
from integration_tests.test_emulator import get, read_all

NOW = datetime(2026, 5, 20, 15, 30, 0, tzinfo=timezone.utc)
REPO_ROOT = Path(__file__).resolve().parents[1]
API = "/2010-04-01"
TIMEOUT = 10


def twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return {"code": code, "message": message, "more_info": more_info, "status": status}


AUTHENTICATE = twilio_error(401, 20003, "Authenticate")
RETENTION_TEXT = "Date range specified in query is partially or entirely outside of retention window of 400 days"
RETENTION_ERROR = twilio_error(400, 20004, RETENTION_TEXT)
ALERT_CAP_TEXT = (
    "Your query matches more than 10,000 alerts and data is limited to 10,000 results: narrow StartDate and EndDate"
)
SMALL = {"subaccounts": 2, "suspended_subaccounts": 1, "messages_per_account": 60, "calls_per_account": 40}


def session_for(dataset: Dataset) -> requests.Session:
    session = requests.Session()
    session.auth = (dataset.credentials["account_sid"], dataset.credentials["auth_token"])
    return session


def utc(value: str) -> datetime:
    return parsedate_to_datetime(value).astimezone(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def generated(alert: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(alert["date_generated"].replace("Z", "+00:00"))


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def sids(records: list[dict[str, Any]]) -> set[str]:
    return {record["sid"] for record in records}


def main_records(dataset: Dataset, stream: str, **kwargs: Any) -> dict[str, dict[str, Any]]:
    main = dataset.main_account_sid
    return {i.record["sid"]: i.record for i in dataset.items(stream, **kwargs) if i.account_sid == main}


@pytest.fixture(scope="module")
def fixed() -> Dataset:
    """A dataset never mutated here, built around a fixed ``NOW``."""
    return Dataset(DatasetOptions(seed=5, now=NOW, **SMALL))


@pytest.fixture(scope="module")
def inclusive(fixed: Dataset) -> Iterator[Any]:
    with serve(fixed) as running:
        yield running


@pytest.fixture(scope="module")
def exclusive(fixed: Dataset) -> Iterator[Any]:
    with serve(fixed, upper_bounds="exclusive") as running:
        yield running


@pytest.fixture
def fresh() -> Dataset:
    """A dataset a test may mutate."""
    return Dataset(DatasetOptions(seed=11, now=NOW, **SMALL))


# ----- 1. Twilio's clock in the Date header -----


def test_given_twilio_clock_120s_behind_then_every_date_header_follows_it() -> None:
    behind = Dataset(DatasetOptions(seed=3, now=datetime.now(timezone.utc) - timedelta(seconds=120), **SMALL))
    session = session_for(behind)
    main = behind.main_account_sid

    with serve(behind, faults=Faults(persistent_failure_path="Calls"), concurrency_limit=1, latency_ms=200) as running:
        ok = get(session, f"{running.url}{API}/Accounts/{main}/Messages.json")
        machine = time.time()
        twilio = behind.clock()
        failed = get(session, f"{running.url}{API}/Accounts/{main}/Calls.json")
        url = f"{running.url}{API}/Accounts/{main}/Queues.json"
        with ThreadPoolExecutor(max_workers=3) as pool:
            burst = list(pool.map(lambda _: get(session_for(behind), url), range(3)))
        control = requests.get(f"{running.url}/_emulator/stats", timeout=TIMEOUT)

    throttled = [r for r in burst if r.status_code == 429]
    assert ok.raw.headers.getlist("Date") and len(ok.raw.headers.getlist("Date")) == 1
    header = parsedate_to_datetime(ok.headers["Date"]).timestamp()
    assert ok.headers["Date"].endswith(" GMT")
    assert abs(header - twilio) <= 1
    assert 118 <= machine - header <= 122
    assert throttled, "a 429 was expected from the concurrency limit"
    for response in (failed, *throttled, control):
        assert len(response.raw.headers.getlist("Date")) == 1
        assert abs(parsedate_to_datetime(response.headers["Date"]).timestamp() - twilio) <= 2
    assert failed.status_code == 500


def test_given_a_fixed_now_then_the_date_header_is_that_day_not_the_machines(inclusive: Any, fixed: Dataset) -> None:
    response = get(session_for(fixed), f"{inclusive.url}/v1/Alerts", PageSize=1)

    assert parsedate_to_datetime(response.headers["Date"]).date() == NOW.date()


# ----- 2. list visibility lag -----


def test_given_a_lagged_mutation_then_lists_show_the_old_state_until_reveal_while_items_show_the_truth(
    fresh: Dataset,
) -> None:
    session = session_for(fresh)
    main = fresh.main_account_sid
    before = main_records(fresh, "messages")

    with serve(fresh) as running:
        path = f"{API}/Accounts/{main}/Messages.json"
        summary = fresh.mutate(visible_after=60)
        new, changed = set(summary["new"]["messages"]), set(summary["changed"]["messages"])
        pending = {m["sid"]: m for m in read_all(session, running.url, path, "messages", PageSize=1000)}
        accounts_pending = sids(read_all(session, running.url, f"{API}/Accounts.json", "accounts"))
        new_account_messages = get(session, f"{running.url}{API}/Accounts/{summary['new_account_sid']}/Messages.json")
        truth, visible = main_records(fresh, "messages"), main_records(fresh, "messages", visible_only=True)
        assert fresh.pending > 0
        revealed = fresh.reveal()
        shown = {m["sid"]: m for m in read_all(session, running.url, path, "messages", PageSize=1000)}
        accounts_shown = sids(read_all(session, running.url, f"{API}/Accounts.json", "accounts"))

    mine_new, mine_changed = new & truth.keys(), changed & before.keys()
    assert len(mine_new) == 5 and mine_changed
    assert not mine_new & pending.keys()
    assert all(pending[sid] == before[sid] for sid in mine_changed)
    assert visible == before
    assert summary["new_account_sid"] not in accounts_pending
    assert new_account_messages.status_code == 200 and new_account_messages.json()["messages"] == []
    assert mine_new <= truth.keys() and all(truth[sid] != before[sid] for sid in mine_changed)
    assert revealed > 0 and fresh.pending == 0
    assert mine_new <= shown.keys()
    assert all(shown[sid] == truth[sid] for sid in mine_new | mine_changed)
    assert summary["new_account_sid"] in accounts_shown
    assert main_records(fresh, "messages", visible_only=True) == truth


def test_given_the_server_lag_then_control_mutations_are_pending_until_the_reveal_endpoint(fresh: Dataset) -> None:
    session = session_for(fresh)
    main = fresh.main_account_sid

    with serve(fresh, visibility_lag_seconds=60) as running:
        summary = requests.post(f"{running.url}/_emulator/mutate", timeout=TIMEOUT).json()
        path = f"{running.url}{API}/Accounts/{main}/Calls.json"
        hidden = sids(get(session, path, PageSize=1000).json()["calls"])
        visible_items = requests.get(
            f"{running.url}/_emulator/items", params={"stream": "calls", "visible_only": "true"}, timeout=TIMEOUT
        ).json()
        revealed = requests.post(f"{running.url}/_emulator/reveal", timeout=TIMEOUT).json()
        listed = sids(get(session, path, PageSize=1000).json()["calls"])
        immediate = requests.post(f"{running.url}/_emulator/mutate?visible_after=0", timeout=TIMEOUT).json()
        listed_at_once = sids(get(session, path, PageSize=1000).json()["calls"])

    new_calls = set(summary["new"]["calls"]) & {i.record["sid"] for i in fresh.items("calls") if i.account_sid == main}
    assert summary["visible_after"] == 60
    assert new_calls and not new_calls & hidden
    assert not new_calls & {i["record"]["sid"] for i in visible_items}
    assert revealed["revealed"] > 0
    assert new_calls <= listed
    assert immediate["visible_after"] is None
    assert set(immediate["new"]["calls"]) & listed_at_once


def test_given_a_short_lag_then_pending_rows_show_up_by_themselves_once_the_clock_passes(fresh: Dataset) -> None:
    # The only wall-clock test: the clock counts whole seconds, so a 2 s lag leaves at least 1 s
    # before the rows show (room for the first read) and at most 2 s to wait.
    session = session_for(fresh)
    main = fresh.main_account_sid

    with serve(fresh) as running:
        path = f"{running.url}{API}/Accounts/{main}/Messages.json"
        summary = fresh.mutate(visible_after=2)
        new = set(summary["new"]["messages"]) & main_records(fresh, "messages").keys()
        first = sids(get(session, path, PageSize=1000).json()["messages"])
        deadline = time.monotonic() + 10
        listed = first
        while not new <= listed and time.monotonic() < deadline:
            time.sleep(0.2)
            listed = sids(get(session, path, PageSize=1000).json()["messages"])

    assert not new & first
    assert new <= listed
    assert fresh.clock() >= summary["epoch"] + 2


# ----- 3. exclusive upper bounds -----


def _both(inclusive: Any, exclusive: Any, session: requests.Session, path: str, key: str, **params: Any) -> tuple:
    return (
        read_all(session, inclusive.url, path, key, PageSize=1000, **params),
        read_all(session, exclusive.url, path, key, PageSize=1000, **params),
    )


def test_given_exclusive_bounds_then_messages_date_sent_before_an_instant_is_strict(
    inclusive: Any, exclusive: Any, fixed: Dataset
) -> None:
    session, main = session_for(fixed), fixed.main_account_sid
    target = next(
        m
        for m in main_records(fixed, "messages").values()
        if m["date_sent"] and NOW - utc(m["date_sent"]) > timedelta(days=5)
    )
    moment = utc(target["date_sent"])
    path = f"{API}/Accounts/{main}/Messages.json"
    window = {"DateSent>": iso(moment - timedelta(days=2))}

    at_incl, at_excl = _both(inclusive, exclusive, session, path, "messages", **window, **{"DateSent<": iso(moment)})
    _, past_excl = _both(
        inclusive, exclusive, session, path, "messages", **window, **{"DateSent<": iso(moment + timedelta(seconds=1))}
    )

    assert target["sid"] in sids(at_incl)
    assert target["sid"] not in sids(at_excl)
    assert all(utc(m["date_sent"]) < moment for m in at_excl)
    assert target["sid"] in sids(past_excl)
    assert sids(at_excl) == sids(at_incl) - {m["sid"] for m in at_incl if utc(m["date_sent"]) == moment}


def test_given_exclusive_bounds_then_a_date_only_upper_bound_excludes_that_utc_day(
    inclusive: Any, exclusive: Any, fixed: Dataset
) -> None:
    session, main = session_for(fixed), fixed.main_account_sid
    day = (NOW - timedelta(days=17)).date()
    first_second, last_second = midnight(day), midnight(day) + timedelta(seconds=86_399)
    sent = {sid: utc(m["date_sent"]) for sid, m in main_records(fixed, "messages").items() if m["date_sent"]}
    edges = {sid for sid, moment in sent.items() if moment in (first_second, last_second)}
    path = f"{API}/Accounts/{main}/Messages.json"
    window = {"DateSent>": str(day - timedelta(days=3)), "DateSent<": str(day)}

    incl, excl = _both(inclusive, exclusive, session, path, "messages", **window)
    same_incl, same_excl = _both(inclusive, exclusive, session, path, "messages", DateSent=str(day))

    assert len(edges) == 2
    assert edges <= sids(incl)
    assert not edges & sids(excl)
    assert all(utc(m["date_sent"]) < first_second for m in excl)
    assert sids(excl) == {sid for sid in sids(incl) if sent[sid] < first_second}
    assert sids(same_incl) == sids(same_excl) >= edges  # the plain key is unchanged


def test_given_exclusive_bounds_then_calls_day_only_upper_bound_excludes_the_day(
    inclusive: Any, exclusive: Any, fixed: Dataset
) -> None:
    session, main = session_for(fixed), fixed.main_account_sid
    target = next(
        c for c in main_records(fixed, "calls").values() if c["start_time"] and utc(c["start_time"]).hour >= 1
    )
    day = utc(target["start_time"]).date()
    path = f"{API}/Accounts/{main}/Calls.json"
    lower = {"StartTime>": str(day - timedelta(days=1))}

    incl, excl = _both(inclusive, exclusive, session, path, "calls", **lower, **{"StartTime<": f"{day}T23:59:59Z"})
    _, next_day = _both(
        inclusive, exclusive, session, path, "calls", **lower, **{"StartTime<": str(day + timedelta(1))}
    )
    _, lower_excl = _both(inclusive, exclusive, session, path, "calls", **{"StartTime>": f"{day}T23:59:59Z"})

    assert target["sid"] in sids(incl)
    assert target["sid"] not in sids(excl)
    assert all(utc(c["start_time"]).date() < day for c in excl)
    assert target["sid"] in sids(next_day)
    assert target["sid"] in sids(lower_excl)  # lower bounds stay "on or after", by day


def test_given_exclusive_bounds_then_usage_end_date_excludes_that_day(
    inclusive: Any, exclusive: Any, fixed: Dataset
) -> None:
    session, main = session_for(fixed), fixed.main_account_sid
    end = (NOW - timedelta(days=5)).date()
    params = {"StartDate": str(end - timedelta(days=2)), "EndDate": str(end), "IncludeSubaccounts": "false"}
    path = f"{API}/Accounts/{main}/Usage/Records/Daily.json"

    incl, excl = _both(inclusive, exclusive, session, path, "usage_records", **params)

    assert {r["start_date"] for r in incl} == {str(end - timedelta(days=n)) for n in range(3)}
    assert {r["start_date"] for r in excl} == {str(end - timedelta(days=n)) for n in (1, 2)}


def test_given_exclusive_bounds_then_alerts_end_date_excludes_the_instant_or_the_day(
    inclusive: Any, exclusive: Any, fixed: Dataset
) -> None:
    session = session_for(fixed)
    target = next(
        a for a in (i.record for i in fixed.items("alerts")) if timedelta(days=3) < NOW - generated(a) < timedelta(20)
    )
    moment = generated(target)
    start = {"StartDate": iso(moment - timedelta(days=2))}

    at_incl, at_excl = _both(inclusive, exclusive, session, "/v1/Alerts", "alerts", **start, EndDate=iso(moment))
    _, past = _both(
        inclusive, exclusive, session, "/v1/Alerts", "alerts", **start, EndDate=iso(moment + timedelta(seconds=1))
    )
    day_incl, day_excl = _both(
        inclusive, exclusive, session, "/v1/Alerts", "alerts", **start, EndDate=str(moment.date())
    )

    assert target["sid"] in sids(at_incl) and target["sid"] not in sids(at_excl)
    assert target["sid"] in sids(past)
    assert target["sid"] in sids(day_incl) and target["sid"] not in sids(day_excl)
    assert all(generated(a) < midnight(moment.date()) for a in day_excl)


def test_given_an_unknown_upper_bounds_setting_then_serve_refuses(fixed: Dataset) -> None:
    with pytest.raises(ValueError, match="upper_bounds"):
        serve(fixed, upper_bounds="strict")


# ----- 4. customer-set message retention -----


@pytest.fixture(scope="module")
def month() -> Dataset:
    return Dataset(DatasetOptions(seed=9, now=NOW, message_retention_days=30, **SMALL))


def test_given_30_day_retention_then_a_31_day_old_date_sent_gets_20004_with_twilios_400_day_text(
    month: Dataset,
) -> None:
    session, main = session_for(month), month.main_account_sid
    with serve(month) as running:
        path = f"{running.url}{API}/Accounts/{main}/Messages.json"
        refused = [get(session, path, **{key: iso(NOW - timedelta(days=31))}) for key in ("DateSent>", "DateSent<")]
        served = get(session, path, **{"DateSent>": iso(NOW - timedelta(days=29))})

    assert [(r.status_code, r.json()) for r in refused] == [(400, RETENTION_ERROR)] * 2
    assert served.status_code == 200
    assert served.json()["messages"]


def test_given_30_day_retention_then_older_messages_and_their_media_are_gone(month: Dataset) -> None:
    session, main = session_for(month), month.main_account_sid
    held = main_records(month, "messages")

    def moment(record: dict[str, Any]) -> datetime:
        return utc(record["date_sent"] or record["date_created"])

    old_mms = next(m for m in held.values() if m["num_media"] != "0" and NOW - moment(m) > timedelta(days=30))
    new_mms = next(m for m in held.values() if m["num_media"] != "0" and NOW - moment(m) < timedelta(days=30))
    with serve(month) as running:
        listed = read_all(session, running.url, f"{API}/Accounts/{main}/Messages.json", "messages", PageSize=1000)
        gone = get(session, running.url + old_mms["subresource_uris"]["media"])
        media = get(session, running.url + new_mms["subresource_uris"]["media"])
        refused = get(
            session,
            running.url + new_mms["subresource_uris"]["media"],
            **{"DateCreated>": str(NOW.date() - timedelta(31))},
        )

    assert listed and all(NOW - moment(m) <= timedelta(days=30) for m in listed)
    assert sids(listed) == {sid for sid, m in held.items() if NOW - moment(m) <= timedelta(days=30)}
    assert (gone.status_code, gone.json()["code"]) == (404, 20404)
    assert media.status_code == 200 and len(media.json()["media_list"]) == int(new_mms["num_media"])
    assert (refused.status_code, refused.json()) == (400, RETENTION_ERROR)


def test_given_30_day_retention_then_no_message_lies_within_a_day_of_the_edge(month: Dataset) -> None:
    ages = [NOW - utc(i.record["date_sent"] or i.record["date_created"]) for i in month.items("messages")]

    assert not [age for age in ages if abs(age - timedelta(days=30)) < timedelta(days=1)]
    assert any(age > timedelta(days=31) for age in ages)


@pytest.mark.parametrize("days", [6, 401])
def test_given_retention_outside_7_to_400_days_then_options_refuse_it(days: int) -> None:
    with pytest.raises(ValueError, match="message_retention_days"):
        DatasetOptions(message_retention_days=days)


# ----- 5. the alert cap -----


def test_given_a_small_alert_result_limit_then_a_query_matching_more_gets_twilios_400(fixed: Dataset) -> None:
    session = session_for(fixed)
    recent = [i.record for i in fixed.items("alerts") if NOW - generated(i.record) < timedelta(days=30)]
    limit = len(recent) // 2
    narrow = iso(NOW - timedelta(days=2))

    with serve(fixed, alert_result_limit=limit) as running:
        too_many = get(session, f"{running.url}/v1/Alerts", PageSize=5)
        narrowed = get(session, f"{running.url}/v1/Alerts", StartDate=narrow)

    assert sum(NOW - generated(a) < timedelta(days=2) for a in recent) <= limit
    assert (too_many.status_code, too_many.json()) == (400, twilio_error(400, 20001, ALERT_CAP_TEXT))
    assert narrowed.status_code == 200


# ----- 6. persistent faults on chosen requests -----


def test_given_a_401_rule_on_one_accounts_messages_and_one_date_sent_then_only_those_requests_are_refused(
    fixed: Dataset,
) -> None:
    session, main = session_for(fixed), fixed.main_account_sid
    active_sub = next(s for s in fixed.credentials["subaccount_sids"] if fixed.account(s)["status"] == "active")
    refused_from = iso(NOW - timedelta(days=3))
    rule = PersistentFault(
        path=rf"/Accounts/{main}/Messages\.json$",
        query=re.escape(f"DateSent>={refused_from}"),
        status=401,
        code=20003,
        message="Authenticate",
    )

    with serve(fixed, faults=Faults(persistent=(rule,))) as running:
        messages = f"{running.url}{API}/Accounts/{main}/Messages.json"
        refused = [get(session, messages, **{"DateSent>": refused_from}) for _ in range(2)]
        other_value = get(session, messages, **{"DateSent>": iso(NOW - timedelta(days=4))})
        unfiltered = get(session, messages)
        other_account = get(
            session, f"{running.url}{API}/Accounts/{active_sub}/Messages.json", **{"DateSent>": refused_from}
        )
        other_list = get(session, f"{running.url}{API}/Accounts/{main}/Calls.json")
        stats = running.stats()

    assert [(r.status_code, r.json()) for r in refused] == [(401, AUTHENTICATE)] * 2
    assert [r.status_code for r in (other_value, unfiltered, other_account, other_list)] == [200] * 4
    assert stats["faults_injected"] == {"persistent_401": 2}


def test_given_several_rules_then_the_first_match_answers_and_any_400_code_is_expressible(fixed: Dataset) -> None:
    session, main = session_for(fixed), fixed.main_account_sid
    rules = (
        PersistentFault(r"/Calls\.json", r"Status=busy", status=400, code=21211, message="Invalid 'To' Phone Number"),
        PersistentFault(r"/Calls\.json", status=503, code=20503, message="Service Unavailable"),
    )

    with serve(fixed, faults=Faults(persistent=rules, persistent_failure_path="Queues")) as running:
        busy = get(session, f"{running.url}{API}/Accounts/{main}/Calls.json", Status="busy")
        other = get(session, f"{running.url}{API}/Accounts/{main}/Calls.json")
        queues = get(session, f"{running.url}{API}/Accounts/{main}/Queues.json")

    assert (busy.status_code, busy.json()["code"], busy.json()["message"]) == (400, 21211, "Invalid 'To' Phone Number")
    assert (other.status_code, other.json()["code"]) == (503, 20503)
    assert (queues.status_code, queues.json()["code"]) == (500, 20500)


def test_given_the_command_line_form_then_a_rule_is_parsed_with_the_codes_message() -> None:
    rule = PersistentFault.parse(r"401:20003:/Messages\.json?DateSent>=2026-05-(?:01|02)")
    plain = PersistentFault.parse("500:20500:Usage/Records")

    assert rule == PersistentFault(r"/Messages\.json", "DateSent>=2026-05-(?:01|02)", 401, 20003, "Authenticate")
    assert plain == PersistentFault("Usage/Records")
    with pytest.raises(ValueError):
        PersistentFault.parse("401:/Messages")
    with pytest.raises(ValueError):
        PersistentFault("x", status=200)


# ----- 7. account status changes -----


def test_given_a_subaccount_suspended_then_its_resources_answer_401_until_reactivated(fresh: Dataset) -> None:
    session = session_for(fresh)
    active_sub = next(s for s in fresh.credentials["subaccount_sids"] if fresh.account(s)["status"] == "active")

    with serve(fresh) as running:
        messages = f"{running.url}{API}/Accounts/{active_sub}/Messages.json"
        before = get(session, messages)
        record = fresh.set_account_status(active_sub, "suspended")
        suspended = get(session, messages)
        own = get(session, f"{running.url}{API}/Accounts/{active_sub}.json")
        listed = {a["sid"]: a for a in read_all(session, running.url, f"{API}/Accounts.json", "accounts")}
        fresh.set_account_status(active_sub, "active")
        again = get(session, messages)

    assert before.status_code == 200
    assert (suspended.status_code, suspended.json()) == (401, AUTHENTICATE)
    assert own.json()["status"] == "suspended"
    assert listed[active_sub]["status"] == "suspended"
    assert abs(utc(record["date_updated"]).timestamp() - fresh.clock()) <= 5
    assert again.status_code == 200


def test_given_the_account_status_endpoint_then_closing_is_final_and_bad_requests_are_refused(fresh: Dataset) -> None:
    session = session_for(fresh)
    main = fresh.main_account_sid
    sub = fresh.credentials["subaccount_sids"][0]
    endpoint = "/_emulator/account-status"

    with serve(fresh) as running:
        closed = requests.post(f"{running.url}{endpoint}", params={"sid": sub, "status": "closed"}, timeout=TIMEOUT)
        reads = get(session, f"{running.url}{API}/Accounts/{sub}/Calls.json")
        reopen = requests.post(f"{running.url}{endpoint}", params={"sid": sub, "status": "active"}, timeout=TIMEOUT)
        bad = requests.post(f"{running.url}{endpoint}", params={"sid": sub, "status": "asleep"}, timeout=TIMEOUT)
        on_main = requests.post(f"{running.url}{endpoint}", params={"sid": main, "status": "closed"}, timeout=TIMEOUT)
        unknown = requests.post(
            f"{running.url}{endpoint}", params={"sid": "AC" + "0" * 32, "status": "closed"}, timeout=TIMEOUT
        )

    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert (reads.status_code, reads.json()) == (401, AUTHENTICATE)
    assert [r.status_code for r in (reopen, bad, on_main)] == [400] * 3
    assert unknown.status_code == 404
    assert fresh.account(sub)["status"] == "closed"


# ----- command line -----


def test_given_the_harsher_cli_flags_then_the_process_serves_that_twilio(tmp_path: Path) -> None:
    info_file = tmp_path / "emulator.json"
    command = [
        sys.executable, "-m", "integration_tests.emulator", "--port", "0", "--messages", "20", "--calls", "10",
        "--subaccounts", "1", "--suspended", "0", "--clock-skew", "-120", "--message-retention-days", "30",
        "--visibility-lag", "60", "--exclusive-upper-bounds", "--alert-result-limit", "3",
        "--persistent-fault", r"401:20003:/Queues\.json?FriendlyName=x", "--info-file", str(info_file),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        process.stdout.readline()
        info = json.loads(info_file.read_text())
        session = requests.Session()
        session.auth = (info["account_sid"], info["auth_token"])
        base = f"{info['url']}{API}/Accounts/{info['account_sid']}"
        queues = get(session, f"{base}/Queues.json", FriendlyName="x")
        machine = time.time()
        old = get(
            session, f"{base}/Messages.json", **{"DateSent>": str((datetime.now(timezone.utc) - timedelta(31)).date())}
        )
        alerts = get(session, f"{info['url']}/v1/Alerts")
        mutation = requests.post(f"{info['url']}/_emulator/mutate", timeout=TIMEOUT).json()
        listed = sids(get(session, f"{base}/Calls.json", PageSize=1000).json()["calls"])
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=10)

    assert (queues.status_code, queues.json()) == (401, AUTHENTICATE)
    assert 118 <= machine - parsedate_to_datetime(queues.headers["Date"]).timestamp() <= 122
    assert (old.status_code, old.json()) == (400, RETENTION_ERROR)
    assert (alerts.status_code, alerts.json()["code"]) == (400, 20001)
    assert mutation["visible_after"] == 60 and not set(mutation["new"]["calls"]) & listed
    assert returncode == 0, process.stderr.read()


def test_given_a_malformed_persistent_fault_flag_then_the_cli_exits_2() -> None:
    command = [sys.executable, "-m", "integration_tests.emulator", "--persistent-fault", "oops"]

    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)

    assert completed.returncode == 2
    assert "STATUS:CODE:PATH_REGEX" in completed.stderr
