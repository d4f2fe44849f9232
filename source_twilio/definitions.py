"""The streams, one row each: where Twilio lists them, how they are keyed, filtered and fanned out.

A stream differs from another in data, not behaviour, so each is a ``StreamDefinition`` here and the
few classes in ``streams.py`` read them. Paths are relative to the host's base and are formatted with the
slice's partition (``account_sid``, and the parent's fields for child streams).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

from source_twilio.emission import WHOLE_RECORD
from source_twilio.windows import Granularity, Sweep, TimeFilter

API_DOCS = "https://www.twilio.com/docs"
ACCOUNT_TOKEN = "auth_token"  # an account's Auth Token in the list of accounts: never emitted, used for its own data


class Host(str, Enum):
    """A Twilio host, ``https://{value}.twilio.com`` in US1 (``config.REGIONS`` for the others). The 2010 API and
    Monitor paths start after their version
    (``/2010-04-01/``, ``/v1/``); the product hosts' paths carry theirs (``v2/Flows``)."""

    API = "api"
    MONITOR = "monitor"
    CONVERSATIONS = "conversations"
    STUDIO = "studio"
    TRUNKING = "trunking"
    VERIFY = "verify"
    MESSAGING = "messaging"
    INSIGHTS = "insights"
    PRICING = "pricing"

    @property
    def answers_for_the_caller(self) -> bool:
        """Its data is the authenticating account's own: a subaccount's is read with the subaccount's credentials
        (Twilio: main-account credentials reach "v2010 API resources for any of your subaccounts", no others)."""
        return self not in (Host.API, Host.PRICING)


class Scope(str, Enum):
    ROOT = "root"  # one list for the credentials: /Accounts.json, Monitor alerts
    ACCOUNT = "account"  # one list per account (main and subaccounts)
    CHILD = "child"  # one list per record of a parent stream


