"""Builders of Twilio responses for requests-mock tests: pages, accounts, errors."""

from __future__ import annotations

from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from source_twilio import SourceTwilio
from unit_tests.conftest import ACCOUNT_SID, SUBACCOUNT_SID

API = "https://api.twilio.com/2010-04-01"
MONITOR = "https://monitor.twilio.com/v1"
SUSPENDED_SID = "AC" + "3" * 32


def page(list_key: str, records: list[dict], next_page_uri: str | None = None) -> dict[str, Any]:
    return {list_key: records, "next_page_uri": next_page_uri, "page": 0, "page_size": 1000, "uri": "/x"}


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def account(sid: str, status: str = "active") -> dict[str, Any]:
    return {"sid": sid, "status": status, "friendly_name": sid[-4:], "auth_token": "a-subaccount-secret-token-value"}


def given_accounts(mocker, *extra: dict) -> None:
    accounts = [account(ACCOUNT_SID), account(SUBACCOUNT_SID), account(SUSPENDED_SID, "suspended"), *extra]
    mocker.get(f"{API}/Accounts.json", json=page("accounts", accounts))


def read_stream(config: dict, name: str, sync_mode: SyncMode = SyncMode.full_refresh, state=None, **kwargs):
    catalog = CatalogBuilder().with_stream(name, sync_mode).build()
    return read(SourceTwilio(), config, catalog, state=state, **kwargs)


def query(request) -> dict[str, str]:
    """The request's query as Twilio reads it: keys keep their < and > (requests-mock lowercases values)."""
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(request.url).query))
