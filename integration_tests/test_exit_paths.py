"""Every way a sync can end, the process ends: no worker thread is left behind to keep it alive.

Each test runs ``main.py read`` as a subprocess with a deadline: a process that does not exit by itself within
it is a failure (and is killed). The ways: a list refused for good while later windows of the same account are
already being read ahead (a 401 on the main account, a 400 on a subaccount), SIGINT and SIGTERM part-way, and the
normal end of a sync under faults.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from integration_tests.connector_runner import MAIN, ROOT, auth_token_config, catalog_for, emitted_keys, expected_keys
from integration_tests.emulator import Dataset, DatasetOptions, Faults, serve
from integration_tests.harness import answering, arguments, run_until_signalled, run_with_deadline, twilio_error
from source_twilio.config import EMULATOR_URL_ENV
from source_twilio.process import STOP_GRACE_SECONDS

pytestmark = pytest.mark.e2e

DEADLINE_SECONDS = 120  # a sync of this dataset takes seconds; a hang takes forever
SIGNAL_DEADLINE_SECONDS = 20


def oldest_windows(dataset: Dataset, account_sid: str, stream_path: str, parameter: str):
    """A request predicate: the account's list asked from more than 395 days ago (its oldest windows)."""
    clock = datetime.fromtimestamp(dataset.clock(), timezone.utc)
    oldest = (clock - timedelta(days=395)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = f"/2010-04-01/Accounts/{account_sid}/{stream_path}"

    def matches(request) -> bool:
        after = dict(request.query).get(parameter)
        return request.path == path and after is not None and after < oldest

    return matches


@pytest.mark.parametrize(
    ("who", "status", "code", "message"),
    [
        ("main", 401, 20003, "Authenticate"),
        ("subaccount", 400, 20001, "Invalid StartTime: the value is outside the range the API accepts"),
    ],
)
def test_given_an_oldest_window_refused_for_good_while_later_ones_are_read_ahead_then_the_process_exits(
    tmp_path, who, status, code, message
):
    """Calls: their first sync reads windows (a first sync of messages reads its list in one pass)."""
    dataset = Dataset(DatasetOptions(seed=71, calls_per_account=20000))
    credentials = dataset.credentials
    account = credentials["account_sid"] if who == "main" else credentials["subaccount_sids"][0]
    refused = oldest_windows(dataset, account, "Calls.json", "StartTime>")
    with (
        serve(dataset, latency_ms=20) as emulator,
        answering(emulator, refused, status, twilio_error(status, code, message)) as answered,
    ):
        ended = run_with_deadline(
            emulator.url,
            tmp_path,
            auth_token_config(dataset),
            catalog_for(["messages", "calls"], "incremental"),
            deadline=DEADLINE_SECONDS,
        )
    assert answered, "the refusal never happened: the test would prove nothing"
    assert ended.exited, f"the process did not exit within {DEADLINE_SECONDS} s of starting (a hang)"
    run = ended.run
    assert run.returncode != 0
    assert run.records.get("messages"), "the other stream was read"
    if who == "subaccount":  # the other accounts of the stream are read completely
        refused_sids = _sids(dataset, account)
        others = {key for key in expected_keys(dataset, "calls") if key[0] not in refused_sids}
        elsewhere = [record for record in run.records["calls"] if record["account_sid"] != account]
        assert set(emitted_keys(elsewhere, "calls")) == others


def _sids(dataset: Dataset, account_sid: str) -> set[str]:
    return {item.record["sid"] for item in dataset.items("calls") if item.account_sid == account_sid}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_given_a_sync_in_progress_when_interrupted_then_the_process_exits_promptly(tmp_path, signum):
    dataset = Dataset(DatasetOptions(seed=73, messages_per_account=3000, calls_per_account=800))
    with serve(dataset, latency_ms=40) as emulator:
        ended = run_until_signalled(
            emulator.url,
            tmp_path,
            auth_token_config(dataset),
            catalog_for(["messages", "message_media", "calls"], "incremental"),
            state=None,
            after_records=300,
            signum=signum,
            at_state=False,
            deadline=SIGNAL_DEADLINE_SECONDS,
        )
    assert ended.run.records, "the sync had not started: the test would prove nothing"
    assert ended.exited, f"still running {SIGNAL_DEADLINE_SECONDS} s after {signal.Signals(signum).name}"
    # Ended by the signal itself, as without any handling: PyAirbyte takes only that (or 0) after its SIGTERM.
    assert ended.run.returncode == -signum
    assert "Traceback" not in ended.run.stderr
    assert any("Stopped by" in log for log in ended.run.logs), "stopped at a safe point, not by the watchdog"
    # Every line written is a whole message (the harness parses each): none was cut by the signal.


def test_given_a_sync_under_faults_when_it_ends_normally_then_the_process_exits(tmp_path):
    dataset = Dataset(DatasetOptions(seed=79))
    faults = Faults(rate_429=0.05, rate_500=0.02, rate_drop=0.01, seed=5)
    with serve(dataset, faults=faults) as emulator:
        ended = run_with_deadline(
            emulator.url,
            tmp_path,
            auth_token_config(dataset),
            catalog_for(["messages", "message_media", "calls", "alerts"], "incremental"),
            deadline=DEADLINE_SECONDS,
        )
    assert ended.exited
    assert ended.run.returncode == 0, ended.run.stderr[-2000:]


def test_given_a_reader_that_stopped_reading_when_it_sends_sigterm_then_the_process_ends_by_sigterm_within_the_grace(
    tmp_path,
):
    """PyAirbyte's get_samples(): it stops reading stdout, sends SIGTERM, waits 10 s, then kills. The sync is
    blocked writing to the full pipe and never reaches a safe point: the watchdog must end it, by SIGTERM."""
    dataset = Dataset(DatasetOptions(seed=83, messages_per_account=3000))
    with serve(dataset) as emulator:
        args = [
            sys.executable,
            str(MAIN),
            *arguments("read", tmp_path, auth_token_config(dataset), catalog_for(["messages"])),
        ]
        env = {**os.environ, EMULATOR_URL_ENV: emulator.url}
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
        assert process.stdout is not None
        process.stdout.read(1000)  # it has started; from now on nobody reads
        threading.Event().wait(3)  # the pipe fills, and the sync blocks on it
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            returncode = process.wait(timeout=STOP_GRACE_SECONDS + 4)
        finally:
            process.kill()
            process.stdout.close()
    assert returncode == -signal.SIGTERM, returncode
    assert time.monotonic() - started <= STOP_GRACE_SECONDS + 4