def always(_: Mapping[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class ChildOf:
    """A child stream's parent, and which of its records can have children (no request for the others)."""

    parent: str
    path_fields: dict[str, str]  # path placeholder -> parent record field
    has_children: Callable[[Mapping[str, Any]], bool] = always
    parent_partitions: tuple[dict[str, str], ...] | None = None  # read only these partitions of the parent
    count_field: str | None = None  # the parent's field that counts its children (see ``emission.CountedParent``)


def has_media(message: Mapping[str, Any]) -> bool:
    return message.get("num_media") not in (None, 0, "0")


def lists_number_type(kind: str) -> Callable[[Mapping[str, Any]], bool]:
    """A country lists only the number types Twilio offers there under its subresource_uris."""

    def offers(country: Mapping[str, Any]) -> bool:
        return bool((country.get("subresource_uris") or {}).get(kind))

    offers.__name__ = f"offers_{kind}"
    return offers


@dataclass(frozen=True)
class StreamDefinition:
    name: str
    path: str
    list_key: str
    primary_key: list[str]
    docs: str
    scope: Scope = Scope.ACCOUNT
    host: Host = Host.API
    child_of: ChildOf | None = None
    time_filter: TimeFilter | None = None
    cursor_field: str | None = None  # the field whose latest value marks a record's newest version
    partitions: tuple[dict[str, str], ...] = ({},)  # query parameters read as separate lists (conference Status)
    per_parent: ChildOf | None = None  # one list per record of another stream, each with its own cursor (a flow's)
    params: dict[str, str] = field(default_factory=dict)  # fixed query parameters
    paged: bool = True  # False: Twilio returns one page without paging keys
    ignore_404: bool = False  # a 404 means "no data" here
    add_account_sid: bool = False  # the wire record lacks account_sid; the connector adds it
    change_fields: tuple[str, ...] = ()  # no date_updated: a record changed if these values did
    drop_fields: frozenset[str] = frozenset()  # never emitted (secrets)
    page_size: int = 1000  # what Twilio allows at most (Conversations 100, its users and roles 50)
    single: bool = False  # the answer is the one record, not a list (an account's balance)
    feature: str | None = None  # a 403 means the account lacks this feature: a warning, not a failure

    @property
    def own_credentials(self) -> bool:
        """Read for each account with that account's credentials (see ``Host.answers_for_the_caller``)."""
        return self.host.answers_for_the_caller and self.scope is not Scope.ROOT

    @property
    def incremental(self) -> bool:
        return self.cursor_field is not None

    @property
    def change_cursor(self) -> str | None:
        """The field Twilio moves whenever a record changes (date_updated); None where it has none (usage)."""
        return None if self.change_fields else self.cursor_field

    @property
    def version_fields(self) -> tuple[str, ...]:
        """What tells one version of a record from another: the values that can change, or, with a change cursor,
        the whole record (its cursor is to the second: see ``emission.version_of``)."""
        return self.change_fields or ((WHOLE_RECORD,) if self.cursor_field else ())


MESSAGE_RETENTION = timedelta(days=400)
# Messages have no date_sent until sent (queued, accepted, scheduled; canceled or failed before sending). The list
# cannot be filtered by status: the unfiltered list, newest first by date_sent, else date_created.
MESSAGES_NOT_SENT = Sweep(order=("date_sent", "date_created"))
# A call's start_time is "Empty if the call has not yet been dialed" (Twilio's spec): queued, ringing (taken as not
# yet answered, the harsher reading), and canceled while queued or ringing. Failed, busy and no-answer calls were
# dialed. The Status lists are small (live calls) or grow slowly (canceled), and are read within the sweep's reach.
CALLS_NOT_DIALED = Sweep(
    order=("start_time", "date_created"),
    lists=({"Status": "queued"}, {"Status": "ringing"}, {"Status": "canceled"}),
)
ALERT_RETENTION = timedelta(days=30)
EVENT_RETENTION = timedelta(days=30)  # Monitor events (13 months with Editions: 30 is the harsher reading)
CALL_SUMMARY_RETENTION = timedelta(days=30)  # Voice Insights
LIVE_CONFERENCES = ({"Status": "init"}, {"Status": "in-progress"})
ALL_CONFERENCES = (*LIVE_CONFERENCES, {"Status": "completed"})


def _numbers(kind: str, path_kind: str) -> StreamDefinition:
    return StreamDefinition(
        name=f"available_phone_numbers_{kind}",
        path=f"Accounts/{{account_sid}}/AvailablePhoneNumbers/{{country_code}}/{path_kind}.json",
        list_key="available_phone_numbers",
        primary_key=["account_sid", "iso_country", "phone_number"],
        docs=f"{API_DOCS}/phone-numbers/api/availablephonenumber{path_kind.lower()}-resource",
        scope=Scope.CHILD,
        child_of=ChildOf(
            parent="available_phone_number_countries",
            path_fields={"account_sid": "account_sid", "country_code": "country_code"},
            has_children=lists_number_type(kind),
        ),
        paged=False,
        ignore_404=True,
        add_account_sid=True,
    )


STREAMS: tuple[StreamDefinition, ...] = (
    StreamDefinition(
        name="accounts",
        path="Accounts.json",
        list_key="accounts",
        primary_key=["sid"],
        docs=f"{API_DOCS}/iam/api/account",
        scope=Scope.ROOT,
        drop_fields=frozenset({ACCOUNT_TOKEN}),
    ),
    StreamDefinition(
        name="addresses",
        path="Accounts/{account_sid}/Addresses.json",
        list_key="addresses",
        primary_key=["sid"],
        docs=f"{API_DOCS}/usage/api/address",
    ),
    StreamDefinition(
        name="dependent_phone_numbers",
        path="Accounts/{account_sid}/Addresses/{address_sid}/DependentPhoneNumbers.json",
        list_key="dependent_phone_numbers",
        primary_key=["sid"],
        docs=f"{API_DOCS}/usage/api/address#read-dependent-phone-numbers",
        scope=Scope.CHILD,
        child_of=ChildOf(parent="addresses", path_fields={"account_sid": "account_sid", "address_sid": "sid"}),
        ignore_404=True,
    ),
    StreamDefinition(
        name="applications",
        path="Accounts/{account_sid}/Applications.json",
        list_key="applications",
        primary_key=["sid"],
        docs=f"{API_DOCS}/usage/api/applications",
    ),
    StreamDefinition(
        name="available_phone_number_countries",
        path="Accounts/{account_sid}/AvailablePhoneNumbers.json",
        list_key="countries",
        primary_key=["account_sid", "country_code"],
        docs=f"{API_DOCS}/phone-numbers/api/availablephonenumber-resource",
        paged=False,
        add_account_sid=True,
    ),
    _numbers("local", "Local"),
    _numbers("mobile", "Mobile"),
    _numbers("toll_free", "TollFree"),
    StreamDefinition(
        name="incoming_phone_numbers",
        path="Accounts/{account_sid}/IncomingPhoneNumbers.json",
        list_key="incoming_phone_numbers",
        primary_key=["sid"],
        docs=f"{API_DOCS}/phone-numbers/api/incomingphonenumber-resource",
    ),
    StreamDefinition(
        name="keys",
        path="Accounts/{account_sid}/Keys.json",
        list_key="keys",
        primary_key=["sid"],
        docs=f"{API_DOCS}/iam/api/key",
        add_account_sid=True,
    ),
    StreamDefinition(
        name="calls",
        path="Accounts/{account_sid}/Calls.json",
        list_key="calls",
        primary_key=["sid"],
        docs=f"{API_DOCS}/voice/api/call-resource",
        time_filter=TimeFilter(
            "start_time", "StartTime>", "StartTime<", Granularity.DAY, timedelta(days=30), sweep=CALLS_NOT_DIALED
        ),
        cursor_field="date_updated",
    ),
    StreamDefinition(
        name="conferences",
        path="Accounts/{account_sid}/Conferences.json",
        list_key="conferences",
        primary_key=["sid"],
        docs=f"{API_DOCS}/voice/api/conference-resource",
        time_filter=TimeFilter("date_created", "DateCreated>", "DateCreated<", Granularity.DAY, timedelta(days=180)),
        cursor_field="date_updated",
        # Since 2026-07-13 the list without Status holds only in-progress conferences.
        partitions=ALL_CONFERENCES,
    ),
    StreamDefinition(
        name="conference_participants",
        path="Accounts/{account_sid}/Conferences/{conference_sid}/Participants.json",
        list_key="participants",
        primary_key=["conference_sid", "call_sid"],
        docs=f"{API_DOCS}/voice/api/conference-participant-resource",
        scope=Scope.CHILD,
        # Only live conferences have participants: completed ones always list none.
        child_of=ChildOf(
            parent="conferences",
            path_fields={"account_sid": "account_sid", "conference_sid": "sid"},
            parent_partitions=LIVE_CONFERENCES,
        ),
        ignore_404=True,
    ),
    StreamDefinition(
        name="outgoing_caller_ids",
        path="Accounts/{account_sid}/OutgoingCallerIds.json",
        list_key="outgoing_caller_ids",
        primary_key=["sid"],
        docs=f"{API_DOCS}/voice/api/outgoing-caller-ids",
    ),
    StreamDefinition(
        name="recordings",
        path="Accounts/{account_sid}/Recordings.json",
        list_key="recordings",
        primary_key=["sid"],
        docs=f"{API_DOCS}/voice/api/recording",
        time_filter=TimeFilter("date_created", "DateCreated>", "DateCreated<", Granularity.SECOND, timedelta(days=90)),
        cursor_field="date_updated",
    ),
    StreamDefinition(
        name="transcriptions",
        path="Accounts/{account_sid}/Transcriptions.json",
        list_key="transcriptions",
        primary_key=["sid"],
        docs=f"{API_DOCS}/voice/api/recording-transcription",
    ),
    StreamDefinition(
        name="queues",
        path="Accounts/{account_sid}/Queues.json",
        list_key="queues",
        primary_key=["sid"],
        docs=f"{API_DOCS}/voice/api/queue-resource",
    ),
    StreamDefinition(
        name="message_media",
        path="Accounts/{account_sid}/Messages/{message_sid}/Media.json",
        list_key="media_list",
        primary_key=["sid"],
        docs=f"{API_DOCS}/messaging/api/media-resource",
        scope=Scope.CHILD,
        child_of=ChildOf(
            parent="messages",
            path_fields={"account_sid": "account_sid", "message_sid": "sid"},
            has_children=has_media,
            count_field="num_media",
        ),
        cursor_field="date_updated",
        ignore_404=True,
    ),
    StreamDefinition(
        name="messages",
        path="Accounts/{account_sid}/Messages.json",
        list_key="messages",
        primary_key=["sid"],
        docs=f"{API_DOCS}/messaging/api/message-resource",
        time_filter=TimeFilter(
            "date_sent",
            "DateSent>",
            "DateSent<",
            Granularity.SECOND,
            timedelta(days=30),
            retention=MESSAGE_RETENTION,
            sweep=MESSAGES_NOT_SENT,
        ),
        cursor_field="date_updated",
    ),
    StreamDefinition(
        name="usage_records",
        path="Accounts/{account_sid}/Usage/Records/Daily.json",
        list_key="usage_records",
        primary_key=["account_sid", "category", "start_date", "end_date"],
        docs=f"{API_DOCS}/usage/api/usage-record",
        time_filter=TimeFilter("start_date", "StartDate", "EndDate", Granularity.DATES, timedelta(days=90)),
        cursor_field="as_of",
        change_fields=("count", "count_unit", "usage", "usage_unit", "price", "price_unit"),
        # Every account is read, so the main account must not also count its subaccounts' usage.
        params={"IncludeSubaccounts": "false"},
        ignore_404=True,
    ),
    StreamDefinition(
        name="usage_triggers",
        path="Accounts/{account_sid}/Usage/Triggers.json",
        list_key="usage_triggers",
        primary_key=["sid"],
        docs=f"{API_DOCS}/usage/api/usage-trigger",
    ),
    StreamDefinition(
        name="alerts",
        path="Alerts",
        list_key="alerts",
        primary_key=["sid"],
        docs=f"{API_DOCS}/usage/monitor-alert",
        scope=Scope.ROOT,
        host=Host.MONITOR,
        time_filter=TimeFilter(
            "date_generated", "StartDate", "EndDate", Granularity.SECOND, timedelta(days=7), retention=ALERT_RETENTION
        ),
        cursor_field="date_updated",
    ),
)

CORE_STREAMS = STREAMS  # Airbyte's 22 core streams: what ``make bench`` compares with Airbyte's connector


def _product(name: str, host: Host, path: str, list_key: str, docs: str, **more: Any) -> StreamDefinition:
    """A list on a product host: ``meta`` envelope, absolute next-page links, read for each account with its own
    credentials (pricing, the same for all, once)."""
    return StreamDefinition(name=name, path=path, list_key=list_key, docs=f"{API_DOCS}/{docs}", host=host, **more)


def _child(parent: str, **path_fields: str) -> ChildOf:
    """The account is not in a product host's path: it is who authenticates (see ``credentials``)."""
    return ChildOf(parent=parent, path_fields=path_fields)


SID = ["sid"]
CONVERSATIONS_DOCS = "conversations/api"
PRODUCT_STREAMS: tuple[StreamDefinition, ...] = (
    _product(
        "conversations",
        Host.CONVERSATIONS,
        "v1/Conversations",
        "conversations",
        f"{CONVERSATIONS_DOCS}/conversation-resource",
        primary_key=SID,
        page_size=100,
    ),
    _product(
        "conversation_messages",
        Host.CONVERSATIONS,
        "v1/Conversations/{conversation_sid}/Messages",
        "messages",
        f"{CONVERSATIONS_DOCS}/conversation-message-resource",
        primary_key=SID,
        page_size=100,
        scope=Scope.CHILD,
        child_of=_child("conversations", conversation_sid="sid"),
        ignore_404=True,
    ),
    _product(
        "conversation_participants",
        Host.CONVERSATIONS,
        "v1/Conversations/{conversation_sid}/Participants",
        "participants",
        f"{CONVERSATIONS_DOCS}/conversation-participant-resource",
        primary_key=SID,
        page_size=100,
        scope=Scope.CHILD,
        child_of=_child("conversations", conversation_sid="sid"),
        ignore_404=True,
    ),
    _product(
        "users",
        Host.CONVERSATIONS,
        "v1/Users",
        "users",
        f"{CONVERSATIONS_DOCS}/user-resource",
        primary_key=SID,
        page_size=50,
    ),
    _product(
        "user_conversations",
        Host.CONVERSATIONS,
        "v1/Users/{user_sid}/Conversations",
        "conversations",
        f"{CONVERSATIONS_DOCS}/user-conversation-resource",
        primary_key=["user_sid", "conversation_sid"],
        page_size=50,
        scope=Scope.CHILD,
        child_of=_child("users", user_sid="sid"),
        ignore_404=True,
    ),
    _product(
        "services",
        Host.CONVERSATIONS,
        "v1/Services",
        "services",
        f"{CONVERSATIONS_DOCS}/service-resource",
        primary_key=SID,
        page_size=100,
    ),
    _product(
        "roles",
        Host.CONVERSATIONS,
        "v1/Roles",
        "roles",
        f"{CONVERSATIONS_DOCS}/role-resource",
        primary_key=SID,
        page_size=50,
    ),
    _product("flows", Host.STUDIO, "v2/Flows", "flows", "studio/rest-api/v2/flow", primary_key=SID),
    _product(
        "executions",
        Host.STUDIO,
        "v2/Flows/{flow_sid}/Executions",
        "executions",
        "studio/rest-api/v2/execution",
        primary_key=SID,
        # One list per flow, filtered by creation: "on or after" DateCreatedFrom, "before" DateCreatedTo.
        per_parent=ChildOf(parent="flows", path_fields={"flow_sid": "sid"}),
        time_filter=TimeFilter(
            "date_created", "DateCreatedFrom", "DateCreatedTo", Granularity.SECOND, timedelta(days=30)
        ),
        cursor_field="date_updated",
        ignore_404=True,
    ),
    _product(
        "step",
        Host.STUDIO,
        "v2/Flows/{flow_sid}/Executions/{execution_sid}/Steps",
        "steps",
        "studio/rest-api/v2/step",
        primary_key=SID,
        scope=Scope.CHILD,
        child_of=_child("executions", flow_sid="flow_sid", execution_sid="sid"),
        ignore_404=True,
    ),
    _product("trunks", Host.TRUNKING, "v1/Trunks", "trunks", "sip-trunking/api/trunk-resource", primary_key=SID),
    _product(
        "verify_services",
        Host.VERIFY,
        "v2/Services",
        "services",
        "verify/api/service",
        primary_key=SID,
        page_size=100,
    ),
    _product(
        "verify_attempts",
        Host.VERIFY,
        "v2/Attempts",
        "attempts",
        "verify/api/list-verification-attempts",
        primary_key=SID,
        page_size=100,
        cursor_field="date_updated",
        time_filter=TimeFilter(
            "date_created",
            "DateCreatedAfter",
            "DateCreatedBefore",
            Granularity.SECOND,
            timedelta(days=7),
            lower_exclusive=True,
        ),
    ),
    _product(
        "messaging_services",
        Host.MESSAGING,
        "v1/Services",
        "services",
        "messaging/api/service-resource",
        primary_key=SID,
    ),
    _product(
        "messaging_service_phone_numbers",
        Host.MESSAGING,
        "v1/Services/{service_sid}/PhoneNumbers",
        "phone_numbers",
        "messaging/api/phonenumber-resource",
        primary_key=SID,
        scope=Scope.CHILD,
        child_of=_child("messaging_services", service_sid="sid"),
        ignore_404=True,
    ),
    _product(
        "call_summaries",
        Host.INSIGHTS,
        "v1/Voice/Summaries",
        "call_summaries",
        "voice/voice-insights/api/call/call-summaries-resource",
        primary_key=["call_sid"],
        cursor_field="start_time",
        change_fields=("processing_state", "call_state", "duration", "end_time"),
        time_filter=TimeFilter(
            "start_time",
            "StartTime",
            "EndTime",
            Granularity.SECOND,
            timedelta(days=1),
            retention=CALL_SUMMARY_RETENTION,
        ),
        feature="Voice Insights Advanced Features",
    ),
    _product(
        "monitor_events",
        Host.MONITOR,
        "Events",
        "events",
        "usage/monitor-events",
        primary_key=SID,
        cursor_field="event_date",
        time_filter=TimeFilter(
            "event_date", "StartDate", "EndDate", Granularity.SECOND, timedelta(days=7), retention=EVENT_RETENTION
        ),
    ),
    StreamDefinition(
        name="balance",
        path="Accounts/{account_sid}/Balance.json",
        list_key="balance",
        primary_key=["account_sid"],
        docs=f"{API_DOCS}/usage/api/balance",
        paged=False,
        single=True,
    ),
    _product(
        "voice_pricing_countries",
        Host.PRICING,
        "v2/Voice/Countries",
        "countries",
        "voice/pricing",
        primary_key=["iso_country"],
        scope=Scope.ROOT,
    ),
    _product(
        "messaging_pricing_countries",
        Host.PRICING,
        "v1/Messaging/Countries",
        "countries",
        "sms/api/pricing",
        primary_key=["iso_country"],
        scope=Scope.ROOT,
    ),
    _product(
        "phone_number_pricing_countries",
        Host.PRICING,
        "v1/PhoneNumbers/Countries",
        "countries",
        "phone-numbers/pricing",
        primary_key=["iso_country"],
        scope=Scope.ROOT,
    ),
)
STREAMS = (*CORE_STREAMS, *PRODUCT_STREAMS)

BY_NAME: dict[str, StreamDefinition] = {definition.name: definition for definition in STREAMS}
