"""A Twilio whose next-page links do not move forward, and the connector reading it.

Twilio's helper libraries guard against both: a server that links a page to the very token it was asked with
(twilio-php#914, 2026: "Prevents infinite loops when servers return the same nextToken ... as the current
pageToken"), and empty pages that keep a next link (twilio-csharp#489, "Infinite Paging of empty pages"). The
emulator's switches ``Faults.stuck_page_token`` and ``Faults.endless_pages`` serve each; a connector following such
links as they are would page forever, emitting the same records again and again. It must exit, emit every record
once, and say so where a list could not be read to its end.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from integration_tests.connector_runner import auth_token_config, catalog_for, emitted_keys, expected_keys
from integration_tests.emulator import Dataset, DatasetOptions, Faults, serve
from integration_tests.harness import run_process, run_with_deadline
from integration_tests.test_emulator import get
from source_twilio.definitions import STREAMS

API = "/2010-04-01"
REPO_ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 10
DEADLINE = 240
CHECK_DEADLINE = 60
PAGES_OF_MESSAGES = DatasetOptions(seed=5, subaccounts=0, suspended_subaccounts=0, messages_per_account=3_000)
"""About 2,660 messages Twilio still keeps in the main account: three pages of 1,000 in a sync's pass over them."""


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(DatasetOptions(seed=11))


@pytest.fixture(scope="module")
def many_messages() -> Dataset:
    return Dataset(PAGES_OF_MESSAGES)


def session_for(dataset: Dataset) -> requests.Session:
    session = requests.Session()
    session.auth = (dataset.credentials["account_sid"], dataset.credentials["auth_token"])
    return session


def follow(session: requests.Session, base: str, body: dict[str, Any]) -> dict[str, Any]:
    link = body["meta"]["next_page_url"] if "meta" in body else body["next_page_uri"]
    assert link, "the page has no next link"
    return session.get(link if "://" in link else base + link, timeout=TIMEOUT).json()


# ----- the emulator -----


def test_given_a_stuck_page_token_then_a_page_asked_with_a_token_links_to_itself(dataset: Dataset) -> None:
    session, main = session_for(dataset), dataset.main_account_sid
    with serve(dataset, faults=Faults(stuck_page_token=r"/Messages\.json")) as emulator:
        first = get(session, f"{emulator.url}{API}/Accounts/{main}/Messages.json", PageSize=5).json()
        second = follow(session, emulator.url, first)
        third = follow(session, emulator.url, second)
        calls = get(session, f"{emulator.url}{API}/Accounts/{main}/Calls.json", PageSize=5).json()
        calls_second = follow(session, emulator.url, calls)

    token = first["next_page_uri"].split("PageToken=")[1]
    assert token == "PA" + first["messages"][-1]["sid"]  # the first page links on as Twilio does...
    assert second["next_page_uri"].split("PageToken=")[1] == token  # ...the second links to its own token
    assert [m["sid"] for m in third["messages"]] == [m["sid"] for m in second["messages"]]
    assert "Page=2" in second["next_page_uri"] and "Page=3" in third["next_page_uri"]
    assert calls_second["next_page_uri"].split("PageToken=")[1] == "PA" + calls_second["calls"][-1]["sid"]


def test_given_endless_pages_then_the_last_page_links_to_empty_pages_forever(dataset: Dataset) -> None:
    session, main = session_for(dataset), dataset.main_account_sid
    with serve(dataset, faults=Faults(endless_pages=r"/Queues\.json|/v1/Alerts")) as emulator:
        queues = get(session, f"{emulator.url}{API}/Accounts/{main}/Queues.json", PageSize=50).json()
        empty = follow(session, emulator.url, queues)
        again = follow(session, emulator.url, empty)
        alerts = get(session, f"{emulator.url}/v1/Alerts", PageSize=1000).json()
        alerts_empty = follow(session, emulator.url, alerts)

    assert queues["queues"] and queues["next_page_uri"]  # every queue on one page, and a link on
    assert empty["queues"] == [] and again["queues"] == []
    assert empty["next_page_uri"].split("PageToken=")[1] == again["next_page_uri"].split("PageToken=")[1]
    assert alerts["alerts"] and alerts_empty["alerts"] == [] and alerts_empty["meta"]["next_page_url"]


