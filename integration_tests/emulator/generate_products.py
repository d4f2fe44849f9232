"""Deterministic builders for the records of Twilio's product hosts, one account at a time.

Shaped as the OpenAPI components of conversations v1, studio v2, trunking v1, verify v2, messaging
v1, insights v1 (call summaries), monitor v1 (events) and pricing v1/v2: every property present,
ISO 8601 ``...Z`` dates, absolute ``url`` and ``links`` on the real hosts (as alerts' ``url`` is).
Randomness is seeded by (dataset seed, account slot, stream) as in ``generate.py``; the activity
streams (executions, call summaries, verify attempts, monitor events) are placed with
``generate.place`` (a recent block, day-edge instants, the rest spread over the history).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .generate import AccountGenerator, AccountHistory, FastRandom, new_sid, place, us_number
from .generate_services import ServiceRecords, dated, row
from .store import Row
from .timefmt import SECONDS_PER_DAY, iso_z

CONVERSATIONS = "https://conversations.twilio.com/v1"
STUDIO = "https://studio.twilio.com/v2"

_FIRST_NAMES = ("alice", "bob", "carol", "dan", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar")
_CHAT_LINES = (
    "Hi, I need help with my order",
    "Sure, can you share the order number?",
    "It's 48213, placed last Tuesday",
    "Thanks! It ships tomorrow.",
    "Great, thank you",
    "Is there anything else I can help with?",
)
_WIDGETS = (
    ("Trigger", "trigger"),
    ("split_on_reply", "split-based-on"),
    ("send_greeting", "send-message"),
    ("gather_input", "gather-input-on-call"),
    ("http_lookup", "make-http-request"),
    ("connect_agent", "connect-call-to"),
)


@dataclass(frozen=True)
class ProductOptions:
    """Sizes of the product hosts' data per active account (children are a few per parent).

    The main account holds ``main_account_factor`` times as many of each (flows excepted: it has as
    many, with that many times the executions), so its longer lists span several pages at the
    default page size. ``without_voice_insights`` lists the account slots (0 the
    main account, 1.. subaccounts in creation order) without Voice Insights Advanced Features: their
    call summaries answer 403 and they hold none.
    """

    conversations: int = 12
    users: int = 6
    conversation_services: int = 2
    roles: int = 4
    flows: int = 3
    executions_per_flow: int = 12
    trunks: int = 2
    verify_services: int = 2
    verify_attempts: int = 20
    messaging_services: int = 3
    call_summaries: int = 24
    monitor_events: int = 20
    main_account_factor: int = 5
    activity_history_days: int = 40
    without_voice_insights: tuple[int, ...] = (1,)

    def __post_init__(self) -> None:
        negative = [name for name, value in vars(self).items() if isinstance(value, int) and value < 0]
        if negative:
            raise ValueError(f"product options must not be negative: {', '.join(negative)}")
        if self.main_account_factor < 1:
            raise ValueError("main_account_factor must be at least 1")

    def scaled(self, is_main: bool) -> ProductOptions:
        """The sizes for one account (the main account's multiplied)."""
        if not is_main:
            return self
        factor = self.main_account_factor
        sizes = {name: value * factor for name, value in vars(self).items() if isinstance(value, int)}
        unscaled = ("main_account_factor", "activity_history_days", "flows")  # more executions per flow instead
        sizes.update({name: getattr(self, name) for name in unscaled})
        return ProductOptions(**sizes, without_voice_insights=self.without_voice_insights)


class ProductGenerator(ServiceRecords):
    """Builds one account's product records; mutations use it to add records "now"."""

    def __init__(self, account: AccountGenerator) -> None:
        self.account = account
        self.sid = account.account_sid
        self.messaging_service_sid = new_sid(self.rng("conversations/messaging_service"), "MG")

    def rng(self, stream: str) -> random.Random:
        return FastRandom(f"{self.account.seed}/{self.account.slot}/products/{stream}")

    def _instant(self, rng: random.Random, now: int) -> int:
        return rng.randint(self.account.created, max(self.account.created, now - 3 * 3600))

    def _number(self, rng: random.Random) -> str:
        numbers = self.account.numbers
        return rng.choice(numbers).e164 if numbers else us_number(rng)[0]

    def generate(self, options: ProductOptions, now: int, *, voice_insights: bool) -> AccountHistory:
        """Every product stream of this account, as of ``now`` (``options`` already scaled)."""
        history = AccountHistory()
        services = self.conversation_services(options.conversation_services, now)
        history.add("services", *services)
        default_service = services[-1].ident if services else new_sid(self.rng("services"), "IS")
        roles = self.roles(options.roles, now, default_service)
        history.add("roles", *roles)
        users = self.users(options.users, now, default_service, [r.ident for r in roles])
        history.add("users", *users)
        rng = self.rng("conversations")
        for _ in range(options.conversations):
            for stream, rows in self.conversation(rng, self._instant(rng, now), now, default_service, users).items():
                history.add(stream, *rows)
        flows = self.flows(options.flows, now)
        history.add("flows", *flows)
        rng = self.rng("executions")
        for flow in flows:
            earliest = max(flow.times["date_created"], now - options.activity_history_days * SECONDS_PER_DAY)
            for placement in place(rng, options.executions_per_flow, now=now, earliest=earliest):
                execution, steps = self.execution(rng, flow, placement.epoch, now)
                history.add("executions", execution)
                history.add("step", *steps)
        history.add("trunks", *self.trunks(options.trunks, now))
        verify_services = self.verify_services(options.verify_services, now)
        history.add("verify_services", *verify_services)
        history.add("verify_attempts", *self.verify_attempts(options, now, [s.ident for s in verify_services]))
        messaging_services, numbers = self.messaging_services(options.messaging_services, now)
        history.add("messaging_services", *messaging_services)
        history.add("messaging_service_phone_numbers", *numbers)
        if voice_insights:
            history.add("call_summaries", *self.call_summaries(options, now))
        history.add("monitor_events", *self.monitor_events(options, now))
        history.add("balance", self.balance())
        return history

    # ----- conversations.twilio.com -----

    def conversation_services(self, count: int, now: int) -> list[Row]:
        rng = self.rng("services")
        rows = []
        for index in range(count):
            sid = new_sid(rng, "IS")
            created = self._instant(rng, now)
            url = f"{CONVERSATIONS}/Services/{sid}"
            links = {name: f"{url}/{path}" for name, path in _SERVICE_LINKS.items()}
            name = "Default Conversations Service" if index == count - 1 else f"support-{index + 1}"
            record = {
                "account_sid": self.sid,
                "sid": sid,
                "friendly_name": name,
                **dated(created, created + rng.randint(0, 86_400)),
                "url": url,
                "links": links,
            }
            rows.append(row(self.sid, record, sid, created, date_created=created))
        return rows

    def roles(self, count: int, now: int, service_sid: str) -> list[Row]:
        rng = self.rng("roles")
        rows = []
        for index in range(count):
            sid = new_sid(rng, "RL")
            created = self._instant(rng, now)
            kind = "service" if index % 2 == 0 else "conversation"
            permissions = ["addParticipant", "sendMessage", "leaveConversation"]
            if kind == "service":
                permissions = ["createConversation", "joinConversation", "editOwnUserInfo"]
            record = {
                "sid": sid,
                "account_sid": self.sid,
                "chat_service_sid": service_sid,
                "friendly_name": f"{kind} {('user', 'admin')[index % 2]} {index + 1}",
                "type": kind,
                "permissions": permissions,
                **dated(created, created),
                "url": f"{CONVERSATIONS}/Roles/{sid}",
            }
            rows.append(row(self.sid, record, sid, created, date_created=created))
        return rows

    def users(self, count: int, now: int, service_sid: str, role_sids: list[str]) -> list[Row]:
        rng = self.rng("users")
        rows = []
        for index in range(count):
            sid = new_sid(rng, "US")
            created = self._instant(rng, now)
            url = f"{CONVERSATIONS}/Users/{sid}"
            record = {
                "sid": sid,
                "account_sid": self.sid,
                "chat_service_sid": service_sid,
                "role_sid": rng.choice(role_sids) if role_sids else None,
                "identity": f"{_FIRST_NAMES[index % len(_FIRST_NAMES)]}{index // len(_FIRST_NAMES) or ''}@example.com",
                "friendly_name": _FIRST_NAMES[index % len(_FIRST_NAMES)].title(),
                "attributes": "{}",
                "is_online": rng.choice((True, False, None)),
                "is_notifiable": rng.choice((True, None)),
                **dated(created, created + rng.randint(0, 30 * 86_400)),
                "url": url,
                "links": {"user_conversations": f"{url}/Conversations", "user_bindings": f"{url}/Bindings"},
            }
            rows.append(row(self.sid, record, sid, created, date_created=created))
        return rows

    def conversation(
        self, rng: random.Random, created: int, now: int, service_sid: str, users: list[Row]
    ) -> dict[str, list[Row]]:
        """A conversation with its participants (some of them users), messages and user conversations."""
        sid = new_sid(rng, "CH")
        url = f"{CONVERSATIONS}/Conversations/{sid}"
        members = rng.sample(users, min(len(users), rng.randint(1, 3)))
        sms = rng.random() < 0.4 or not members
        participants = []
        for index, user in enumerate([None, *members] if sms else members):
            joined = created + index * rng.randint(1, 60)
            participants.append(self.participant(rng, sid, joined, user))
        messages = []
        count = rng.randint(0, 6)
        last_message = created
        for index in range(count):
            last_message = min(now - 1, last_message + rng.randint(5, 900))
            author = rng.choice(participants)
            messages.append(self.message(rng, sid, index, last_message, author))
        updated = max(last_message, created)
        state = "active" if now - updated < 3 * 86_400 else rng.choice(("inactive", "closed", "active"))
        timers = {} if state != "active" else {"date_inactive": iso_z(updated + 3 * 86_400)}
        record = {
            "account_sid": self.sid,
            "chat_service_sid": service_sid,
            "messaging_service_sid": self.messaging_service_sid,
            "sid": sid,
            "friendly_name": f"Support request {rng.randint(1000, 9999)}",
            "unique_name": None,
            "attributes": "{}",
            "state": state,
            **dated(created, updated),
            "timers": timers,
            "url": url,
            "links": {
                "participants": f"{url}/Participants",
                "messages": f"{url}/Messages",
                "webhooks": f"{url}/Webhooks",
            },
            "bindings": None,
        }
        conversation = row(self.sid, record, sid, created, date_created=created, date_updated=updated)
        user_rows = []
        for user, participant in zip(members, participants[1:] if sms else participants, strict=True):
            user_rows.append(self.user_conversation(conversation, user, participant, len(messages)))
        return {
            "conversations": [conversation],
            "conversation_participants": participants,
            "conversation_messages": messages,
            "user_conversations": user_rows,
        }

    def participant(self, rng: random.Random, conversation_sid: str, joined: int, user: Row | None) -> Row:
        sid = new_sid(rng, "MB")
        binding = None
        if user is None:
            binding = {"type": "sms", "address": us_number(rng)[0], "proxy_address": self._number(rng)}
        record = {
            "account_sid": self.sid,
            "conversation_sid": conversation_sid,
            "sid": sid,
            "identity": None if user is None else user.record["identity"],
            "attributes": "{}",
            "messaging_binding": binding,
            "role_sid": None if user is None else user.record["role_sid"],
            **dated(joined, joined),
            "url": f"{CONVERSATIONS}/Conversations/{conversation_sid}/Participants/{sid}",
            "last_read_message_index": None,
            "last_read_timestamp": None,
        }
        return row(self.sid, record, sid, joined, conversation_sid, date_created=joined)

    def message(self, rng: random.Random, conversation_sid: str, index: int, sent: int, author: Row) -> Row:
        sid = new_sid(rng, "IM")
        url = f"{CONVERSATIONS}/Conversations/{conversation_sid}/Messages/{sid}"
        by = author.record
        record = {
            "account_sid": self.sid,
            "conversation_sid": conversation_sid,
            "sid": sid,
            "index": index,
            "author": by["identity"] or by["messaging_binding"]["address"],
            "body": _CHAT_LINES[index % len(_CHAT_LINES)],
            "media": None,
            "attributes": "{}",
            "participant_sid": by["sid"],
            **dated(sent, sent),
            "url": url,
            "delivery": None,
            "links": {"delivery_receipts": f"{url}/Receipts", "channel_metadata": f"{url}/ChannelMetadata"},
            "content_sid": None,
        }
        # Oldest first by index: the served order is built from the sort key at request time.
        return row(self.sid, record, sid, sent, conversation_sid, date_created=sent)

    def user_conversation(self, conversation: Row, user: Row, participant: Row, messages: int) -> Row:
        chat = conversation.record
        user_sid, conversation_sid = user.ident, conversation.ident
        url = f"{CONVERSATIONS}/Users/{user_sid}/Conversations/{conversation_sid}"
        record = {
            "account_sid": self.sid,
            "chat_service_sid": chat["chat_service_sid"],
            "conversation_sid": conversation_sid,
            "unread_messages_count": messages,
            "last_read_message_index": None,
            "participant_sid": participant.ident,
            "user_sid": user_sid,
            "friendly_name": chat["friendly_name"],
            "conversation_state": chat["state"],
            "timers": chat["timers"],
            "attributes": "{}",
            "date_created": chat["date_created"],
            "date_updated": chat["date_updated"],
            "created_by": "system",
            "notification_level": "default",
            "unique_name": chat["unique_name"],
            "url": url,
            "links": {
                "participant": f"{CONVERSATIONS}/Conversations/{conversation_sid}/Participants/{participant.ident}",
                "conversation": f"{CONVERSATIONS}/Conversations/{conversation_sid}",
            },
        }
        created = conversation.times["date_created"]
        return row(self.sid, record, conversation_sid, created, user_sid, date_created=created)

    # ----- studio.twilio.com -----

    def flows(self, count: int, now: int) -> list[Row]:
        rng = self.rng("flows")
        rows = []
        for index in range(count):
            sid = new_sid(rng, "FW")
            # Flows predate the activity history, so every execution has its flow.
            created = rng.randint(self.account.created, max(self.account.created, now - 60 * SECONDS_PER_DAY))
            url = f"{STUDIO}/Flows/{sid}"
            revision = rng.randint(1, 12)
            states = [{"name": name, "type": kind, "transitions": [], "properties": {}} for name, kind in _WIDGETS]
            record = {
                "sid": sid,
                "account_sid": self.sid,
                "author_sid": new_sid(rng, "US"),
                "friendly_name": ("IVR", "SMS survey", "Appointment reminders", "Lead routing")[index % 4],
                "definition": {"description": "A New Flow", "states": states, "initial_state": "Trigger"},
                "status": "published" if index % 4 != 3 else "draft",
                "revision": revision,
                "commit_message": f"revision {revision}" if revision > 1 else None,
                "valid": True,
                "errors": [],
                "warnings": [],
                **dated(created, created + revision * 3600),
                "webhook_url": f"https://webhooks.twilio.com/v1/Accounts/{self.sid}/Flows/{sid}",
                "url": url,
                "links": {
                    "test_users": f"{url}/TestUsers",
                    "revisions": f"{url}/Revisions",
                    "executions": f"{url}/Executions",
                },
            }
            rows.append(row(self.sid, record, sid, created, date_created=created))
        return rows

    def execution(self, rng: random.Random, flow: Row, created: int, now: int) -> tuple[Row, list[Row]]:
        """An execution and its steps; one started in the last 30 minutes is still active."""
        sid = new_sid(rng, "FN")
        flow_sid = flow.ident
        url = f"{STUDIO}/Flows/{flow_sid}/Executions/{sid}"
        steps = []
        previous, step_time = "Trigger", created
        for name, kind in _WIDGETS[1 : 1 + rng.randint(1, 4)]:
            step_time = min(now, step_time + rng.randint(1, 120))
            steps.append(self.step(rng, flow_sid, sid, step_time, previous, name, kind))
            previous = name
        active = now - created < 1800  # Studio ends an execution once its flow completes: minutes later
        record = {
            "sid": sid,
            "account_sid": self.sid,
            "flow_sid": flow_sid,
            "contact_channel_address": us_number(rng)[0],
            "contact_sid": new_sid(rng, "FC"),
            "flow_version": flow.record["revision"],
            "context": {"flow": {"first_name": "Foo"}},
            "status": "active" if active else "ended",
            **dated(created, step_time),
            "initiated_by": new_sid(rng, "SM"),
            "url": url,
            "links": {"steps": f"{url}/Steps", "execution_context": f"{url}/Context"},
        }
        execution = row(self.sid, record, sid, created, flow_sid, date_created=created, date_updated=step_time)
        return execution, steps

    def step(
        self, rng: random.Random, flow_sid: str, execution_sid: str, at: int, previous: str, name: str, kind: str
    ) -> Row:
        sid = new_sid(rng, "FT")
        url = f"{STUDIO}/Flows/{flow_sid}/Executions/{execution_sid}/Steps/{sid}"
        record = {
            "sid": sid,
            "account_sid": self.sid,
            "flow_sid": flow_sid,
            "execution_sid": execution_sid,
            "parent_step_sid": None,
            "name": name,
            "context": {},
            "transitioned_from": previous,
            "transitioned_to": name,
            "type": kind,
            **dated(at, at),
            "url": url,
            "links": {"step_context": f"{url}/Context"},
        }
        return row(self.sid, record, sid, at, execution_sid, date_created=at)


_SERVICE_LINKS = {
    "conversations": "Conversations",
    "users": "Users",
    "roles": "Roles",
    "bindings": "Bindings",
    "configuration": "Configuration",
    "participant_conversations": "ParticipantConversations",
}
