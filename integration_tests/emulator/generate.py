"""Deterministic builders for the records of one Twilio account, shaped as Twilio sends them.

Every record carries every property of its OpenAPI component schema, typed as on the wire:
numbers as strings where Twilio sends strings (``"price": "-0.00790"``), RFC 2822 dates (a few
with non-UTC offsets), ISO ``...Z`` for Monitor alerts and ``YYYY-MM-DD`` for usage dates.
Randomness comes from ``random.Random`` seeded by (dataset seed, account slot, stream), so the
size of one stream never shifts the values of another.
"""

from __future__ import annotations

import functools
import math
import random
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .limits import ALERT_RETENTION_DAYS, MAX_CALL_SECONDS
from .store import Item, Row
from .timefmt import SECONDS_PER_DAY, day_start, day_string, iso_utc_offset, iso_z, rfc2822

if TYPE_CHECKING:
    from .data import DatasetOptions

API = "/2010-04-01"
API_VERSION = "2010-04-01"
MONITOR_RECORD_BASE = "https://monitor.twilio.com/v1/Alerts"
RECORDING_MEDIA_BASE = "https://api.twilio.com"

RECENT_SECONDS = 2 * 3600
"""Records created this close to ``now`` are the ones a mutation may still change."""
VERY_RECENT_SECONDS = 30 * 60
RECENT_AT_MOST = 50
"""Records per account and stream in the last two hours, however long the history."""
EDGE_DAYS_AGO = (3, 17, 120)
"""Days (before today) holding records at exactly 00:00:00 and 23:59:59 UTC, for window-edge tests."""

NON_UTC_OFFSETS = (-480, 330, -300, 60)
"""Offsets (minutes) some records are rendered with: -0800, +0530, -0500, +0100."""

AVAILABLE_NUMBER_STREAMS = {
    "local": "available_phone_numbers_local",
    "mobile": "available_phone_numbers_mobile",
    "toll_free": "available_phone_numbers_toll_free",
}
AVAILABLE_NUMBER_PATHS = {"local": "Local", "mobile": "Mobile", "toll_free": "TollFree"}


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    number_types: tuple[str, ...]
    dialing_prefixes: dict[str, str]
    digits: int  # digits after the "+" in E.164


COUNTRIES = (
    Country(
        "AU",
        "Australia",
        ("local", "mobile", "toll_free"),
        {"local": "+612", "mobile": "+614", "toll_free": "+611800"},
        11,
    ),
    Country("CA", "Canada", ("local", "toll_free"), {"local": "+1604", "toll_free": "+1833"}, 11),
    Country("DK", "Denmark", ("local",), {"local": "+4532"}, 10),
    Country("GB", "United Kingdom", ("local", "mobile"), {"local": "+4420", "mobile": "+447"}, 12),
    Country("US", "United States", ("local", "toll_free"), {"local": "+1415", "toll_free": "+1888"}, 11),
)


@dataclass(frozen=True)
class UsageCategory:
    name: str
    description: str
    count_unit: str
    usage_unit: str
    unit_price: Decimal  # per counted unit, or per usage unit for minutes


USAGE_CATEGORIES = (
    UsageCategory("calls", "Voice Minutes", "calls", "minutes", Decimal("0.0140")),
    UsageCategory("sms", "SMS Messages", "messages", "messages", Decimal("0.0079")),
    UsageCategory("mms", "MMS Messages", "messages", "messages", Decimal("0.0200")),
    UsageCategory("phonenumbers", "Phone Numbers", "phonenumbers", "phonenumbers", Decimal("0.0383")),
    UsageCategory("recordings", "Voice Minutes Recorded", "recordings", "minutes", Decimal("0.0025")),
    UsageCategory("totalprice", "Total Price", "", "usd", Decimal("0")),
)
PRICED_CATEGORIES = tuple(c for c in USAGE_CATEGORIES if c.name != "totalprice")

_AREA_CODES = ("415", "628", "212", "646", "312", "206", "512", "305", "617", "720")
_CITIES = (
    ("San Francisco", "CA", "94103", "US"),
    ("New York", "NY", "10001", "US"),
    ("Chicago", "IL", "60601", "US"),
    ("Seattle", "WA", "98101", "US"),
    ("London", None, "EC1A 1BB", "GB"),
    ("Berlin", None, "10115", "DE"),
)
_STREETS = ("Market St", "Broadway", "Main Street", "Howard St", "King Street", "Friedrichstrasse")
_BODIES = (
    "Your verification code is 482913",
    "Hi! Your order has shipped and will arrive Thursday.",
    "Reminder: your appointment is tomorrow at 10:30am. Reply C to confirm.",
    "Thanks for contacting us, an agent will reply shortly.",
    "STOP",
    "Can you call me back when you get a chance?",
    "Sent from your Twilio trial account - hello from the emulator",
    "Ihre Bestellung ist unterwegs. Vielen Dank!",
)
_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "video/mp4", "application/pdf")
_TRANSCRIPTS = (
    "Hi, this is Sam calling about the invoice from last week, please call me back.",
    "Hello, I would like to reschedule my appointment to Friday afternoon.",
    "This is an automated reminder that your payment is due.",
)
_ALERTS = (
    ("11200", "error", "HTTP retrieval failure", "CA"),
    ("11205", "error", "HTTP connection failure", "CA"),
    ("30003", "warning", "Unreachable destination handset", "SM"),
    ("21610", "warning", "Attempt to send to unsubscribed recipient", "SM"),
    ("13227", "error", "Dial: No International Authorization", "CA"),
    ("12300", "error", "Invalid Content-Type", "CA"),
)
_MESSAGE_ERRORS = {
    "failed": ((30008, "Unknown error"), (30003, "Unreachable destination handset")),
    "undelivered": (
        (30005, "Unknown destination handset"),
        (30006, "Landline or unreachable carrier"),
        (30007, "Message filtered"),
    ),
}
_CONFERENCE_NAMES = ("standup", "support-escalation", "sales-demo", "all-hands")
_CONFERENCE_ENDINGS = (
    "last-participant-left",
    "conference-ended-via-api",
    "participant-with-end-conference-on-exit-left",
    "last-participant-kicked",
)


