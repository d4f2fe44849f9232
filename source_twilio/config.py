"""The connector's configuration: parsed once, checked field by field, with a message a user can act on."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_twilio.definitions import Host
from source_twilio.timeutil import parse_iso_datetime

API_BASE = "https://api.twilio.com"
MONITOR_BASE = "https://monitor.twilio.com"
PRODUCTS = tuple(host.value for host in Host if host not in (Host.API, Host.MONITOR))
REGIONS = {"us1": "", "ie1": ".dublin.ie1", "au1": ".sydney.au1"}
"""Twilio's processing regions and what their hosts insert before ``.twilio.com``: since 2026-04-28 the only
regional patterns (``api.dublin.ie1.twilio.com``, ``conversations.sydney.au1.twilio.com``)."""

# Test-only: points both Twilio hosts at a local emulator. Never offered in the spec or the UI.
EMULATOR_URL_ENV = "SOURCE_TWILIO_EMULATOR_URL"
DEPLOYMENT_MODE_ENV = "DEPLOYMENT_MODE"  # "cloud" in Airbyte Cloud, where the CDK refuses plain http and private hosts

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
API_KEY_SID = re.compile(r"^SK[0-9a-fA-F]{32}$")

TWILIO_EPOCH = datetime(2008, 1, 1, tzinfo=timezone.utc)
DEFAULT_HISTORY = timedelta(days=730)
DEFAULT_LOOKBACK_MINUTES = 360
MAX_LOOKBACK_MINUTES = 525_600
DEFAULT_WORKERS = 40
MAX_WORKERS = 100
# Twilio does not publish its per-account concurrency limit (third parties report 100) and the customer's own
# applications share it: a sync takes a tenth of that by default.
DEFAULT_PER_ACCOUNT = 10


class ConfigError(AirbyteTracedException):
    """A configuration value the connector cannot work with; the message names the field and the fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message, internal_message=message, failure_type=FailureType.config_error)


OAUTH = "oauth_client_credentials"
SELECTIONS = ("all", "only", "except")


@dataclass(frozen=True)
class SubaccountSelection:
    """Which subaccounts a sync reads (config ``subaccounts``); the main account always."""

    mode: str = "all"  # one of SELECTIONS
    sids: frozenset[str] = frozenset()

    def includes(self, account_sid: str) -> bool:
        if self.mode == "only":
            return account_sid in self.sids
        return self.mode != "except" or account_sid not in self.sids


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    username: str
    password: str
    auth_type: str  # "auth_token", "api_key" or OAUTH (username and password: the OAuth app's client id and secret)
    start_date: datetime
    lookback: timedelta
    num_workers: int
    per_account: int = DEFAULT_PER_ACCOUNT
    api_base: str = API_BASE
    monitor_base: str = MONITOR_BASE
    subaccounts: SubaccountSelection = SubaccountSelection()
    region: str = "us1"
    emulator_url: str | None = None  # the test-only emulator every host is read from (see ``EMULATOR_URL_ENV``)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any], now: datetime | None = None) -> TwilioConfig:
        if not isinstance(config, Mapping):
            raise ConfigError('The configuration must be a JSON object, for example {"account_sid": "AC...", ...}.')
        now = now or datetime.now(timezone.utc)
        account_sid = _account_sid(config.get("account_sid"))
        auth_type, username, password = _credentials(config, account_sid)
        region = _region(config.get("region"))
        emulator_url = _emulator_url()
        api_base, monitor_base = (_base(name, region, emulator_url) for name in ("api", "monitor"))
        return cls(
            account_sid=account_sid,
            username=username,
            password=password,
            auth_type=auth_type,
            start_date=_start_date(config.get("start_date"), now),
            lookback=timedelta(
                minutes=_bounded_int(config, "lookback_window", DEFAULT_LOOKBACK_MINUTES, 0, MAX_LOOKBACK_MINUTES)
            ),
            num_workers=_workers(config),
            per_account=_bounded_int(config, "max_requests_per_account", DEFAULT_PER_ACCOUNT, 1, MAX_WORKERS),
            api_base=api_base,
            monitor_base=monitor_base,
            subaccounts=_subaccounts(config.get("subaccounts"), account_sid),
            region=region,
            emulator_url=emulator_url,
        )

    @property
    def main_account_only(self) -> bool:
        """The credentials reach the main account only: an API key ("Main account API Keys only grant access to
        main account resources") or an OAuth app, which belongs to one account."""
        return self.auth_type != "auth_token"

    @property
    def emulated(self) -> bool:
        return self.emulator_url is not None

    def base_url(self, host: Host) -> str:
        """Where a stream's path on ``host`` starts: after the version for the 2010 API and Monitor."""
        if host is Host.API:
            return self.api_base + "/2010-04-01/"
        if host is Host.MONITOR:
            return self.monitor_base + "/v1/"
        return self.base_for(host.value) + "/"

    def base_for(self, product: str) -> str:
        """Where a Twilio product's host is, in the config's region (``conversations`` ->
        ``https://conversations.dublin.ie1.twilio.com`` in IE1), or the emulator's stand-in for it."""
        return _base(product, self.region, self.emulator_url)

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """The scheme://host[:port] origins credentials may be sent to: the region's Twilio hosts."""
        bases = (self.api_base, self.monitor_base, *(self.base_for(name) for name in PRODUCTS))
        return frozenset(_origin(base) for base in bases)


