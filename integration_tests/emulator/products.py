"""Twilio's product hosts (conversations, studio, trunking, verify, messaging, insights, pricing, monitor events).

The emulator listens on one port. A request to ``{emulator_url}/h/{hostname}{path}`` stands for
``https://{hostname}{path}`` (see :func:`emulated_base`); unprefixed paths are api.twilio.com and
monitor.twilio.com as before. Each product list is one :class:`ProductList` row: host, path, the
:class:`~.listspec.ListSpec` of its filters, the parents its path names and its order. Every list
uses the ``meta`` envelope with absolute URLs back through the same prefix.

Whose data a product host returns is the authenticating account's: Twilio's main-account credentials
reach subaccounts only on the 2010-04-01 API ("v2010 API resources for any of your subaccounts",
docs iam/api/subaccounts), so a subaccount's product data needs its own SID and auth token. Pricing
is global: any valid credentials read the same lists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import bad_request
from .filters import Op, TimeParam
from .limits import MONITOR_EVENT_RETENTION_DAYS, VERIFY_MAX_PAGE_SIZE, VOICE_INSIGHTS_RETENTION_DAYS
from .listspec import ListSpec, Retention, monitor_retention
from .timefmt import iso_z, parse_filter_datetime

HOST_PREFIX = re.compile(r"^/h/(?P<hostname>[A-Za-z0-9.-]+)(?P<path>/.*)?$")
LEGACY_HOSTS = ("api.twilio.com", "monitor.twilio.com")
"""The hosts unprefixed paths stand for (the 2010-04-01 API and Monitor alerts)."""
HOSTS = (
    *LEGACY_HOSTS,
    "conversations.twilio.com",
    "studio.twilio.com",
    "trunking.twilio.com",
    "verify.twilio.com",
    "messaging.twilio.com",
    "insights.twilio.com",
    "pricing.twilio.com",
    "oauth.twilio.com",
)
"""Every host the emulator answers for; any other ``/h/{hostname}`` is a 404."""
OAUTH_HOST = "oauth.twilio.com"
"""Where OAuth 2.0 client credentials are exchanged for a Bearer token (``POST /v2/token``)."""

REGION_PARTS = {"us1": "", "ie1": ".dublin.ie1", "au1": ".sydney.au1"}
"""Twilio's processing regions and what their hosts insert before ``.twilio.com`` (since 2026-04-28 the only
regional patterns: ``api.dublin.ie1.twilio.com``, ``conversations.sydney.au1.twilio.com``; docs
global-infrastructure/api-domain-migration-guide)."""


def locate(hostname: str) -> tuple[str, str] | None:
    """``(region, the US1 host of the same product)`` for a Twilio host the emulator answers for; None otherwise."""
    for region, part in REGION_PARTS.items():
        if part and hostname.endswith(f"{part}.twilio.com"):
            base = hostname[: -len(f"{part}.twilio.com")] + ".twilio.com"
            return (region, base) if base in HOSTS else None
    return ("us1", hostname) if hostname in HOSTS else None


GLOBAL = "global"
"""The scope of lists that are the same for every account (pricing): held under the main account."""

VOICE_INSIGHTS_DISABLED = (
    "Voice Insights Advanced Features are not enabled for this account: "
    "enable them in the Console (Voice > Settings) to read call summaries"
)
"""Twilio answers 403 to Voice Insights API requests of accounts without Advanced Features (docs voice/voice-insights)."""


def emulated_base(emulator_url: str, real_base: str) -> str:
    """The emulator's stand-in for a Twilio base URL.

    ``emulated_base("http://127.0.0.1:8080", "https://conversations.twilio.com")`` is
    ``"http://127.0.0.1:8080/h/conversations.twilio.com"``; a path appended to either means the same.
    """
    hostname = real_base.split("://", 1)[-1].split("/", 1)[0]
    return f"{emulator_url.rstrip('/')}/h/{hostname}"


def split_host(path: str) -> tuple[str | None, str]:
    """``/h/{hostname}{path}`` -> (hostname, path); an unprefixed path -> (None, path)."""
    match = HOST_PREFIX.match(path)
    if match is None:
        return None, path
    return match.group("hostname").lower(), match.group("path") or "/"


def _iso_value(raw: str) -> str:
    """ISO 8601 with a numeric offset (``2026-05-01T10:00:00-07:00``, Studio's example) as the same instant in Z."""
    match = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?([+-])(\d{2}):?(\d{2})$", raw.strip())
    if match is None:
        return raw
    local, sign, hours, minutes = match.groups()
    offset = (int(hours) * 60 + int(minutes)) * 60
    epoch = parse_filter_datetime(local + "Z").epoch
    return iso_z(epoch - offset if sign == "+" else epoch + offset)


_RELATIVE = re.compile(r"^(\d{1,5})([mhdw])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def insights_time_value(now: int) -> Callable[[str], str]:
    """Voice Insights' ``StartTime``/``EndTime``: ``30m``, ``4h``, ``3d``, ``1w`` (that long before now) or ISO 8601."""

    def value(raw: str) -> str:
        if match := _RELATIVE.match(raw.strip()):
            amount, unit = match.groups()
            return iso_z(now - int(amount) * _UNIT_SECONDS[unit])
        return _iso_value(raw)

    return value


def iso_time_value(_now: int) -> Callable[[str], str]:
    return _iso_value


def _newest_first(_query: dict[str, str]) -> bool:
    return False


def _oldest_unless_dated(query: dict[str, str]) -> bool:
    """Conversations: oldest first, but "if this filter [StartDate/EndDate] is used ... descending order" (spec)."""
    return "StartDate" not in query and "EndDate" not in query


def _order_param(query: dict[str, str]) -> bool:
    """Conversation Messages: ``Order=asc`` (the default) or ``desc``."""
    order = query.get("Order", "asc")
    if order not in ("asc", "desc"):
        raise bad_request(f"Order must be asc or desc, got {order!r}")
    return order == "asc"


@dataclass(frozen=True)
class ProductList:
    """One list on a product host.

    ``parents`` are the streams the path's SIDs name, outermost first (each scoped under the one
    before); the last one is the scope of the list itself. ``oldest_first`` says, from the query,
    whether the list is served oldest first. ``time_defaults`` are time filters Twilio applies when
    the client leaves them out; ``time_value`` turns a product's own filter formats into one
    ``filters.py`` parses. ``feature`` names an account feature the list needs (403 without it).
    """

    host: str
    path: re.Pattern[str]
    spec: ListSpec
    parents: tuple[str, ...] = ()
    scope: str = "account"
    oldest_first: Callable[[dict[str, str]], bool] = _newest_first
    time_defaults: dict[str, str] = field(default_factory=dict)
    time_value: Callable[[int], Callable[[str], str]] = iso_time_value
    feature: str | None = None
    sort_fields: dict[str, str] = field(default_factory=dict)
    """``SortBy`` values other than the default: value -> the time field that orders the list instead."""


_SID = "[0-9a-fA-F]{32}"
MONITOR_EVENT_RETENTION = monitor_retention(MONITOR_EVENT_RETENTION_DAYS, "events")
VOICE_INSIGHTS_RETENTION = Retention(
    lambda _: VOICE_INSIGHTS_RETENTION_DAYS,
    frozenset({"StartTime", "EndTime"}),
    17002,
    f"This call ended more than {VOICE_INSIGHTS_RETENTION_DAYS} days ago: "
    f"Voice Insights only stores {VOICE_INSIGHTS_RETENTION_DAYS} days worth of call data",
)


def _after(key: str, record_field: str, *, strict: bool = False, sort_slack: int | None = 0) -> TimeParam:
    """``key`` as a lower bound (the product APIs name their bounds instead of using ``X>``/``X<``)."""
    return TimeParam(key, record_field, Op.ON_OR_AFTER, sort_slack=sort_slack, strict=strict)


def _before(key: str, record_field: str, *, strict: bool = False, sort_slack: int | None = 0) -> TimeParam:
    return TimeParam(key, record_field, Op.ON_OR_BEFORE, sort_slack=sort_slack, strict=strict)


def _route(path: str) -> re.Pattern[str]:
    return re.compile(f"^{path}$")


PRODUCT_LISTS: tuple[ProductList, ...] = (
    ProductList(
        "conversations.twilio.com",
        _route("/v1/Conversations"),
        ListSpec(
            "conversations",
            "conversations",
            time_params=(_after("StartDate", "date_created"), _before("EndDate", "date_created")),
            exact={"State": "state"},
            max_page_size=100,
        ),
        oldest_first=_oldest_unless_dated,
    ),
    ProductList(
        "conversations.twilio.com",
        _route(f"/v1/Conversations/(?P<p0>CH{_SID})/Messages"),
        ListSpec("conversation_messages", "messages", max_page_size=100),
        parents=("conversations",),
        oldest_first=_order_param,
    ),
    ProductList(
        "conversations.twilio.com",
        _route(f"/v1/Conversations/(?P<p0>CH{_SID})/Participants"),
        ListSpec("conversation_participants", "participants", max_page_size=100),
        parents=("conversations",),
    ),
    ProductList("conversations.twilio.com", _route("/v1/Users"), ListSpec("users", "users", max_page_size=50)),
    ProductList(
        "conversations.twilio.com",
        _route("/v1/Users/(?P<p0>[^/]+)/Conversations"),
        ListSpec("user_conversations", "conversations", max_page_size=50),
        parents=("users",),
    ),
    ProductList(
        "conversations.twilio.com", _route("/v1/Services"), ListSpec("services", "services", max_page_size=100)
    ),
    ProductList("conversations.twilio.com", _route("/v1/Roles"), ListSpec("roles", "roles", max_page_size=50)),
    ProductList("studio.twilio.com", _route("/v2/Flows"), ListSpec("flows", "flows")),
    ProductList(
        "studio.twilio.com",
        _route(f"/v2/Flows/(?P<p0>FW{_SID})/Executions"),
        ListSpec(
            "executions",
            "executions",
            # "starting on or after" / "starting before" (spec): the upper bound is strict.
            time_params=(
                _after("DateCreatedFrom", "date_created"),
                _before("DateCreatedTo", "date_created", strict=True),
            ),
            exact={"status": "status"},
        ),
        parents=("flows",),
    ),
    ProductList(
        "studio.twilio.com",
        _route(f"/v2/Flows/(?P<p0>FW{_SID})/Executions/(?P<p1>FN{_SID})/Steps"),
        ListSpec("step", "steps"),
        parents=("flows", "executions"),
        oldest_first=lambda _query: True,
    ),
    ProductList("trunking.twilio.com", _route("/v1/Trunks"), ListSpec("trunks", "trunks")),
    ProductList(
        "verify.twilio.com",
        _route("/v2/Services"),
        ListSpec("verify_services", "services", max_page_size=VERIFY_MAX_PAGE_SIZE),
    ),
    ProductList(
        "verify.twilio.com",
        _route("/v2/Attempts"),
        ListSpec(
            "verify_attempts",
            "attempts",
            # "created after" / "created before" (spec): both bounds strict.
            time_params=(
                _after("DateCreatedAfter", "date_created", strict=True),
                _before("DateCreatedBefore", "date_created", strict=True),
            ),
            exact={"VerifyServiceSid": "service_sid", "VerificationSid": "verification_sid", "Channel": "channel"},
            max_page_size=VERIFY_MAX_PAGE_SIZE,
        ),
    ),
    ProductList("messaging.twilio.com", _route("/v1/Services"), ListSpec("messaging_services", "services")),
    ProductList(
        "messaging.twilio.com",
        _route(f"/v1/Services/(?P<p0>MG{_SID})/PhoneNumbers"),
        ListSpec("messaging_service_phone_numbers", "phone_numbers"),
        parents=("messaging_services",),
    ),
    ProductList(
        "insights.twilio.com",
        _route("/v1/Voice/Summaries"),
        ListSpec(
            "call_summaries",
            "call_summaries",
            time_params=(_after("StartTime", "start_time"), _before("EndTime", "start_time")),
            exact={"CallType": "call_type", "CallState": "call_state"},
            retention=VOICE_INSIGHTS_RETENTION,
        ),
        time_defaults={"StartTime": "4h"},
        time_value=insights_time_value,
        feature="voice_insights",
        sort_fields={"end_time": "end_time"},
    ),
    ProductList(
        "monitor.twilio.com",
        _route("/v1/Events"),
        ListSpec(
            "monitor_events",
            "events",
            time_params=(_after("StartDate", "event_date"), _before("EndDate", "event_date")),
            exact={
                "ActorSid": "actor_sid",
                "EventType": "event_type",
                "ResourceSid": "resource_sid",
                "SourceIpAddress": "source_ip_address",
            },
            retention=MONITOR_EVENT_RETENTION,
        ),
    ),
    ProductList(
        "pricing.twilio.com",
        _route("/v2/Voice/Countries"),
        ListSpec("voice_pricing_countries", "countries"),
        scope=GLOBAL,
    ),
    ProductList(
        "pricing.twilio.com",
        _route("/v1/Messaging/Countries"),
        ListSpec("messaging_pricing_countries", "countries"),
        scope=GLOBAL,
    ),
    ProductList(
        "pricing.twilio.com",
        _route("/v1/PhoneNumbers/Countries"),
        ListSpec("phone_number_pricing_countries", "countries"),
        scope=GLOBAL,
    ),
)

PRODUCT_STREAMS = (
    *(product.spec.stream for product in PRODUCT_LISTS),
    "balance",
)
"""The stream names of the product hosts (and Balance), beside ``data.STREAMS``."""


def find_product(hostname: str | None, path: str) -> tuple[ProductList, re.Match[str]] | None:
    """The product list at ``path`` on ``hostname`` (unprefixed: the monitor host, as /v1/Alerts is)."""
    for product in PRODUCT_LISTS:
        if hostname is None and product.host not in LEGACY_HOSTS:
            continue
        if hostname is not None and product.host != hostname:
            continue
        if match := product.path.match(path):
            return product, match
    return None