class FastRandom(random.Random):
    """``random.Random`` with cheaper ``randint``/``choice`` (a hair of bias is fine for test data)."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq: Any) -> Any:
        return seq[int(self.random() * len(seq))]


def new_sid(rng: random.Random, prefix: str) -> str:
    """A Twilio SID: two-letter prefix and 32 lowercase hex digits."""
    return f"{prefix}{rng.getrandbits(128):032x}"


def new_secret(rng: random.Random, length: int = 32) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(alphabet) for _ in range(length))


@functools.lru_cache(maxsize=4096)
def money(amount: Decimal | float, negative: bool = True) -> str:
    """Twilio's price strings: five decimals, negative for charges (``-0.00790``)."""
    value = Decimal(str(amount)).quantize(Decimal("0.00001"))
    if negative and value:
        value = -value
    return f"{value:.5f}"


def us_number(rng: random.Random) -> tuple[str, str]:
    """A US number in E.164 and in Twilio's ``(415) 555-0123`` formatting."""
    area = rng.choice(_AREA_CODES)
    exchange = rng.randint(200, 989)
    line = rng.randint(0, 9999)
    return f"+1{area}{exchange}{line:04d}", f"({area}) {exchange}-{line:04d}"


def pick_offset(rng: random.Random, share: float = 0.06) -> int:
    """Usually UTC; sometimes another offset, as Twilio's fixtures show (-0800 and friends)."""
    return rng.choice(NON_UTC_OFFSETS) if rng.random() < share else 0


class Weighted:
    """A weighted choice among names, drawn with one ``rng.random()``."""

    def __init__(self, **weights: int) -> None:
        self._names = [name.replace("_", "-") for name in weights]
        total, self._thresholds = 0, []
        for weight in weights.values():
            total += weight
            self._thresholds.append(total)
        self._total = total

    def draw(self, rng: random.Random) -> str:
        return self._names[bisect_right(self._thresholds, rng.random() * self._total)]


MESSAGE_DIRECTIONS = Weighted(outbound_api=60, inbound=30, outbound_reply=10)
RECENT_MESSAGE_STATUSES = Weighted(queued=2, sending=2, sent=4, delivered=8, failed=1)
MESSAGE_STATUSES = Weighted(delivered=78, sent=6, undelivered=6, failed=6, canceled=2)
CALL_STATUSES = Weighted(completed=75, busy=6, no_answer=8, failed=4, canceled=4)
CALL_DIRECTIONS = Weighted(inbound=35, outbound_api=50, outbound_dial=15)


@dataclass(frozen=True)
class Placement:
    """When a history record happens, and why it was put there."""

    epoch: int
    kind: str  # "recent", "edge" or "history"


def edge_instants(now: int) -> list[int]:
    """Instants at exactly midnight and 23:59:59 UTC on a few past days."""
    today = day_start(now)
    instants = []
    for days in EDGE_DAYS_AGO:
        midnight = today - days * SECONDS_PER_DAY
        instants += [midnight, midnight + SECONDS_PER_DAY - 1]
    return instants


