"""The emulated Twilio account tree: a deterministic dataset the server reads and tests compare against.

:class:`Dataset` holds every record of every account (including what a client cannot reach:
messages older than the retention window, suspended subaccounts) in per-scope
:class:`~.store.Collection` objects, behind one lock. :meth:`Dataset.mutate` moves it forward in
time the way a live account does; with ``visible_after`` its writes are listed only later (see
``visibility.py``), while :meth:`Dataset.items` always gives the truth.
"""

from __future__ import annotations

import contextlib
import gc
import math
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from .generate import (
    USAGE_CATEGORIES,
    AccountGenerator,
    AccountHistory,
    FastRandom,
    account_row,
    alert,
    alerts,
    new_secret,
    new_sid,
)
from .generate_pricing import pricing_rows
from .generate_products import ProductGenerator, ProductOptions
from .limits import MESSAGE_RETENTION_DAYS, MIN_MESSAGE_RETENTION_DAYS
from .mutation import (
    SETTLING_CALL_STATUSES,
    SETTLING_MESSAGE_STATUSES,
    Changes,
    recent_rows,
    settle_call,
    settle_message,
    written_at,
)
from .mutation_products import ProductMutation
from .products import PRODUCT_STREAMS
from .store import Collection, Item, Row
from .timefmt import SECONDS_PER_DAY, day_start, day_string, from_epoch, iso_z, rfc2822, to_epoch
from .visibility import Scope, Visibility

STREAMS = (
    "accounts",
    "addresses",
    "dependent_phone_numbers",
    "applications",
    "available_phone_number_countries",
    "available_phone_numbers_local",
    "available_phone_numbers_mobile",
    "available_phone_numbers_toll_free",
    "incoming_phone_numbers",
    "keys",
    "calls",
    "conferences",
    "conference_participants",
    "outgoing_caller_ids",
    "recordings",
    "transcriptions",
    "queues",
    "message_media",
    "messages",
    "usage_records",
    "usage_triggers",
    "alerts",
)
"""The 22 stream names :meth:`Dataset.items` knows."""

ACCOUNT_STATUSES = ("active", "suspended", "closed")

MAIN_ACCOUNT_AGE_DAYS = 1500
MUTATION_ACCOUNT_AGE_DAYS = 500


USAGE_VALUE_FIELDS = ("count", "count_unit", "usage", "usage_unit", "price", "price_unit")


@dataclass(frozen=True)
class DatasetOptions:
    """What to generate. Everything is derived from ``seed`` and ``now``; sizes are per active account.

    ``now=None`` means the real current UTC time (whole seconds) when the dataset is built. The
    dataset's clock then runs on from ``now`` in real time (see :meth:`Dataset.clock`), so a ``now``
    that is the real time minus 120 s models a Twilio whose clock is 120 s behind the client's.

    ``message_retention_days`` is the account's message retention (Twilio lets customers pick 7 to
    400 days): older messages and their media are gone, and filters reaching further back get 20004.
    """

    seed: int = 1
    subaccounts: int = 2
    suspended_subaccounts: int = 1
    messages_per_account: int = 300
    calls_per_account: int = 150
    addresses_per_account: int = 6
    applications_per_account: int = 4
    incoming_numbers_per_account: int = 8
    keys_per_account: int = 3
    outgoing_caller_ids_per_account: int = 3
    queues_per_account: int = 3
    usage_triggers_per_account: int = 4
    recordings_per_account: int = 40
    transcriptions_per_account: int = 10
    conferences_per_account: int = 30
    alerts: int = 60
    media_fraction: float = 0.2
    message_history_days: int = 450
    call_history_days: int = 1095
    usage_history_days: int = 450
    alert_history_days: int = 40
    message_retention_days: int = MESSAGE_RETENTION_DAYS
    now: datetime | None = None
    restricted_key_permissions: tuple[str, ...] = ("accounts", "messaging", "usage")
    """What the restricted API key may read (areas of ``api.permission_of``); anything else: 403, 20403."""
    oauth_token_seconds: int = 3600
    """How long an OAuth access token lives (Twilio: 1 hour by default, settable from a minute to 30 days)."""
    region: str = "us1"
    """Where the accounts live (``us1``, ``ie1``, ``au1``): another region's hosts refuse their credentials (401)."""
    products: ProductOptions = field(default_factory=ProductOptions)
    """Sizes of the product hosts' data (conversations, studio, ...) and which accounts lack Voice Insights."""

    def __post_init__(self) -> None:
        if not 0 <= self.suspended_subaccounts <= self.subaccounts:
            raise ValueError("suspended_subaccounts must be between 0 and subaccounts")
        if self.keys_per_account < 2:
            raise ValueError("keys_per_account must be at least 2 (the main account holds the Main and Standard keys)")
        sizes = {name: value for name, value in vars(self).items() if isinstance(value, int) and name != "seed"}
        if negative := [name for name, value in sizes.items() if value < 0]:
            raise ValueError(f"options must not be negative: {', '.join(negative)}")
        if not MIN_MESSAGE_RETENTION_DAYS <= self.message_retention_days <= MESSAGE_RETENTION_DAYS:
            raise ValueError(
                f"message_retention_days must be between {MIN_MESSAGE_RETENTION_DAYS} and {MESSAGE_RETENTION_DAYS}"
            )