def test_given_the_paging_flags_then_the_process_serves_that_twilio(tmp_path: Path) -> None:
    info_file = tmp_path / "emulator.json"
    command = [
        sys.executable, "-m", "integration_tests.emulator", "--port", "0", "--messages", "20", "--calls", "10",
        "--subaccounts", "0", "--suspended", "0", "--stuck-page-token", r"/Messages\.json",
        "--endless-pages", r"/Queues\.json", "--info-file", str(info_file),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        process.stdout.readline()
        info = json.loads(info_file.read_text())
        session = requests.Session()
        session.auth = (info["account_sid"], info["auth_token"])
        base = f"{info['url']}{API}/Accounts/{info['account_sid']}"
        second = follow(session, info["url"], get(session, f"{base}/Messages.json", PageSize=5).json())
        queues = get(session, f"{base}/Queues.json", PageSize=50).json()
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=10)

    assert second["next_page_uri"].split("PageToken=")[1] == "PA" + sid_asked_after(second)
    assert queues["queues"] and queues["next_page_uri"]
    assert returncode == 0


def sid_asked_after(page: dict[str, Any]) -> str:
    """The sid in the token the page was asked with (the record it starts after): what a stuck link names again."""
    return page["uri"].split("PageToken=PA")[1]


# ----- the connector -----


def test_given_endless_empty_pages_on_every_list_when_reading_then_every_record_once_and_the_sync_ends(
    dataset: Dataset, tmp_path: Path
) -> None:
    streams = [definition.name for definition in STREAMS]
    config = auth_token_config(dataset)
    for workdir in ("plain", "endless"):
        (tmp_path / workdir).mkdir()
    with serve(dataset) as emulator:
        plain = run_with_deadline(emulator.url, tmp_path / "plain", config, catalog_for(streams), deadline=DEADLINE)
    with serve(dataset, faults=Faults(endless_pages=".")) as emulator:
        endless = run_with_deadline(emulator.url, tmp_path / "endless", config, catalog_for(streams), deadline=DEADLINE)

    assert endless.exited, f"still paging after {DEADLINE} s: {endless.run.stderr[-2000:]}"
    assert plain.exited and plain.run.returncode == 0 and plain.run.records
    assert endless.run.returncode == 0, endless.run.errors
    assert keys_by_stream(endless.run.records) == keys_by_stream(plain.run.records)


def test_given_a_page_token_that_stops_moving_when_reading_then_each_record_once_and_the_list_is_named_incomplete(
    many_messages: Dataset, tmp_path: Path
) -> None:
    config = auth_token_config(many_messages)
    catalog = catalog_for(["messages", "calls"])
    with serve(many_messages, faults=Faults(stuck_page_token=r"/Messages\.json")) as emulator:
        stuck = run_with_deadline(emulator.url, tmp_path, config, catalog, deadline=DEADLINE)

    assert stuck.exited, f"still paging after {DEADLINE} s: {stuck.run.stderr[-2000:]}"
    messages = [record["sid"] for record in stuck.run.records["messages"]]
    reachable = {sid for (sid,) in expected_keys(many_messages, "messages")}
    assert len(reachable) > 2_000  # a third page: the one the stuck token never reaches
    assert [sid for sid, count in Counter(messages).items() if count > 1] == []
    assert 0 < len(messages) < len(reachable) and set(messages) <= reachable
    assert set(emitted_keys(stuck.run.records["calls"], "calls")) == expected_keys(many_messages, "calls")
    assert stuck.run.returncode != 0
    (error,) = [e for e in stuck.run.errors if e.get("stream_descriptor", {}).get("name") == "messages"]
    assert "Stream messages is incomplete" in error["message"] and "repeats" in error["message"], error["message"]


def keys_by_stream(records: dict[str, list[dict[str, Any]]]) -> dict[str, Counter[tuple]]:
    """Each stream's primary keys, with how often each was emitted (usage records' ``as_of`` moves every request)."""
    return {stream: Counter(emitted_keys(found, stream)) for stream, found in records.items()}


def test_given_endless_pages_of_accounts_when_checking_a_selection_then_check_answers(
    dataset: Dataset, tmp_path: Path
) -> None:
    config = auth_token_config(dataset, subaccounts={"selection": "only", "sids": [dataset.accounts[1]]})
    with serve(dataset, faults=Faults(endless_pages=r"/Accounts\.json")) as emulator:
        run = run_process("check", emulator.url, tmp_path, config=config, timeout=CHECK_DEADLINE)

    assert run.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED", run.stdout[-2000:]