def place(
    rng: random.Random,
    count: int,
    *,
    now: int,
    earliest: int,
    avoid: tuple[tuple[int, int], ...] = (),
    edges: list[int] | None = None,
    recent_share: int = 40,
) -> list[Placement]:
    """Spread ``count`` instants over ``[earliest, now]``: a recent block, the edge instants, the rest evenly.

    The recent block (``count // recent_share``, at least 6 and at most ``RECENT_AT_MOST``) lies in the last
    two hours with a third in the last 30 minutes: a longer history does not mean more recent activity. The rest is one random instant per equal slice of the history, so even small
    counts reach back to ``earliest``. Instants inside an ``avoid`` band are moved just past it, so no
    record sits near a retention edge.
    """
    recent = min(count, max(6, min(RECENT_AT_MOST, count // recent_share)))
    placements = []
    for index in range(recent):
        window = VERY_RECENT_SECONDS if index % 3 == 0 else RECENT_SECONDS
        placements.append(Placement(now - rng.randint(60, window - 60), "recent"))
    for instant in (edges if edges is not None else edge_instants(now))[: max(0, count - recent)]:
        if instant >= earliest and not any(lo <= instant <= hi for lo, hi in avoid):
            placements.append(Placement(instant, "edge"))
    latest = now - RECENT_SECONDS
    earliest = min(earliest, latest)
    remaining = count - len(placements)
    slice_width = (latest - earliest) / max(1, remaining)
    for index in range(remaining):
        instant = int(earliest + (index + rng.random()) * slice_width)
        for lo, hi in avoid:
            if lo <= instant <= hi:
                width = hi - lo + 1
                instant = instant + width if instant + width <= latest else instant - width
        placements.append(Placement(instant, "history"))
    return placements


def retention_band(now: int, days: int) -> tuple[int, int]:
    """The two days around a retention edge where no record is placed."""
    edge = now - days * SECONDS_PER_DAY
    return edge - SECONDS_PER_DAY, edge + SECONDS_PER_DAY


@dataclass
class PhoneNumber:
    sid: str
    e164: str
    formatted: str


@dataclass
class AccountHistory:
    """What one account holds, stream by stream."""

    rows: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, stream: str, *rows: Row) -> None:
        self.rows.setdefault(stream, []).extend(rows)


class AccountGenerator:
    """Builds the records of one account; also used by mutations to add records "now"."""

    def __init__(self, seed: int, slot: str, account_sid: str, created: int) -> None:
        self.seed = seed
        self.slot = slot
        self.account_sid = account_sid
        self.created = created
        self.base = f"{API}/Accounts/{account_sid}"
        self.numbers: list[PhoneNumber] = []

    def rng(self, stream: str) -> random.Random:
        return FastRandom(f"{self.seed}/{self.slot}/{stream}")

    def _item(self, record: dict[str, Any], parent: str | None = None) -> Item:
        return Item(self.account_sid, record, parent)

    def _our_number(self, rng: random.Random) -> PhoneNumber:
        if self.numbers:
            return rng.choice(self.numbers)
        e164, formatted = us_number(rng)
        return PhoneNumber(new_sid(rng, "PN"), e164, formatted)

    def _lifetime_instant(self, rng: random.Random, now: int) -> int:
        return rng.randint(self.created, max(self.created, now - RECENT_SECONDS))

    # ----- whole history -----

    def generate(self, options: DatasetOptions, now: int, *, extra_keys: tuple[Row, ...] = ()) -> AccountHistory:
        """Every stream of this account, as of ``now``."""
        history = AccountHistory()
        history.add("addresses", *self.addresses(options.addresses_per_account, now))
        address_sids = [row.ident for row in history.rows["addresses"]]
        numbers, dependents = self.incoming_phone_numbers(options.incoming_numbers_per_account, now, address_sids)
        history.add("incoming_phone_numbers", *numbers)
        history.add("dependent_phone_numbers", *dependents)
        history.add("applications", *self.applications(options.applications_per_account, now))
        history.add("keys", *extra_keys, *self.keys(options.keys_per_account - len(extra_keys), now))
        history.add("outgoing_caller_ids", *self.outgoing_caller_ids(options.outgoing_caller_ids_per_account, now))
        history.add("queues", *self.queues(options.queues_per_account, now))
        history.add("usage_triggers", *self.usage_triggers(options.usage_triggers_per_account, now))
        messages, media = self.messages(options, now)
        history.add("messages", *messages)
        history.add("message_media", *media)
        history.add("calls", *self.calls(options, now))
        conferences, participants = self.conferences(options.conferences_per_account, now, options.call_history_days)
        history.add("conferences", *conferences)
        history.add("conference_participants", *participants)
        recordings = self.recordings(options.recordings_per_account, history.rows["calls"], conferences, now)
        history.add("recordings", *recordings)
        history.add("transcriptions", *self.transcriptions(options.transcriptions_per_account, recordings))
        for stream, rows in self.available_phone_numbers().items():
            history.add(stream, *rows)
        history.add("usage_records", *self.usage_records(now, options.usage_history_days, len(numbers)))
        return history

    # ----- small account-level lists -----

    def addresses(self, count: int, now: int) -> list[Row]:
        rng = self.rng("addresses")
        rows = []
        for index in range(count):
            sid = new_sid(rng, "AD")
            city, region, postal_code, country = _CITIES[index % len(_CITIES)]
            created = self._lifetime_instant(rng, now)
            updated = created + rng.choice((0, 0, 3600, 86_400 * 30))
            offset = pick_offset(rng, 0.3)
            record = {
                "account_sid": self.account_sid,
                "city": city,
                "customer_name": rng.choice(("Acme Inc.", "Jane Doe", "Globex GmbH", "Initech LLC")),
                "date_created": rfc2822(created, offset),
                "date_updated": rfc2822(min(updated, now), offset),
                "emergency_enabled": rng.random() < 0.3,
                "friendly_name": rng.choice(("Main Office", "Warehouse", "Home", None)),
                "iso_country": country,
                "postal_code": postal_code,
                "region": region,
                "sid": sid,
                "street": f"{rng.randint(1, 999)} {rng.choice(_STREETS)}",
                "street_secondary": rng.choice((None, None, "Suite 200", "Floor 3")),
                "uri": f"{self.base}/Addresses/{sid}.json",
                "validated": rng.random() < 0.5,
                "verified": rng.random() < 0.4,
            }
            rows.append(Row(self._item(record), sid, created, {"date_created": created}))
        return rows

    def incoming_phone_numbers(self, count: int, now: int, address_sids: list[str]) -> tuple[list[Row], list[Row]]:
        """The account's numbers, and the dependent-number view of those tied to an address.

        Addresses get 2, 0, 1, 3, 0, 1, ... dependent numbers in turn, while numbers last.
        """
        rng = self.rng("incoming_phone_numbers")
        owners: list[str | None] = []
        for index, address_sid in enumerate(address_sids):
            owners += [address_sid] * (2, 0, 1, 3, 0, 1)[index % 6]
        rows, dependents = [], []
        self.numbers = []
        for index in range(count):
            sid = new_sid(rng, "PN")
            e164, formatted = us_number(rng)
            self.numbers.append(PhoneNumber(sid, e164, formatted))
            address_sid = owners[index] if index < len(owners) else None
            created = self._lifetime_instant(rng, now)
            offset = pick_offset(rng, 0.2)
            capabilities = {"voice": True, "sms": rng.random() < 0.9, "mms": rng.random() < 0.6, "fax": False}
            voice_url = rng.choice(("https://demo.twilio.com/welcome/voice/", None, ""))
            record = {
                "account_sid": self.account_sid,
                "address_requirements": "any" if address_sid else rng.choice(("none", "none", "local")),
                "address_sid": address_sid,
                "api_version": API_VERSION,
                "beta": False,
                "bundle_sid": new_sid(rng, "BU") if rng.random() < 0.25 else None,
                "capabilities": capabilities,
                "date_created": rfc2822(created, offset),
                "date_updated": rfc2822(created + rng.choice((0, 60, 86_400)), offset),
                "emergency_address_sid": address_sid if address_sid and rng.random() < 0.5 else None,
                "emergency_address_status": "registered" if address_sid else "unregistered",
                "emergency_status": "Active" if address_sid else "Inactive",
                "friendly_name": formatted,
                "identity_sid": None,
                "origin": rng.choice(("twilio", "twilio", "hosted")),
                "phone_number": e164,
                "sid": sid,
                "sms_application_sid": "",
                "sms_fallback_method": "POST",
                "sms_fallback_url": "",
                "sms_method": "POST",
                "sms_url": rng.choice(("https://demo.twilio.com/welcome/sms/reply", "")),
                "status": "in-use",
                "status_callback": "",
                "status_callback_method": "POST",
                "trunk_sid": None,
                "type": rng.choice(("local", "local", "mobile", "tollfree")),
                "uri": f"{self.base}/IncomingPhoneNumbers/{sid}.json",
                # Sent by Twilio, though the spec's record lacks it.
                "subresource_uris": {"assigned_add_ons": f"{self.base}/IncomingPhoneNumbers/{sid}/AssignedAddOns.json"},
                "voice_application_sid": "",
                "voice_caller_id_lookup": False,
                "voice_fallback_method": "POST",
                "voice_fallback_url": None,
                "voice_method": "POST",
                "voice_receive_mode": "voice",
                "voice_url": voice_url,
            }
            rows.append(Row(self._item(record), sid, created, {"date_created": created}))
            if address_sid:
                dependents.append(self._dependent_number(record, created, pacific=index % 2 == 0))
        return rows, dependents

    def _dependent_number(self, number: dict[str, Any], created: int, *, pacific: bool) -> Row:
        offset = -480 if pacific else 0  # Twilio's own fixture renders these in -0800
        capabilities = number["capabilities"]
        record = {
            "account_sid": self.account_sid,
            "address_requirements": number["address_requirements"],
            "api_version": API_VERSION,
            "capabilities": {"Voice": capabilities["voice"], "SMS": capabilities["sms"], "MMS": capabilities["mms"]},
            "date_created": rfc2822(created, offset),
            "date_updated": rfc2822(created, offset),
            "emergency_address_sid": number["emergency_address_sid"],
            "emergency_status": number["emergency_status"],
            "friendly_name": number["friendly_name"],
            "phone_number": number["phone_number"],
            "sid": number["sid"],
            "sms_application_sid": None,
            "sms_fallback_method": "POST",
            "sms_fallback_url": None,
            "sms_method": "POST",
            "sms_url": number["sms_url"] or None,
            "status_callback": None,
            "status_callback_method": "POST",
            "trunk_sid": None,
            "uri": number["uri"],
            "voice_application_sid": None,
            "voice_caller_id_lookup": False,
            "voice_fallback_method": "POST",
            "voice_fallback_url": None,
            "voice_method": "POST",
            "voice_url": number["voice_url"] or None,
        }
        return Row(self._item(record, number["address_sid"]), number["sid"], created, {"date_created": created})

    def applications(self, count: int, now: int) -> list[Row]:
        rng = self.rng("applications")
        rows = []
        for _ in range(count):
            sid = new_sid(rng, "AP")
            created = self._lifetime_instant(rng, now)
            hooks = rng.random() < 0.6
            record = {
                "account_sid": self.account_sid,
                "api_version": API_VERSION,
                "date_created": rfc2822(created),
                "date_updated": rfc2822(created + rng.choice((0, 5, 86_400))),
                "friendly_name": rng.choice(("IVR", "Support line", "SMS autoresponder", "Sales TwiML App")),
                "message_status_callback": "https://example.com/message-status" if hooks else None,
                "public_application_connect_enabled": rng.random() < 0.2,
                "sid": sid,
                "sms_fallback_method": "POST",
                "sms_fallback_url": None,
                "sms_method": "POST",
                "sms_status_callback": None,
                "sms_url": "https://example.com/sms" if hooks else None,
                "status_callback": "https://example.com/call-status" if hooks else None,
                "status_callback_method": "POST",
                "uri": f"{self.base}/Applications/{sid}.json",
                "voice_caller_id_lookup": False,
                "voice_fallback_method": "POST",
                "voice_fallback_url": None,
                "voice_method": rng.choice(("POST", "GET")),
                "voice_url": "https://example.com/voice" if hooks else None,
            }
            rows.append(Row(self._item(record), sid, created, {"date_created": created}))
        return rows

    def key_row(self, sid: str, friendly_name: str, created: int) -> Row:
        record = {
            "date_created": rfc2822(created),
            "date_updated": rfc2822(created),
            "friendly_name": friendly_name,
            "sid": sid,
        }
        return Row(self._item(record), sid, created, {"date_created": created})

    def keys(self, count: int, now: int) -> list[Row]:
        rng = self.rng("keys")
        return [
            self.key_row(new_sid(rng, "SK"), f"key-{index + 1}", self._lifetime_instant(rng, now))
            for index in range(max(0, count))
        ]

    def outgoing_caller_ids(self, count: int, now: int) -> list[Row]:
        rng = self.rng("outgoing_caller_ids")
        rows = []
        for _ in range(count):
            sid = new_sid(rng, "PN")
            e164, formatted = us_number(rng)
            created = self._lifetime_instant(rng, now)
            record = {
                "account_sid": self.account_sid,
                "date_created": rfc2822(created),
                "date_updated": rfc2822(created),
                "friendly_name": formatted,
                "phone_number": e164,
                "sid": sid,
                "uri": f"{self.base}/OutgoingCallerIds/{sid}.json",
            }
            rows.append(Row(self._item(record), sid, created, {"date_created": created}))
        return rows

    def queues(self, count: int, now: int) -> list[Row]:
        rng = self.rng("queues")
        rows = []
        for index in range(count):
            sid = new_sid(rng, "QU")
            created = self._lifetime_instant(rng, now)
            record = {
                "account_sid": self.account_sid,
                "average_wait_time": rng.randint(0, 180),
                "current_size": rng.randint(0, 4),
                "date_created": rfc2822(created),
                "date_updated": rfc2822(created + rng.randint(0, 3600)),
                "friendly_name": ("support", "sales", "billing", "overflow")[index % 4],
                "max_size": 100,
                "sid": sid,
                "uri": f"{self.base}/Queues/{sid}.json",
                "subresource_uris": {"members": f"{self.base}/Queues/{sid}/Members.json"},  # not in the spec's record
            }
            rows.append(Row(self._item(record), sid, created, {"date_created": created}))
        return rows

    def usage_triggers(self, count: int, now: int) -> list[Row]:
        rng = self.rng("usage_triggers")
        rows = []
        for _ in range(count):
            sid = new_sid(rng, "UT")
            created = self._lifetime_instant(rng, now)
            category = rng.choice(("totalprice", "sms", "calls", "calleridlookups"))
            trigger_by = "price" if category == "totalprice" else rng.choice(("count", "usage"))
            fired = created + rng.randint(3600, 86_400 * 20) if rng.random() < 0.4 else None
            fired = fired if fired is not None and fired < now else None
            record = {
                "account_sid": self.account_sid,
                "api_version": API_VERSION,
                "callback_method": "POST",
                "callback_url": "https://example.com/usage-alert",
                "current_value": str(rng.randint(0, 500)),
                "date_created": rfc2822(created),
                "date_fired": rfc2822(fired) if fired else None,
                "date_updated": rfc2822(fired or created),
                "friendly_name": f"{category} alert",
                "recurring": rng.choice(("daily", "monthly", "yearly", "alltime")),
                "sid": sid,
                "trigger_by": trigger_by,
                "trigger_value": str(rng.choice((50, 100, 1000))),
                "uri": f"{self.base}/Usage/Triggers/{sid}.json",
                "usage_category": category,
                "usage_record_uri": f"{self.base}/Usage/Records.json?Category={category}",
            }
            rows.append(Row(self._item(record), sid, created, {"date_created": created}))
        return rows

    # ----- messages and media -----

    def messages(self, options: DatasetOptions, now: int) -> tuple[list[Row], list[Row]]:
        rng = self.rng("messages")
        earliest = max(self.created + SECONDS_PER_DAY, now - options.message_history_days * SECONDS_PER_DAY)
        placements = place(
            rng,
            options.messages_per_account,
            now=now,
            earliest=earliest,
            avoid=(retention_band(now, options.message_retention_days),),
        )
        forced_recent = iter(("queued", "scheduled", "sent", "sending", "accepted", "delivered"))
        # The newest history message is a failure Twilio never sent (date_sent null), within retention.
        unsent_failure = max((i for i, p in enumerate(placements) if p.kind == "history"), default=None)
        messages, media = [], []
        for index, placement in enumerate(placements):
            status, num_media = None, None
            if placement.kind == "recent":
                status = next(forced_recent, None)
            elif placement.kind == "edge":
                status, num_media = "delivered", (1 if index % 4 == 0 else 0)
            elif index == unsent_failure:
                status = "failed"
            row, media_rows = self.message(
                rng,
                placement.epoch,
                now=now,
                status=status,
                unsent=index == unsent_failure,
                num_media=num_media,
                media_share=options.media_fraction,
                sent_at_created=placement.kind == "edge",
            )
            messages.append(row)
            media += media_rows
        return messages, media

    def message(
        self,
        rng: random.Random,
        created: int,
        *,
        now: int,
        status: str | None = None,
        unsent: bool = False,
        num_media: int | None = None,
        media_share: float = 0.2,
        sent_at_created: bool = False,
    ) -> tuple[Row, list[Row]]:
        """One message and its media; ``unsent`` forces a null ``date_sent`` (a failure before sending)."""
        recent = now - created <= RECENT_SECONDS
        direction = MESSAGE_DIRECTIONS.draw(rng)
        null_sent = unsent
        if status is None:
            if direction == "inbound":
                status = "received"
            elif recent:
                status = RECENT_MESSAGE_STATUSES.draw(rng)
            else:
                status = MESSAGE_STATUSES.draw(rng)
                null_sent = status == "failed" and rng.random() < 0.5
        if status in ("received", "receiving"):
            direction = "inbound"
        elif direction == "inbound":
            direction = "outbound-api"
        if num_media is None:
            num_media = rng.randint(1, 3) if rng.random() < media_share else 0
        sid = new_sid(rng, "MM" if num_media else "SM")
        null_sent = null_sent or status in ("queued", "accepted", "scheduled", "canceled")
        date_sent = None if null_sent else (created if sent_at_created else created + rng.randint(0, 4))
        if date_sent is not None:
            date_sent = min(date_sent, max(now, created))
        final = status in ("delivered", "undelivered", "failed", "received", "read", "canceled")
        date_updated = (date_sent or created) + (rng.randint(1, 90) if final and not sent_at_created else 0)
        date_updated = min(max(date_updated, created), max(now, created))
        segments = rng.choice((1, 1, 1, 2, 3))
        unpriced = status in ("queued", "accepted", "scheduled", "sending", "canceled") or date_sent is None
        price = None
        if not unpriced and not (recent and rng.random() < 0.3):
            price = money(Decimal("0.0200") if num_media else Decimal("0.0079") * segments)
        error_code, error_message = rng.choice(_MESSAGE_ERRORS[status]) if status in _MESSAGE_ERRORS else (None, None)
        ours = self._our_number(rng)
        theirs, _ = us_number(rng)
        sender, recipient = (theirs, ours.e164) if direction == "inbound" else (ours.e164, theirs)
        offset = pick_offset(rng)
        uri = f"{self.base}/Messages/{sid}"
        record = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": rng.choice(_BODIES),
            "date_created": rfc2822(created, offset),
            "date_sent": rfc2822(date_sent, offset) if date_sent is not None else None,
            "date_updated": rfc2822(date_updated, offset),
            "direction": direction,
            "error_code": error_code,
            "error_message": error_message,
            "from": sender,
            "messaging_service_sid": new_sid(rng, "MG") if rng.random() < 0.3 else None,
            "num_media": str(num_media),
            "num_segments": str(segments),
            "price": price,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": recipient,
            "uri": f"{uri}.json",
        }
        row = message_row(self._item(record), created, date_sent)
        media = [self.media(rng, sid, created, offset) for _ in range(num_media)]
        return row, media

    def media(self, rng: random.Random, message_sid: str, created: int, offset: int) -> Row:
        sid = new_sid(rng, "ME")
        record = {
            "account_sid": self.account_sid,
            "content_type": rng.choice(_MEDIA_TYPES),
            "date_created": rfc2822(created, offset),
            "date_updated": rfc2822(created + rng.randint(0, 1), offset),
            "parent_sid": message_sid,
            "sid": sid,
            "uri": f"{self.base}/Messages/{message_sid}/Media/{sid}.json",
        }
        return Row(self._item(record, message_sid), sid, created, {"date_created": created})

    # ----- calls -----

    def calls(self, options: DatasetOptions, now: int) -> list[Row]:
        rng = self.rng("calls")
        earliest = max(self.created + SECONDS_PER_DAY, now - options.call_history_days * SECONDS_PER_DAY)
        placements = place(rng, options.calls_per_account, now=now, earliest=earliest)
        forced_recent = iter(("queued", "ringing", "in-progress", "completed", "completed", "queued"))
        rows = []
        for index, placement in enumerate(placements):
            status = next(forced_recent, None) if placement.kind == "recent" else None
            edge = placement.kind == "edge"
            if edge:
                status = "completed"
            # The first recent completed call (index 3) is not billed yet: Twilio fills the price in later.
            rows.append(
                self.call(rng, placement.epoch, now=now, status=status, unpriced=index == 3, start_at_created=edge)
            )
        return rows

    def call(
        self,
        rng: random.Random,
        created: int,
        *,
        now: int,
        status: str | None = None,
        unpriced: bool = False,
        start_at_created: bool = False,
    ) -> Row:
        """One call; ``unpriced`` leaves a completed call's price null (not billed yet)."""
        recent = now - created <= RECENT_SECONDS
        if status is None:
            status = CALL_STATUSES.draw(rng)
            unpriced = unpriced or (recent and rng.random() < 0.3)
        direction = CALL_DIRECTIONS.draw(rng)
        sid = new_sid(rng, "CA")
        start = end = None
        duration: int | None = None
        # A call canceled while queued was never dialed: like a queued call, it has no start_time.
        dialed = status != "canceled" or rng.random() < 0.5
        if status in ("completed", "busy", "no-answer", "failed", "canceled", "in-progress") and dialed:
            start = created if start_at_created else min(created + rng.randint(0, 20), max(now, created))
        if status == "completed":
            duration = rng.randint(20, 1800) if rng.random() < 0.9 else rng.randint(1800, MAX_CALL_SECONDS)
            if not start_at_created:
                duration = min(duration, max(1, now - start))
            end = start + duration
        elif status in ("busy", "no-answer", "failed", "canceled") and start is not None:
            duration, end = 0, start + (rng.randint(5, 30) if status == "no-answer" else 1)
        elif status == "canceled":
            duration = 0
        price = None
        if status == "completed" and not unpriced:
            per_minute = Decimal("0.0085") if direction == "inbound" else Decimal("0.0140")
            price = money(per_minute * math.ceil(duration / 60))
        elif status in ("busy", "no-answer"):
            price = money(0)
        updated = max(created, (end or start or created) + (rng.randint(1, 30) if end else 0))
        ours = self._our_number(rng)
        theirs, theirs_formatted = us_number(rng)
        inbound = direction == "inbound"
        offset = pick_offset(rng)
        uri = f"{self.base}/Calls/{sid}"
        subresources = (
            "notifications:Notifications recordings:Recordings payments:Payments events:Events siprec:Siprec "
            "streams:Streams transcriptions:Transcriptions "
            "user_defined_message_subscriptions:UserDefinedMessageSubscriptions "
            "user_defined_messages:UserDefinedMessages"
        )
        record = {
            "account_sid": self.account_sid,
            "answered_by": rng.choice(("human", "machine_start"))
            if direction == "outbound-api" and status == "completed" and rng.random() < 0.3
            else None,
            "api_version": API_VERSION,
            "caller_name": "WIRELESS CALLER" if inbound and rng.random() < 0.2 else None,
            "date_created": rfc2822(created, offset),
            "date_updated": rfc2822(min(updated, max(now, created)), offset),
            "direction": direction,
            "duration": None if duration is None else str(duration),
            "end_time": rfc2822(end, offset) if end is not None else None,
            "forwarded_from": ours.e164 if inbound and rng.random() < 0.1 else None,
            "from": theirs if inbound else ours.e164,
            "from_formatted": theirs_formatted if inbound else ours.formatted,
            "group_sid": None,
            "parent_call_sid": new_sid(rng, "CA") if direction == "outbound-dial" else None,
            "phone_number_sid": ours.sid,
            "price": price,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": sid,
            "start_time": rfc2822(start, offset) if start is not None else None,
            "status": status,
            "subresource_uris": {
                name: f"{uri}/{path}.json" for name, path in (pair.split(":") for pair in subresources.split())
            },
            "to": ours.e164 if inbound else theirs,
            "to_formatted": ours.formatted if inbound else theirs_formatted,
            "trunk_sid": None,
            "uri": f"{uri}.json",
        }
        return call_row(self._item(record), created, start, end)

    # ----- conferences, participants, recordings, transcriptions -----

    def conferences(self, count: int, now: int, history_days: int) -> tuple[list[Row], list[Row]]:
        rng = self.rng("conferences")
        live = [] if count < 2 else ["init"] * min(2, count // 8 + 1) + ["in-progress"] * min(4, count // 4 + 1)
        earliest = max(self.created + SECONDS_PER_DAY, now - history_days * SECONDS_PER_DAY)
        edges = edge_instants(now)
        conferences, participants = [], []
        for index in range(count):
            if index < len(live):
                window = VERY_RECENT_SECONDS if live[index] == "init" or index % 3 == 0 else RECENT_SECONDS
                conference, members = self.conference(
                    rng, now - rng.randint(60, window - 60), now=now, status=live[index]
                )
            else:
                edge_index = index - len(live)
                created = edges[edge_index] if edge_index < len(edges) else rng.randint(earliest, now - RECENT_SECONDS)
                conference, members = self.conference(rng, created, now=now, status="completed")
            conferences.append(conference)
            participants += members
        return conferences, participants

    def conference(self, rng: random.Random, created: int, *, now: int, status: str) -> tuple[Row, list[Row]]:
        """One conference and, unless it has completed, its 1-4 current participants."""
        sid = new_sid(rng, "CF")
        if status == "completed":
            updated = created + rng.randint(300, 5400)
            reason = rng.choice(_CONFERENCE_ENDINGS)
        else:
            updated = min(now, created + rng.randint(0, 120))
            reason = None
        uri = f"{self.base}/Conferences/{sid}"
        record = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "call_sid_ending_conference": new_sid(rng, "CA") if reason and "participant" in reason else None,
            "date_created": rfc2822(created),
            "date_updated": rfc2822(updated),
            "friendly_name": f"{rng.choice(_CONFERENCE_NAMES)}-{rng.randint(1, 999)}",
            "reason_conference_ended": reason,
            "region": rng.choice(("us1", "us1", "ie1", "de1", "jp1")),
            "sid": sid,
            "status": status,
            "subresource_uris": {"participants": f"{uri}/Participants.json", "recordings": f"{uri}/Recordings.json"},
            "uri": f"{uri}.json",
        }
        row = Row(self._item(record), sid, created, {"date_created": created, "date_updated": updated})
        members = (
            []
            if status == "completed"
            else [self.participant(rng, sid, created, now, status) for _ in range(rng.randint(1, 4))]
        )
        return row, members

    def participant(
        self, rng: random.Random, conference_sid: str, conference_created: int, now: int, status: str
    ) -> Row:
        call_sid = new_sid(rng, "CA")
        created = rng.randint(conference_created, max(conference_created, now))
        coaching = rng.random() < 0.15
        record = {
            "account_sid": self.account_sid,
            "call_sid": call_sid,
            "call_sid_to_coach": new_sid(rng, "CA") if coaching else None,
            "coaching": coaching,
            "conference_sid": conference_sid,
            "date_created": rfc2822(created),
            "date_updated": rfc2822(min(now, created + rng.randint(0, 30))),
            "end_conference_on_exit": rng.random() < 0.2,
            "hold": rng.random() < 0.1,
            "label": rng.choice((None, "customer", "agent")),
            "muted": rng.random() < 0.3,
            "queue_time": None,
            "start_conference_on_enter": True,
            "status": "connected" if status == "in-progress" else rng.choice(("queued", "connecting", "ringing")),
            "uri": f"{self.base}/Conferences/{conference_sid}/Participants/{call_sid}.json",
        }
        return Row(self._item(record, conference_sid), call_sid, created, {"date_created": created})

    def recordings(self, count: int, calls: list[Row], conferences: list[Row], now: int) -> list[Row]:
        """Recordings of completed calls (calls at the edge instants first), some in a completed conference."""
        rng = self.rng("recordings")
        eligible = [row for row in calls if row.record["status"] == "completed" and int(row.record["duration"]) >= 10]
        edges = set(edge_instants(now))
        chosen = [row for row in eligible if row.times["start_time"] in edges]
        others = [row for row in eligible if row.times["start_time"] not in edges]
        chosen += rng.sample(others, min(len(others), max(0, count - len(chosen))))
        completed = [row.ident for row in conferences if row.record["status"] == "completed"]
        return [
            self.recording(
                rng, call, conference_sid=rng.choice(completed) if completed and rng.random() < 0.25 else None
            )
            for call in chosen[:count]
        ]

    def recording(self, rng: random.Random, call: Row, *, conference_sid: str | None = None) -> Row:
        sid = new_sid(rng, "RE")
        start = call.times["start_time"]
        duration = max(1, int(call.record["duration"]) - rng.randint(0, 2))
        updated = start + duration + rng.randint(1, 5)
        source = (
            rng.choice(("StartConferenceRecordingAPI", "Conference"))
            if conference_sid
            else rng.choice(("DialVerb", "RecordVerb", "OutboundAPI", "StartCallRecordingAPI"))
        )
        uri = f"{self.base}/Recordings/{sid}"
        record = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "call_sid": call.ident,
            "channels": rng.choice((1, 2)),
            "conference_sid": conference_sid,
            "date_created": rfc2822(start),
            "date_updated": rfc2822(updated),
            "duration": str(duration),
            "encryption_details": None,
            "error_code": None,
            "media_url": f"{RECORDING_MEDIA_BASE}{uri}",
            "price": money(Decimal("0.0025") * math.ceil(duration / 60)),
            "price_unit": "USD",
            "sid": sid,
            "source": source,
            "start_time": rfc2822(start),
            "status": "completed",
            "subresource_uris": {
                "add_on_results": f"{uri}/AddOnResults.json",
                "transcriptions": f"{uri}/Transcriptions.json",
            },
            "uri": f"{uri}.json",
        }
        return Row(self._item(record), sid, start, {"date_created": start, "date_updated": updated})

    def transcriptions(self, count: int, recordings: list[Row]) -> list[Row]:
        rng = self.rng("transcriptions")
        rows = []
        for recording in rng.sample(recordings, min(count, len(recordings))):
            sid = new_sid(rng, "TR")
            created = recording.times["date_updated"] + rng.randint(5, 60)
            completed = rng.random() < 0.85
            duration = int(recording.record["duration"])
            record = {
                "account_sid": self.account_sid,
                "api_version": API_VERSION,
                "date_created": rfc2822(created),
                "date_updated": rfc2822(created + rng.randint(0, 30)),
                "duration": str(duration),
                "price": money(Decimal("0.05") * math.ceil(duration / 60)) if completed else "0.00000",
                "price_unit": "USD",
                "recording_sid": recording.ident,
                "sid": sid,
                "status": "completed" if completed else "failed",
                "transcription_text": rng.choice(_TRANSCRIPTS) if completed else None,
                "type": "fast",
                "uri": f"{self.base}/Transcriptions/{sid}.json",
            }
            rows.append(Row(self._item(record), sid, created, {"date_created": created}))
        return rows

    # ----- available phone numbers -----

    def available_phone_numbers(self) -> dict[str, list[Row]]:
        """Countries (``available_phone_number_countries``) and 3-10 search results per country and type."""
        rng = self.rng("available_phone_numbers")
        out: dict[str, list[Row]] = {"available_phone_number_countries": []}
        for country in COUNTRIES:
            uri = f"{self.base}/AvailablePhoneNumbers/{country.code}"
            record = {
                "beta": False,
                "country": country.name,
                "country_code": country.code,
                "subresource_uris": {
                    kind: f"{uri}/{AVAILABLE_NUMBER_PATHS[kind]}.json" for kind in country.number_types
                },
                "uri": f"{uri}.json",
            }
            out["available_phone_number_countries"].append(Row(self._item(record), country.code, 0))
            for kind in country.number_types:
                rows = [self._available_number(rng, country, kind) for _ in range(rng.randint(3, 10))]
                unique = {row.ident: row for row in rows}
                out.setdefault(AVAILABLE_NUMBER_STREAMS[kind], []).extend(unique.values())
        return out

    def _available_number(self, rng: random.Random, country: Country, kind: str) -> Row:
        prefix = country.dialing_prefixes[kind]
        e164 = prefix + "".join(str(rng.randint(0, 9)) for _ in range(country.digits + 1 - len(prefix)))
        north_american = country.code in ("US", "CA")
        local = kind == "local"
        if north_american:
            national = e164[2:]
            friendly = f"({national[:3]}) {national[3:6]}-{national[6:10]}"
        else:
            friendly = e164
        record = {
            "address_requirements": "none" if north_american else rng.choice(("any", "local")),
            "beta": False,
            "capabilities": {"mms": north_american, "sms": kind != "toll_free" or north_american, "voice": True},
            "friendly_name": friendly,
            "iso_country": country.code,
            "lata": str(rng.randint(700, 999)) if north_american and local else None,
            "latitude": f"{rng.uniform(25, 60):.6f}" if local else None,
            "locality": rng.choice(("Springfield", "Riverside", "Franklin", "Greenville")) if local else None,
            "longitude": f"{rng.uniform(-125, 20):.6f}" if local else None,
            "phone_number": e164,
            "postal_code": str(rng.randint(10000, 99999)) if north_american and local else None,
            "rate_center": rng.choice(("SNFC", "HILO", "NWYRCYZN01")) if north_american and local else None,
            "region": rng.choice(("CA", "NY", "BC", "ON")) if north_american else None,
        }
        return Row(self._item(record, country.code), e164, 0)

    # ----- usage -----

    def usage_records(self, now: int, history_days: int, phone_numbers: int) -> list[Row]:
        """One Daily record per category per day, from the account's first day (within the history) to today."""
        rng = self.rng("usage_records")
        first = max(day_start(self.created), day_start(now) - history_days * SECONDS_PER_DAY)
        rows = []
        for day in range(first, day_start(now) + 1, SECONDS_PER_DAY):
            counts = {
                "calls": rng.randint(0, 60),
                "sms": rng.randint(0, 400),
                "mms": rng.randint(0, 40),
                "phonenumbers": phone_numbers,
                "recordings": rng.randint(0, 8),
            }
            usage = dict(counts, calls=counts["calls"] * rng.randint(1, 6), recordings=counts["recordings"] * 3)
            rows += self.usage_day(day, {name: (counts[name], usage[name]) for name in counts}, now)
        return rows

    def usage_day(self, day: int, amounts: dict[str, tuple[int, int]], as_of: int) -> list[Row]:
        """The records of one day from ``{category: (count, usage)}``; totalprice sums the others' prices."""
        rows, total = [], Decimal(0)
        for category in PRICED_CATEGORIES:
            count, usage = amounts.get(category.name, (0, 0))
            price = category.unit_price * usage
            if category.name == "phonenumbers":
                price = category.unit_price * count
            total += price
            rows.append(self.usage_row(category, day, str(count), str(usage), price, as_of))
        totalprice = USAGE_CATEGORIES[-1]
        rows.append(self.usage_row(totalprice, day, "0", f"{total:.5f}", total, as_of))
        return rows

    def usage_row(self, category: UsageCategory, day: int, count: str, usage: str, price: Decimal, as_of: int) -> Row:
        date = day_string(day)
        records = f"{self.base}/Usage/Records"
        record = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "as_of": iso_utc_offset(as_of),
            "category": category.name,
            "count": count,
            "count_unit": category.count_unit,
            "description": category.description,
            "end_date": date,
            "price": f"{price.quantize(Decimal('0.00001')):.5f}",
            "price_unit": "usd",
            "start_date": date,
            "subresource_uris": {
                name: f"{records}/{path}.json?Category={category.name}"
                for name, path in (
                    ("all_time", "AllTime"),
                    ("daily", "Daily"),
                    ("last_month", "LastMonth"),
                    ("monthly", "Monthly"),
                    ("this_month", "ThisMonth"),
                    ("today", "Today"),
                    ("yearly", "Yearly"),
                    ("yesterday", "Yesterday"),
                )
            },
            "uri": f"{records}/Daily.json?Category={category.name}&StartDate={date}&EndDate={date}",
            "usage": usage,
            "usage_unit": category.usage_unit,
        }
        # No SID: the natural key (day, category) names the row, newest day first.
        return Row(self._item(record), f"{date}|{category.name}", day, {"start_date": day})


