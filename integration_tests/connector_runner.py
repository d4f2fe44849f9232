"""Run the real connector (``main.py`` in a subprocess) against an emulator, and what the emulator holds.

Shared by the end-to-end tests, the demo and the benchmark.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from integration_tests.emulator import Dataset
from source_twilio.config import EMULATOR_URL_ENV
from source_twilio.definitions import BY_NAME, STREAMS, StreamDefinition

ROOT = Path(__file__).resolve().parents[1]
MAIN = ROOT / "main.py"
START_DATE = "2020-01-01T00:00:00Z"


def auth_token_config(dataset: Dataset, **extra: Any) -> dict[str, Any]:
    credentials = dataset.credentials
    return {
        "account_sid": credentials["account_sid"],
        "credentials": {"auth_type": "auth_token", "auth_token": credentials["auth_token"]},
        "start_date": START_DATE,
        **extra,
    }


def api_key_config(dataset: Dataset, key: str = "api_key") -> dict[str, Any]:
    credentials = dataset.credentials
    return {
        "account_sid": credentials["account_sid"],
        "credentials": {
            "auth_type": "api_key",
            "api_key_sid": credentials[f"{key}_sid"],
            "api_key_secret": credentials[f"{key}_secret"],
        },
        "start_date": START_DATE,
    }


def secrets_of(dataset: Dataset) -> list[str]:
    """Every secret the emulator knows, and the Basic-auth headers built from them."""
    credentials = dataset.credentials
    pairs = [
        (credentials["account_sid"], credentials["auth_token"]),
        (credentials["api_key_sid"], credentials["api_key_secret"]),
        (credentials["standard_key_sid"], credentials["standard_key_secret"]),
    ]
    tokens = [secret for _, secret in pairs] + list(credentials.get("subaccount_auth_tokens", {}).values())
    headers = [base64.b64encode(f"{user}:{secret}".encode()).decode() for user, secret in pairs]
    return tokens + headers


def catalog_for(streams: Iterable[StreamDefinition | str], sync_mode: str = "full_refresh") -> dict[str, Any]:
    configured = []
    for stream in streams:
        definition = BY_NAME[stream] if isinstance(stream, str) else stream
        mode = sync_mode if (sync_mode == "full_refresh" or definition.incremental) else "full_refresh"
        configured.append(
            {
                "stream": {
                    "name": definition.name,
                    "json_schema": {},
                    "supported_sync_modes": ["full_refresh", "incremental"]
                    if definition.incremental
                    else ["full_refresh"],
                },
                "sync_mode": mode,
                "destination_sync_mode": "append_dedup" if mode == "incremental" else "overwrite",
                "primary_key": [[part] for part in definition.primary_key],
                **({"cursor_field": [definition.cursor_field]} if mode == "incremental" else {}),
            }
        )
    return {"streams": configured}


@dataclass
class Run:
    """The parsed output of one connector command."""

    returncode: int
    messages: list[dict[str, Any]]
    stdout: str
    stderr: str
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for message in self.messages:
            if message["type"] == "RECORD":
                self.records.setdefault(message["record"]["stream"], []).append(message["record"]["data"])

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [message for message in self.messages if message["type"] == kind]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"]["type"] == "ERROR"]

    @property
    def logs(self) -> list[str]:
        return [m["log"]["message"] for m in self.of_type("LOG")]

    @property
    def final_states(self) -> list[dict[str, Any]]:
        """The last STATE message of each stream, as Airbyte would hand them to the next sync."""
        last: dict[str, dict[str, Any]] = {}
        for message in self.of_type("STATE"):
            state = message["state"]
            last[state["stream"]["stream_descriptor"]["name"]] = {"type": "STREAM", "stream": state["stream"]}
        return list(last.values())


def write_inputs(
    workdir: Path,
    config: Mapping[str, Any] | None = None,
    catalog: Mapping[str, Any] | None = None,
    state: list[Mapping[str, Any]] | None = None,
) -> list[str]:
    """The command's files, written to ``workdir``: its ``--config``, ``--catalog`` and ``--state`` arguments."""
    args = []
    for name, value in (("config", config), ("catalog", catalog), ("state", state)):
        if value is not None:
            path = workdir / f"{name}.json"
            path.write_text(json.dumps(value))
            args += [f"--{name}", str(path)]
    return args