def _account_sid(value: Any) -> str:
    if value is None or value == "":
        raise ConfigError(
            "account_sid is missing: set it to your Account SID (AC followed by 32 hexadecimal characters, on the Twilio Console dashboard)."
        )
    if not isinstance(value, str):
        raise ConfigError(f"account_sid must be a string, got {type(value).__name__}.")
    if value != value.strip() and ACCOUNT_SID.match(value.strip()):
        raise ConfigError(_surrounded_by_whitespace("account_sid", "AC"))
    value = value.strip()
    if API_KEY_SID.match(value):
        raise ConfigError(
            "account_sid holds an API key SID (SK...), not an Account SID: put the Account SID (AC...) here, "
            "and the API key SID and secret under Authentication > API Key."
        )
    if not ACCOUNT_SID.match(value):
        raise ConfigError(
            f"account_sid {shown(value)} is not a Twilio Account SID: it must be AC followed by 32 hexadecimal "
            "characters (copy it from the Twilio Console dashboard)."
        )
    return value


def _credentials(config: Mapping[str, Any], account_sid: str) -> tuple[str, str, str]:
    credentials = config.get("credentials")
    if credentials is not None and not isinstance(credentials, Mapping):
        raise ConfigError(f"credentials must be an object with auth_type 'auth_token', 'api_key' or '{OAUTH}'.")
    credentials = credentials or {}
    auth_type = credentials.get("auth_type") or ("api_key" if "api_key_sid" in credentials else "auth_token")
    if auth_type == "api_key":
        key_sid, secret = credentials.get("api_key_sid"), credentials.get("api_key_secret")
        if not key_sid or not secret:
            raise ConfigError("API key authentication needs both api_key_sid (SK...) and api_key_secret.")
        if isinstance(key_sid, str) and key_sid != key_sid.strip() and API_KEY_SID.match(key_sid.strip()):
            raise ConfigError(_surrounded_by_whitespace("api_key_sid", "SK"))
        if not isinstance(key_sid, str) or not API_KEY_SID.match(key_sid.strip()):
            if isinstance(key_sid, str) and ACCOUNT_SID.match(key_sid.strip()):
                raise ConfigError(
                    "api_key_sid holds an Account SID (AC...): give the SID of an API key (SK...), or use Auth Token authentication."
                )
            raise ConfigError("api_key_sid must be an API key SID: SK followed by 32 hexadecimal characters.")
        return "api_key", key_sid.strip(), _secret(secret, "api_key_secret")
    if auth_type == OAUTH:
        client_id, client_secret = credentials.get("client_id"), credentials.get("client_secret")
        if not client_id or not client_secret or not isinstance(client_id, str):
            raise ConfigError(
                "OAuth authentication needs the OAuth app's client_id and client_secret (Twilio Console > OAuth apps)."
            )
        return OAUTH, client_id.strip(), _secret(client_secret, "client_secret")
    if auth_type != "auth_token":
        raise ConfigError(
            f"credentials.auth_type must be 'auth_token', 'api_key' or '{OAUTH}', not {shown(auth_type)}."
        )
    token = credentials.get("auth_token") or config.get("auth_token")
    if not token:
        raise ConfigError(
            "No credentials: give the account's Auth Token (Authentication > Auth Token), or an API key SID and secret "
            "(Authentication > API Key)."
        )
    return "auth_token", account_sid, _secret(token, "auth_token")


def _surrounded_by_whitespace(name: str, prefix: str) -> str:
    return (
        f"{name} has spaces or a line break around it (as copying from a web page can add): remove them, so that it "
        f"is exactly {prefix} followed by 32 hexadecimal characters."
    )


def _secret(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} must be a non-empty string.")
    return value.strip()


def _start_date(value: Any, now: datetime) -> datetime:
    if value in (None, ""):
        return now - DEFAULT_HISTORY
    if not isinstance(value, str):
        raise ConfigError(f"start_date must be a string such as 2024-01-01T00:00:00Z, got {type(value).__name__}.")
    parsed = parse_iso_datetime(value.strip())
    if parsed is None:
        raise ConfigError(
            f"start_date {shown(value)} is not an ISO 8601 date or date-time: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, "
            "for example 2024-01-01T00:00:00Z."
        )
    if parsed > now:
        raise ConfigError(
            f"start_date {shown(value)} is in the future (now is {now:%Y-%m-%dT%H:%M:%SZ}): choose a date in the past."
        )
    if parsed < TWILIO_EPOCH:
        raise ConfigError(
            f"start_date {shown(value)} is before 2008-01-01, earlier than any Twilio data: choose a later date."
        )
    return parsed