def account_row(
    sid: str, auth_token: str, owner_sid: str, friendly_name: str, status: str, created: int, updated: int
) -> Row:
    """An account record (main accounts own themselves: ``owner_account_sid == sid``)."""
    base = f"{API}/Accounts/{sid}"
    subresources = {
        "available_phone_numbers": "AvailablePhoneNumbers",
        "calls": "Calls",
        "conferences": "Conferences",
        "incoming_phone_numbers": "IncomingPhoneNumbers",
        "notifications": "Notifications",
        "outgoing_caller_ids": "OutgoingCallerIds",
        "recordings": "Recordings",
        "transcriptions": "Transcriptions",
        "addresses": "Addresses",
        "signing_keys": "SigningKeys",
        "connect_apps": "ConnectApps",
        "sip": "SIP",
        "authorized_connect_apps": "AuthorizedConnectApps",
        "usage": "Usage",
        "keys": "Keys",
        "applications": "Applications",
        "short_codes": "SMS/ShortCodes",
        "queues": "Queues",
        "messages": "Messages",
        "balance": "Balance",
    }
    record = {
        "auth_token": auth_token,
        "date_created": rfc2822(created),
        "date_updated": rfc2822(updated),
        "friendly_name": friendly_name,
        "owner_account_sid": owner_sid,
        "sid": sid,
        "status": status,
        "subresource_uris": {name: f"{base}/{path}.json" for name, path in subresources.items()},
        "type": "Full",
        "uri": f"{base}.json",
    }
    return Row(Item(sid, record), sid, created, {"date_created": created})