@dataclass(frozen=True)
class _Identity:
    sid: str
    auth_token: str
    created: int


class Dataset:
    """Every record the emulator serves, generated deterministically from :class:`DatasetOptions`.

    Thread-safe: the server and :meth:`mutate` take :attr:`lock` around reads and writes. Lists are
    served from the *visible* state, which trails the truth while writes of a lagged :meth:`mutate`
    are pending.
    """

    def __init__(self, options: DatasetOptions | None = None) -> None:
        self.options = options or DatasetOptions()
        now = self.options.now or datetime.now(timezone.utc)
        self._base_epoch = to_epoch(now)
        # Without a fixed `now` the emulated clock is the wall clock, as Twilio's is: never behind the
        # client's by the fraction of a second an offset-plus-elapsed clock would lose.
        self._offset = 0 if self.options.now is None else self._base_epoch - int(time.time())
        self.lock = threading.RLock()
        self.version = 0
        self._mutations = 0
        self._collections: dict[str, dict[Scope, Collection]] = {s: {} for s in (*STREAMS, *PRODUCT_STREAMS)}
        self._visibility = Visibility(self._collections)
        self._write_due: float | None = None  # when what is written now gets listed; None: at once
        self._generators: dict[str, AccountGenerator] = {}
        self._account_order: list[str] = []
        self._voice_insights: set[str] = set()
        self._usage_cache: tuple[int, Collection] | None = None
        keys_rng = random.Random(f"{self.options.seed}/credentials")
        self.main_key = (new_sid(keys_rng, "SK"), new_secret(keys_rng))
        """(SID, secret) of the main account's Main API key."""
        self.standard_key = (new_sid(keys_rng, "SK"), new_secret(keys_rng))
        self.oauth_client = (new_sid(keys_rng, "OQ"), new_secret(keys_rng))  # an OAuth app of the main account
        self.restricted_key = (new_sid(keys_rng, "SK"), new_secret(keys_rng))  # only its permissions
        self._oauth_tokens: dict[str, float] = {}  # access token -> when it expires (time.monotonic)
        self.oauth_tokens_issued = 0
        """(SID, secret) of the main account's Standard API key."""
        with _gc_paused():
            self._build()

    # ----- time -----

    @property
    def now(self) -> datetime:
        """The ``now`` the dataset was generated around (UTC, whole seconds)."""
        return from_epoch(self._base_epoch)

    def clock(self) -> int:
        """The emulated current time in epoch seconds: the wall clock, shifted to start at ``now`` if it was given."""
        return int(time.time()) + self._offset

    # ----- public views -----

    @property
    def accounts(self) -> list[str]:
        """Every account SID, main first, then subaccounts in creation order (mutations append)."""
        with self.lock:
            return list(self._account_order)

    @property
    def main_account_sid(self) -> str:
        return self._account_order[0]

    @property
    def credentials(self) -> dict[str, Any]:
        """Credentials for the emulated accounts (JSON-serialisable).

        ``account_sid``/``auth_token`` reach every subaccount; ``api_key_*`` is a Main key (main account
        only); ``standard_key_*`` is a Standard key (no Accounts or Keys). Subaccounts are listed with
        their own auth tokens.
        """
        with self.lock:
            main = self.account(self.main_account_sid)
            subaccounts = [self.account(sid) for sid in self._account_order[1:]]
            return {
                "account_sid": main["sid"],
                "auth_token": main["auth_token"],
                "api_key_sid": self.main_key[0],
                "api_key_secret": self.main_key[1],
                "standard_key_sid": self.standard_key[0],
                "standard_key_secret": self.standard_key[1],
                "restricted_key_sid": self.restricted_key[0],
                "restricted_key_secret": self.restricted_key[1],
                "oauth_client_id": self.oauth_client[0],
                "oauth_client_secret": self.oauth_client[1],
                "subaccount_sids": [record["sid"] for record in subaccounts],
                "suspended_subaccount_sids": [r["sid"] for r in subaccounts if r["status"] == "suspended"],
                "subaccount_auth_tokens": {record["sid"]: record["auth_token"] for record in subaccounts},
            }

    def issue_oauth_token(self, client_id: str, client_secret: str) -> str | None:
        """A new access token for the OAuth app's credentials (None if they are wrong), valid for
        ``oauth_token_seconds`` from now."""
        if (client_id, client_secret) != self.oauth_client:
            return None
        with self.lock:
            self.oauth_tokens_issued += 1
            token = f"eyJ.{new_secret(random.Random(f'{self.options.seed}/oauth/{self.oauth_tokens_issued}'), 48)}"
            self._oauth_tokens[token] = time.monotonic() + self.options.oauth_token_seconds
        return token

    def oauth_token_valid(self, token: str) -> bool:
        with self.lock:
            expires = self._oauth_tokens.get(token)
        return expires is not None and time.monotonic() < expires

    def items(self, stream: str, visible_only: bool = False) -> list[Item]:
        """Every record of ``stream`` the emulator holds, reachable or not, account by account.

        This is the truth, pending writes included: what Twilio holds and a client must eventually
        read. ``visible_only=True`` gives what lists show now instead (pending writes left out, or in
        their previous version); either way records past retention or of suspended accounts are kept.

        Records appear exactly as served, except usage records: their ``as_of`` is the build (or
        mutation) time rather than the request time, and the main account's own records are given
        (what ``IncludeSubaccounts=false`` returns).
        """
        if stream not in self._collections:
            raise KeyError(f"unknown stream {stream!r}; known: {', '.join((*STREAMS, *PRODUCT_STREAMS))}")
        with self.lock:
            if visible_only:
                self.reveal_due()
                scopes = self._visibility.scopes(stream)
            else:
                scopes = list(self._collections[stream].items())
            by_account: dict[str, list[Item]] = {sid: [] for sid in self._account_order}
            for (account_sid, _), collection in scopes:
                by_account.setdefault(account_sid, []).extend(row.item for row in collection)
            return [item for items in by_account.values() for item in items]

    @property
    def pending(self) -> int:
        """How many written rows lists do not show (in their latest version) yet."""
        with self.lock:
            return self._visibility.pending

    def reveal_due(self) -> int:
        """List every pending write whose time (mutation time + ``visible_after``) has come.

        The server calls this at the start of each request; returns how many rows became visible.
        """
        with self.lock:
            revealed = self._visibility.reveal_due(self.clock())
            if revealed:
                self.version += 1
            return revealed

    def reveal(self) -> int:
        """List every pending write at once, however long its lag; returns how many rows that was."""
        with self.lock:
            revealed = self._visibility.reveal_all()
            if revealed:
                self.version += 1
            return revealed

    # ----- lookups for the server (call with the lock held) -----

    def account(self, sid: str) -> dict[str, Any] | None:
        row = self._collections["accounts"][(self.main_account_sid, None)].get(sid)
        return None if row is None else row.record

    def has_voice_insights(self, account_sid: str) -> bool:
        """Whether the account has Voice Insights Advanced Features (without them, call summaries answer 403)."""
        return account_sid in self._voice_insights

    def collection(
        self, stream: str, account_sid: str, parent: str | None = None, *, visible_only: bool = True
    ) -> Collection | None:
        """What lists show of one scope (``visible_only=False``: the truth, pending writes included)."""
        if visible_only:
            return self._visibility.shown(stream, (account_sid, parent))
        return self._collections[stream].get((account_sid, parent))

    def usage_collection(self, account_sid: str, include_subaccounts: bool) -> Collection:
        """Daily usage of an account; for the main account with subaccounts included, the sums."""
        own = self.collection("usage_records", account_sid) or Collection()
        if not include_subaccounts or account_sid != self.main_account_sid:
            return own
        if self._usage_cache is None or self._usage_cache[0] != self.version:
            self._usage_cache = (self.version, self._sum_usage())
        return self._usage_cache[1]

    # ----- building -----

    def _build(self) -> None:
        options = self.options
        now = self._base_epoch
        main = self._identity(0, now - MAIN_ACCOUNT_AGE_DAYS * SECONDS_PER_DAY)
        account_rows = [
            account_row(main.sid, main.auth_token, main.sid, "Main account", "active", main.created, main.created)
        ]
        identities = [main]
        first_suspended = options.subaccounts - options.suspended_subaccounts
        for index in range(1, options.subaccounts + 1):
            # Forty days apart, wrapping round within the main account's life (hundreds of subaccounts: none is newer
            # than 150 days or created before the main account).
            age_days = MAIN_ACCOUNT_AGE_DAYS - 150 - (40 * index) % (MAIN_ACCOUNT_AGE_DAYS - 300)
            identity = self._identity(index, now - age_days * SECONDS_PER_DAY)
            suspended = index > first_suspended
            updated = now - 45 * SECONDS_PER_DAY if suspended else identity.created + SECONDS_PER_DAY
            account_rows.append(
                account_row(
                    identity.sid,
                    identity.auth_token,
                    main.sid,
                    f"Subaccount {index}",
                    "suspended" if suspended else "active",
                    identity.created,
                    updated,
                )
            )
            identities.append(identity)
        self._account_order = [identity.sid for identity in identities]
        self._collections["accounts"][(main.sid, None)] = Collection(account_rows)
        for index, identity in enumerate(identities):
            generator = AccountGenerator(options.seed, f"account{index}", identity.sid, identity.created)
            extra_keys: tuple[Row, ...] = ()
            if index == 0:
                extra_keys = (
                    generator.key_row(self.main_key[0], "Main key", identity.created + SECONDS_PER_DAY),
                    generator.key_row(self.standard_key[0], "Standard key", identity.created + 2 * SECONDS_PER_DAY),
                )
            self._install(identity.sid, generator.generate(options, now, extra_keys=extra_keys))
            self._generators[identity.sid] = generator
            self._install_products(index, generator, now)
        for stream, rows in pricing_rows(main.sid).items():
            self._write(stream, (main.sid, None), *rows)
        alert_rows = alerts(options.seed, main.sid, options.alerts, now, options.alert_history_days, main.created)
        self._collections["alerts"][(main.sid, None)] = Collection(alert_rows)

    def _identity(self, index: int, created: int) -> _Identity:
        rng = random.Random(f"{self.options.seed}/account{index}/identity")
        return _Identity(new_sid(rng, "AC"), f"{rng.getrandbits(128):032x}", created - rng.randint(0, 86_399))

    def _install(self, account_sid: str, history: AccountHistory) -> None:
        for stream, rows in history.rows.items():
            grouped: dict[str | None, list[Row]] = {}
            for row in rows:
                grouped.setdefault(row.item.parent, []).append(row)
            for parent, group in grouped.items():
                self._write(stream, (account_sid, parent), *group)

    def _install_products(self, index: int, generator: AccountGenerator, now: int) -> AccountHistory:
        products = self.options.products
        voice_insights = index not in products.without_voice_insights
        if voice_insights:
            self._voice_insights.add(generator.account_sid)
        history = ProductGenerator(generator).generate(products.scaled(index == 0), now, voice_insights=voice_insights)
        self._install(generator.account_sid, history)
        return history

    def _write(self, stream: str, scope: Scope, *rows: Row) -> None:
        """Add or replace rows; listed at once, or from ``_write_due`` on inside a lagged mutation."""
        self._visibility.put(stream, scope, rows, self._write_due)

    def _sum_usage(self) -> Collection:
        main_sid = self.main_account_sid
        totals: dict[str, tuple[Row, int, Decimal, Decimal]] = {}
        for account_sid in self._account_order:
            for row in self.collection("usage_records", account_sid) or ():
                record = row.record
                base, count, usage, price = totals.get(row.ident, (row, 0, Decimal(0), Decimal(0)))
                if account_sid == main_sid:
                    base = row
                totals[row.ident] = (
                    base,
                    count + int(record["count"]),
                    usage + Decimal(record["usage"]),
                    price + Decimal(record["price"]),
                )
        rows = []
        for base, count, usage, price in totals.values():
            record = dict(base.record, account_sid=main_sid, count=str(count), price=f"{price:.5f}")
            record["usage"] = f"{usage:.5f}" if record["category"] == "totalprice" else str(usage)
            if base.item.account_sid != main_sid:
                own_base = f"/2010-04-01/Accounts/{main_sid}"
                sub_base = f"/2010-04-01/Accounts/{base.item.account_sid}"
                record["uri"] = record["uri"].replace(sub_base, own_base)
                record["subresource_uris"] = {
                    k: v.replace(sub_base, own_base) for k, v in record["subresource_uris"].items()
                }
            rows.append(Row(Item(main_sid, record), base.ident, base.sort_epoch, base.times))
        return Collection(rows)

    # ----- mutations -----

    def mutate(self, visible_after: float | None = None) -> dict[str, Any]:
        """Move the dataset forward to :meth:`clock` the way a live account changes.

        For every active account: adds 5 messages (2 with media) and 4 calls created in the last
        few minutes, updates up to 4 messages and 3 calls created in the last two hours (status,
        price, duration, ``date_sent``/``start_time``/``end_time`` as they settle; ``date_updated``
        becomes the mutation time), adds an in-progress conference with participants, recordings of
        the new completed calls and today's usage. Adds 2 alerts to the main account and a new
        active subaccount with its own history (messages and calls going back more than a year).

        ``visible_after`` (seconds) models Twilio's eventually consistent lists: everything this
        mutation adds or changes, the new subaccount included, is pending. Lists keep serving the
        previous state (new rows absent, changed rows in their old version) until the clock reaches
        the mutation time + ``visible_after``, or :meth:`reveal` is called; :meth:`items` shows the
        truth throughout. ``None`` lists everything at once.

        Returns ``{"mutation", "time", "epoch", "visible_after", "new_account_sid", "new": {stream:
        [ids]}, "changed": {stream: [ids]}, "counts": {"new": {...}, "changed": {...}}}``; ids are
        SIDs, call SIDs for participants and ``account/date/category`` for usage records.

        It returns once the clock has left the second the changes are stamped with: a sync begun in that very
        second rightly leaves them to the next one (its windows end where it began), and a caller that means
        "a sync after the changes" must not depend on being slower than a second to start one.
        """
        if visible_after is not None and visible_after < 0:
            raise ValueError("visible_after must not be negative")
        with self.lock:
            self.reveal_due()  # what came due before this write is listed in its pre-mutation version
            self._mutations += 1
            now = self.clock()
            rng = FastRandom(f"{self.options.seed}/mutation{self._mutations}")
            changes = Changes()
            self._write_due = None if visible_after is None else now + visible_after
            try:
                for account_sid in self._active_accounts():
                    self._mutate_account(account_sid, now, rng, changes)
                for _ in range(2):
                    row = written_at(alert(rng, self.main_account_sid, now - rng.randint(0, 30), now), now)
                    self._write("alerts", (self.main_account_sid, None), row)
                    changes.new("alerts", row.ident)
                with _gc_paused():
                    new_account_sid = self._add_subaccount(now, changes)
            finally:
                self._write_due = None
            self.version += 1
            summary = {
                "mutation": self._mutations,
                "time": iso_z(now),
                "epoch": now,
                "visible_after": visible_after,
                "new_account_sid": new_account_sid,
                **changes.summary(),
            }
        while self.clock() <= now:  # a sync started after this returns starts after the second the changes bear
            time.sleep(0.02)
        return summary

    def set_account_status(self, sid: str, status: str) -> dict[str, Any]:
        """Suspend, reactivate or close a subaccount now, as its owner may at any time.

        The new status is listed at once (even while writes of a lagged mutation are pending) and
        ``date_updated`` becomes :meth:`clock`; a suspended or closed account's resources then answer
        401/20003. Closing is final on Twilio, so a closed account cannot be reopened. Returns the
        new account record; ``KeyError`` for an unknown SID, ``ValueError`` for anything not allowed.
        """
        if status not in ACCOUNT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(ACCOUNT_STATUSES)}, got {status!r}")
        with self.lock:
            scope = (self.main_account_sid, None)
            row = self._collections["accounts"][scope].get(sid)
            if row is None:
                raise KeyError(f"no account {sid!r}")
            if sid == self.main_account_sid:
                raise ValueError("the main account's status cannot be changed: only subaccounts'")
            if row.record["status"] == "closed" and status != "closed":
                raise ValueError(f"{sid} is closed: a closed account cannot be reopened")
            record = dict(row.record, status=status, date_updated=rfc2822(self.clock()))
            self._visibility.put(
                "accounts", scope, [Row(Item(sid, record), row.ident, row.sort_epoch, row.times)], None
            )
            self.version += 1
            return record

    def _active_accounts(self) -> list[str]:
        return [sid for sid in self._account_order if self.account(sid)["status"] == "active"]

    def _mutate_account(self, account_sid: str, now: int, rng: random.Random, changes: Changes) -> None:
        generator = self._generators[account_sid]
        scope = (account_sid, None)
        messages = self.collection("messages", account_sid, visible_only=False) or Collection()
        calls = self.collection("calls", account_sid, visible_only=False) or Collection()
        recent_messages = recent_rows(messages, now, rng, 4, SETTLING_MESSAGE_STATUSES)
        recent_calls = recent_rows(calls, now, rng, 3, SETTLING_CALL_STATUSES)
        changed_messages = [settle_message(row, now, rng) for row in recent_messages]
        changed_calls = [settle_call(row, now, rng) for row in recent_calls]
        self._write("messages", scope, *changed_messages)
        changes.changed("messages", *(row.ident for row in changed_messages))
        self._write("calls", scope, *changed_calls)
        changes.changed("calls", *(row.ident for row in changed_calls))

        texts = mms = 0
        for status, num_media in (("delivered", 2), ("queued", 0), ("sent", 1), ("received", 0), (None, 0)):
            row, media = generator.message(rng, now - rng.randint(0, 50), now=now, status=status, num_media=num_media)
            row, media = written_at(row, now), [written_at(m, now) for m in media]
            self._write("messages", scope, row)
            changes.new("messages", row.ident)
            if media:
                self._write("message_media", (account_sid, row.ident), *media)
                changes.new("message_media", *(m.ident for m in media))
            mms, texts = (mms + 1, texts) if num_media else (mms, texts + 1)

        completed_calls = []
        for status in ("completed", "completed", "in-progress", "queued"):
            created = now - (rng.randint(120, 900) if status == "completed" else rng.randint(0, 60))
            row = written_at(generator.call(rng, created, now=now, status=status), now)
            self._write("calls", scope, row)
            changes.new("calls", row.ident)
            if status == "completed":
                completed_calls.append(row)

        conference, participants = generator.conference(rng, now - rng.randint(0, 120), now=now, status="in-progress")
        conference, participants = written_at(conference, now), [written_at(p, now) for p in participants]
        self._write("conferences", scope, conference)
        self._write("conference_participants", (account_sid, conference.ident), *participants)
        changes.new("conferences", conference.ident)
        changes.new("conference_participants", *(p.ident for p in participants))

        for call in completed_calls:
            row = written_at(generator.recording(rng, call), now)
            self._write("recordings", scope, row)
            changes.new("recordings", row.ident)

        minutes = sum(math.ceil(int(call.record["duration"]) / 60) for call in completed_calls)
        added = {"sms": (texts, texts), "mms": (mms, mms), "calls": (len(completed_calls), minutes)}
        self._add_usage_today(account_sid, now, added, changes)

        products_rng = FastRandom(f"{self.options.seed}/mutation{self._mutations}/products/{account_sid}")
        ProductMutation(
            ProductGenerator(generator),
            lambda stream, parent: self.collection(stream, account_sid, parent, visible_only=False) or Collection(),
            lambda stream, parent, row: self._write(stream, (account_sid, parent), row),
            now,
            products_rng,
            changes,
        ).run(self.has_voice_insights(account_sid))

    def _add_usage_today(self, account_sid: str, now: int, added: dict[str, tuple[int, int]], changes: Changes) -> None:
        generator = self._generators[account_sid]
        usage = self.collection("usage_records", account_sid, visible_only=False) or Collection()
        today = day_start(now)
        date = day_string(today)
        amounts = {"phonenumbers": (len(generator.numbers), len(generator.numbers))}
        for category in USAGE_CATEGORIES:
            existing = usage.get(f"{date}|{category.name}")
            if existing is not None and category.name != "totalprice":
                amounts[category.name] = (int(existing.record["count"]), int(existing.record["usage"]))
        for name, (count, used) in added.items():
            old_count, old_used = amounts.get(name, (0, 0))
            amounts[name] = (old_count + count, old_used + used)
        for row in generator.usage_day(today, amounts, now):
            label = f"{account_sid}/{date}/{row.record['category']}"
            previous = usage.get(row.ident)
            self._write("usage_records", (account_sid, None), row)
            if previous is None:
                changes.new("usage_records", label)
            elif any(previous.record.get(name) != row.record.get(name) for name in USAGE_VALUE_FIELDS):
                changes.changed("usage_records", label)  # as_of alone moving is not a change

    def _add_subaccount(self, now: int, changes: Changes) -> str:
        index = len(self._account_order)
        identity = self._identity(index, now - MUTATION_ACCOUNT_AGE_DAYS * SECONDS_PER_DAY)
        main_sid = self.main_account_sid
        record_row = account_row(
            identity.sid, identity.auth_token, main_sid, f"Subaccount {index}", "active", identity.created, now
        )
        self._write("accounts", (main_sid, None), record_row)
        self._account_order.append(identity.sid)
        generator = AccountGenerator(self.options.seed, f"account{index}", identity.sid, identity.created)
        options = replace(
            self.options,
            messages_per_account=max(40, self.options.messages_per_account // 2),
            calls_per_account=max(30, self.options.calls_per_account // 2),
        )
        history = generator.generate(options, now)
        self._install(identity.sid, history)
        self._generators[identity.sid] = generator
        for stream, rows in self._install_products(index, generator, now).rows.items():
            history.add(stream, *rows)
        changes.new("accounts", identity.sid)
        for stream, rows in history.rows.items():
            if stream == "usage_records":
                changes.new(stream, *(f"{identity.sid}/{r.record['start_date']}/{r.record['category']}" for r in rows))
            else:
                changes.new(stream, *(row.ident for row in rows))
        return identity.sid


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Building means allocating many small dicts that all stay alive: cyclic GC passes only cost time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