def _subaccounts(value: Any, main_account_sid: str) -> SubaccountSelection:
    if value is None:
        return SubaccountSelection()
    example = '{"selection": "only", "sids": ["AC..."]}'
    if not isinstance(value, Mapping) or value.get("selection") not in SELECTIONS:
        raise ConfigError(
            f"subaccounts must be an object whose selection is 'all', 'only' or 'except', for example {example}."
        )
    mode, sids = value["selection"], value.get("sids")
    if mode == "all":
        return SubaccountSelection()
    if not isinstance(sids, list) or not all(isinstance(sid, str) for sid in sids):
        raise ConfigError(
            f"subaccounts.sids must be a list of subaccount SIDs with selection '{mode}', e.g. {example}."
        )
    malformed = [sid for sid in sids if not ACCOUNT_SID.match(sid.strip())]
    if malformed:
        raise ConfigError(
            f"subaccounts.sids holds {shown(malformed[0])}, which is not an Account SID: AC followed by 32 "
            "hexadecimal characters (each subaccount's is in the Twilio Console, under Subaccounts)."
        )
    cleaned = frozenset(sid.strip() for sid in sids)
    if main_account_sid in cleaned:
        raise ConfigError(
            f"subaccounts.sids lists the main account {main_account_sid}, which is always read: list subaccounts only."
        )
    return SubaccountSelection(mode, cleaned)


def _workers(config: Mapping[str, Any]) -> int:
    # Airbyte's own connector spells it num_worker; both are accepted, num_workers wins.
    key = "num_workers" if config.get("num_workers") is not None else "num_worker"
    return _bounded_int(config, key, DEFAULT_WORKERS, 1, MAX_WORKERS)


def _bounded_int(config: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = config.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        else:
            raise ConfigError(f"{key} must be a whole number from {low} to {high}, got {shown(value)}.")
    if not low <= value <= high:
        raise ConfigError(f"{key} must be from {low} to {high}, got {value}.")
    return value


def _region(value: Any) -> str:
    if value is None:
        return "us1"
    if value not in REGIONS:
        raise ConfigError(
            f"region must be one of {', '.join(REGIONS)} (where the Twilio account processes its data), got "
            f"{shown(value)}."
        )
    return str(value)


def _base(product: str, region: str, emulator_url: str | None) -> str:
    """``https://{product}{region part}.twilio.com``; the emulator serves US1's API and Monitor unprefixed, every
    other host under ``/h/{hostname}``."""
    hostname = f"{product}{REGIONS[region]}.twilio.com"
    if emulator_url is None:
        return f"https://{hostname}"
    if region == "us1" and product in ("api", "monitor"):
        return emulator_url
    return f"{emulator_url}/h/{hostname}"


def _emulator_url() -> str | None:
    override = os.environ.get(EMULATOR_URL_ENV)
    if not override:
        return None
    if os.environ.get(DEPLOYMENT_MODE_ENV, "").strip().lower() == "cloud":
        raise ConfigError(
            f"{EMULATOR_URL_ENV} is set, but it is for tests against the local emulator only and is refused in "
            f"Airbyte Cloud ({DEPLOYMENT_MODE_ENV}=cloud): unset it."
        )
    parts = urlsplit(override)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ConfigError(
            f"{EMULATOR_URL_ENV} must be a base URL such as http://127.0.0.1:8080, got {shown(override)}."
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"{EMULATOR_URL_ENV} points at {parts.hostname} over plain http: credentials go over plain http only to a "
            "loopback address (127.0.0.1, ::1, localhost), where the test emulator runs; use https for any other host."
        )
    return f"{parts.scheme}://{parts.netloc}"


def _is_loopback(hostname: str | None) -> bool:
    if not hostname:
        return False
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


SECRET_LIKE = re.compile(r"[0-9A-Za-z]{12,}")  # tokens, key secrets and SIDs are long runs of letters and digits


def shown(value: Any) -> str:
    """A rejected value as a message quotes it: in full only if it cannot be a secret (an Auth Token pasted into the
    wrong field, say); otherwise its first two characters and its length."""
    text = str(value)
    if len(text) <= 40 and not SECRET_LIKE.search(text):
        return repr(value) if isinstance(value, str) else text
    return f"'{text[:2]}...' ({len(text)} characters)"


_ANNOUNCED: set[str] = set()


def announce_emulator(config: TwilioConfig) -> None:
    """Says once per process that the sync reads from the emulator (the test-only variable), not Twilio."""
    if config.emulated and config.api_base not in _ANNOUNCED:
        _ANNOUNCED.add(config.api_base)
        logging.getLogger("airbyte").warning(f"{EMULATOR_URL_ENV} is set: reading from {config.api_base}, not Twilio.")