def run_connector(
    command: str,
    emulator_url: str | None,
    workdir: Path,
    config: Mapping[str, Any] | None = None,
    catalog: Mapping[str, Any] | None = None,
    state: list[Mapping[str, Any]] | None = None,
    timeout: float = 600,
) -> Run:
    args = [sys.executable, str(MAIN), command, *write_inputs(workdir, config, catalog, state)]
    env = {key: value for key, value in os.environ.items() if key != EMULATOR_URL_ENV}
    if emulator_url:
        env[EMULATOR_URL_ENV] = emulator_url
    completed = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
    messages = []
    for line in completed.stdout.splitlines():
        if line.strip():
            messages.append(json.loads(line))
    return Run(completed.returncode, messages, completed.stdout, completed.stderr)


# --- what the emulator holds that a sync from START_DATE must emit ------------------------------------------


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    if value[0].isdigit():
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsedate_to_datetime(value).astimezone(timezone.utc)


def expected_keys(dataset: Dataset, stream: str, now: datetime | None = None) -> set[tuple]:
    """Primary keys a full sync (credentials: the Auth Token) must emit for a stream, from what the emulator holds."""
    now = now or datetime.fromtimestamp(dataset.clock(), timezone.utc)
    readable = readable_accounts(dataset)
    definition = BY_NAME[stream]
    keys = set()
    retention_days = dataset.options.message_retention_days
    messages_kept = {
        i.record["sid"] for i in dataset.items("messages") if _message_reachable(i.record, now, retention_days)
    }
    for item in dataset.items(stream):
        record = item.record
        if stream != "accounts" and item.account_sid not in readable:
            continue
        if stream == "messages" and record["sid"] not in messages_kept:
            continue
        if stream == "message_media" and item.parent not in messages_kept:
            continue
        if stream == "alerts" and _instant(record["date_generated"]) < now - timedelta(days=30):
            continue
        if stream == "monitor_events" and _instant(record["event_date"]) < now - timedelta(days=30):
            continue
        if stream == "call_summaries" and not _summary_listed(dataset, item.account_sid, record, now):
            continue
        if stream == "conference_participants" and not _conference_is_live(dataset, item.parent):
            continue
        if stream == "usage_records" and record["start_date"] < START_DATE[:10]:
            continue
        keys.add(
            tuple(
                record.get(part, item.account_sid if part == "account_sid" else None) for part in definition.primary_key
            )
        )
    return keys


def emitted_keys(records: Iterable[Mapping[str, Any]], stream: str) -> list[tuple]:
    return [tuple(record.get(part) for part in BY_NAME[stream].primary_key) for record in records]


def readable_accounts(dataset: Dataset) -> set[str]:
    return {i.record["sid"] for i in dataset.items("accounts") if i.record["status"] == "active"}


def _message_reachable(record: Mapping[str, Any], now: datetime, retention_days: int) -> bool:
    """Within the account's message retention (``DatasetOptions.message_retention_days``, 7 to 400 days)."""
    moment = _instant(record.get("date_sent")) or _instant(record["date_created"])
    return moment >= now - timedelta(days=retention_days)


def _summary_listed(dataset: Dataset, account_sid: str | None, record: Mapping[str, Any], now: datetime) -> bool:
    """Voice Insights lists complete summaries of the last 30 days, for accounts with its Advanced Features."""
    return (
        account_sid is not None
        and dataset.has_voice_insights(account_sid)
        and record["processing_state"] == "complete"
        and _instant(record["start_time"]) >= now - timedelta(days=30)
    )


_LIVE = {"init", "in-progress"}


def _conference_is_live(dataset: Dataset, conference_sid: str | None) -> bool:
    return any(i.record["sid"] == conference_sid and i.record["status"] in _LIVE for i in dataset.items("conferences"))


ALL_STREAMS = [definition.name for definition in STREAMS]
