"""The connection check: one cheap authenticated request for the main account, and a message for each way it can
fail. No CDK source framework: ``check`` answers from here (``commands``), and so does ``SourceTwilio.check``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import requests

from source_twilio.answers import describe, json_body
from source_twilio.config import TwilioConfig
from source_twilio.credentials import OAuthRefused, credentials_for
from source_twilio.definitions import STREAMS, ChildOf, Scope, StreamDefinition
from source_twilio.pagination import is_whole_page, stalls

CHECK_TIMEOUT_SECONDS = 30
CHECK_ATTEMPTS = 3
ACCESS_PROBES = 8  # lists asked at once when checking what the credentials can read


def probe(config: TwilioConfig) -> tuple[bool, str | None]:
    """One cheap authenticated request for the main account, with a message for each way it can fail."""
    session = requests.Session()
    session.auth = credentials_for(config)
    account_url = f"{config.api_base}/2010-04-01/Accounts/{config.account_sid}.json"
    try:
        response = get_retrying(session, account_url)
    except OAuthRefused as error:
        return False, str(error)
    except requests.RequestException as error:
        return False, (
            f"Could not reach Twilio at {config.api_base} ({type(error).__name__}): check the network, proxy and "
            "firewall of the machine running the connector (it must reach api.twilio.com and monitor.twilio.com over HTTPS)."
        )
    if response.status_code == 200:
        status = json_object(response).get("status")
        if status not in (None, "active"):
            return (
                False,
                f"The Twilio account {config.account_sid} is {status}: Twilio serves no data for it until it is active again.",
            )
        succeeded, problem = selection_problem(session, config)
        return (succeeded, problem) if not succeeded or not config.main_account_only else (True, _access(config))
    if response.status_code in (401, 403) and config.auth_type == "api_key" and _reaches_account_data(session, config):
        return False, (
            f"The API key {config.username} can read the account's data but not its account list "
            f"({describe(response)}): it is a Standard API key, which cannot read /Accounts or /Keys. "
            "Use a Main API key (Twilio Console > API keys) or the account's Auth Token."
        )
    if response.status_code in (401, 403):
        return False, credentials_message(config, describe(response), "the account")
    if response.status_code == 404:
        return (
            False,
            f"Twilio has no account {config.account_sid} for these credentials ({describe(response)}): check the Account SID.",
        )
    return False, f"Twilio answered the connection check with {describe(response)}; try again later."


def _access(config: TwilioConfig) -> str:
    """What an API key or OAuth app reaches: the main account only, and, as they carry only the permissions they were
    given, which streams not (one cheap request per list of the main account, several at a time)."""
    lists = [d for d in STREAMS if d.scope is not Scope.CHILD and d.per_parent is None]
    session = requests.Session()  # its connections are reused by the probes, several hosts' at once
    session.auth = credentials_for(config)
    session.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=ACCESS_PROBES))

    def refused(definition: StreamDefinition) -> str | None:
        url = config.base_url(definition.host) + definition.path.format(account_sid=config.account_sid)
        params = {**definition.params, **definition.partitions[0], **({"PageSize": 1} if definition.paged else {})}
        try:
            response = session.get(url, params=params, timeout=CHECK_TIMEOUT_SECONDS)
        except (requests.RequestException, OAuthRefused):
            return None  # not a refusal: the sync will meet it and say so
        return describe(response) if response.status_code in (401, 403) else None

    with session, ThreadPoolExecutor(ACCESS_PROBES) as pool:
        answers = list(zip(lists, pool.map(refused, lists), strict=True))
    unreadable = {definition.name: answer for definition, answer in answers if answer}
    for definition in STREAMS:  # a child is read through its parent: a parent that is itself one comes first
        parent = (definition.child_of or definition.per_parent or ChildOf("", {})).parent
        if parent in unreadable:
            unreadable[definition.name] = f"its parent {parent} is not readable"
    reach = (
        "Connected. An API key or OAuth app reaches the main account only: its subaccounts are not read (the Auth "
        "Token reads them)."
    )
    if not unreadable:
        return reach
    named = "; ".join(f"{name} ({why})" for name, why in unreadable.items())
    return (
        f"{reach} These credentials cannot read {len(unreadable)} of {len(STREAMS)} streams: {named}. "
        "Give the key or app those permissions, or leave those streams out of the connection."
    )


def selection_problem(session: requests.Session, config: TwilioConfig) -> tuple[bool, str | None]:
    """Whether every subaccount the config selects by SID is one of the account's (Twilio lists them all)."""
    wanted = config.subaccounts.sids
    if not wanted or config.main_account_only:  # an API key or OAuth app reaches the main account only
        return True, None
    url: str | None = f"{config.api_base}/2010-04-01/Accounts.json"
    params: Mapping[str, Any] | None = {"PageSize": 1000}
    listed: set[str] = set()
    while url:
        try:
            response = get_retrying(session, url, params)
        except requests.RequestException:
            return True, None  # the sync will meet it and say so
        body = json_object(response)
        if response.status_code != 200:
            return True, None
        accounts = [account for account in body.get("accounts") or () if isinstance(account, dict)]
        listed |= {account.get("sid") for account in accounts}
        link = body.get("next_page_uri")
        url, params = (f"{config.api_base}{link}" if link else None), None
        if url and stalls(response.request.url or "", url, len(accounts)):  # a link that leads nowhere new
            if is_whole_page(body, response.request.url or "", len(accounts)):
                return True, None  # Twilio may list more than it lets us read: the sync will meet it and say so
            url = None
    unknown = sorted(wanted - listed - {config.account_sid})
    if not unknown:
        return True, None
    return False, (
        f"subaccounts.sids names {', '.join(unknown)}, which {'is' if len(unknown) == 1 else 'are'} not among the "
        f"subaccounts of {config.account_sid} (Twilio's list of its accounts): check the SIDs, or the account."
    )


def get_retrying(
    session: requests.Session, url: str, params: Mapping[str, Any] | None = None, auth: Any = None
) -> requests.Response:
    response = session.get(url, params=params, timeout=CHECK_TIMEOUT_SECONDS, auth=auth)
    for attempt in range(1, CHECK_ATTEMPTS):
        if response.status_code not in (401, 429) and response.status_code < 500:
            break
        time.sleep(attempt)
        response = session.get(url, params=params, timeout=CHECK_TIMEOUT_SECONDS, auth=auth)
    return response


def _reaches_account_data(session: requests.Session, config: TwilioConfig) -> bool:
    url = f"{config.api_base}/2010-04-01/Accounts/{config.account_sid}/Messages.json"
    try:
        return get_retrying(session, url, {"PageSize": 1}).status_code == 200
    except requests.RequestException:
        return False


def json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = json_body(response)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def credentials_message(config: TwilioConfig, detail: str, where: str) -> str:
    region = (
        f" Credentials are per region, and this configuration reads region {config.region} "
        f"({urlsplit(config.api_base).netloc or config.api_base}): if the account processes its data in another "
        "region (us1, ie1, au1), set region and use that region's credentials."
    )
    if config.auth_type == "api_key":
        return (
            f"Twilio refused the API key {config.username} for {where} ({detail}). Check the key SID and secret; "
            "a Standard API key cannot read /Accounts or /Keys, and an API key reaches only its own account: "
            "use a Main API key or the account's Auth Token." + region
        )
    return (
        f"Twilio rejected the Account SID {config.account_sid} and Auth Token for {where} ({detail}): "
        "check both in the Twilio Console (Account Info)." + region
    )