def message_row(item: Item, created: int, date_sent: int | None) -> Row:
    """Messages sort by date_sent, falling back to date_created while unsent."""
    return Row(
        item,
        item.record["sid"],
        date_sent if date_sent is not None else created,
        {"date_sent": date_sent, "date_created": created},
    )


def call_row(item: Item, created: int, start: int | None, end: int | None) -> Row:
    """Calls sort by start_time, falling back to date_created while not started."""
    return Row(
        item,
        item.record["sid"],
        start if start is not None else created,
        {"start_time": start, "end_time": end, "date_created": created},
    )


def alerts(seed: int, account_sid: str, count: int, now: int, history_days: int, earliest: int) -> list[Row]:
    """Monitor alerts of the main account, spread over the last ``history_days`` days."""
    rng = FastRandom(f"{seed}/alerts")
    edges = [instant for instant in edge_instants(now) if now - instant < ALERT_RETENTION_DAYS * SECONDS_PER_DAY]
    placements = place(
        rng,
        count,
        now=now,
        earliest=max(earliest, now - history_days * SECONDS_PER_DAY),
        avoid=(retention_band(now, ALERT_RETENTION_DAYS),),
        edges=edges,
        recent_share=30,
    )
    return [alert(rng, account_sid, placement.epoch, now) for placement in placements]


