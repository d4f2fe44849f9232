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

from source_twilio.windows import Granularity, Sweep, TimeFilter

API_DOCS = "https://www.twilio.com/docs"


class Host(str, Enum):
    API = "api"  # https://api.twilio.com/2010-04-01/
    MONITOR = "monitor"  # https://monitor.twilio.com/v1/


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
    params: dict[str, str] = field(default_factory=dict)  # fixed query parameters
    paged: bool = True  # False: Twilio returns one page without paging keys
    ignore_404: bool = False  # a 404 means "no data" here
    add_account_sid: bool = False  # the wire record lacks account_sid; the connector adds it
    change_fields: tuple[str, ...] = ()  # no date_updated: a record changed if these values did
    drop_fields: frozenset[str] = frozenset()  # never emitted (secrets)

    @property
    def incremental(self) -> bool:
        return self.cursor_field is not None

    @property
    def change_cursor(self) -> str | None:
        """The field Twilio moves whenever a record changes (date_updated); None where it has none (usage)."""
        return None if self.change_fields else self.cursor_field

    @property
    def version_fields(self) -> tuple[str, ...]:
        """What tells one version of a record from another: the change cursor, or the values that can change."""
        return self.change_fields or ((self.cursor_field,) if self.cursor_field else ())


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
        drop_fields=frozenset({"auth_token"}),
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

BY_NAME: dict[str, StreamDefinition] = {definition.name: definition for definition in STREAMS}