def alert(rng: random.Random, account_sid: str, generated: int, now: int) -> Row:
    """One alert; ``date_generated`` is when it happened, ``date_created`` when Monitor stored it."""
    sid = new_sid(rng, "NO")
    code, level, text, resource = rng.choice(_ALERTS)
    created = min(max(now, generated), generated + rng.randint(0, 90))
    webhook = rng.choice(("https://example.com/voice", "https://example.com/sms", "https://hooks.example.org/twilio"))
    record = {
        "account_sid": account_sid,
        "alert_text": f"Msg={text}&sourceComponent=14100&ErrorCode={code}&LogLevel={level.upper()}&url={webhook}",
        "api_version": API_VERSION,
        "date_created": iso_z(created),
        "date_generated": iso_z(generated),
        "date_updated": iso_z(created),
        "error_code": code,
        "log_level": level,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "request_method": rng.choice(("POST", "GET")) if resource == "CA" else None,
        "request_url": webhook if resource == "CA" else None,
        "resource_sid": new_sid(rng, resource),
        "service_sid": new_sid(rng, "MG") if resource == "SM" and rng.random() < 0.5 else None,
        "sid": sid,
        "url": f"{MONITOR_RECORD_BASE}/{sid}",
    }
    return Row(Item(account_sid, record), sid, generated, {"date_generated": generated, "date_created": created})
