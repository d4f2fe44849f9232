"""How the product hosts' incremental streams move on between two syncs (part of :meth:`~.data.Dataset.mutate`).

Per active account: new executions (with steps), call summaries (partial, if the account has Voice
Insights), verify attempts, monitor events and a conversation; and updates as Twilio makes them:
active executions end, partial summaries complete, attempts convert, conversations get a message.
Updates move ``date_updated`` to the mutation time, except call summaries (which have none: their
``processing_state`` moves). Monitor events are an audit log: never changed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from .generate_products import ProductGenerator
from .mutation import Changes, written_at
from .store import Collection, Item, Row

Read = Callable[[str, "str | None"], Collection]
Write = Callable[[str, "str | None", Row], None]


@dataclass
class ProductMutation:
    """One account's product changes at ``now``; ``read``/``write`` reach the dataset's truth by (stream, parent)."""

    generator: ProductGenerator
    read: Read
    write: Write
    now: int
    rng: random.Random
    changes: Changes

    def run(self, voice_insights: bool) -> None:
        self.executions()
        if voice_insights:
            self.call_summaries()
        self.verify_attempts()
        self.monitor_events()
        self.conversations()

    def _put(self, stream: str, parent: str | None, row: Row, *, new: bool) -> None:
        self.write(stream, parent, row)
        (self.changes.new if new else self.changes.changed)(stream, row.ident)

    def executions(self) -> None:
        now, rng = self.now, self.rng
        flows = list(self.read("flows", None))
        for flow in flows:
            active = [row for row in self.read("executions", flow.ident) if row.record["status"] == "active"]
            for row in active[:2]:
                record = dict(row.record, status="ended")
                ended = Row(Item(row.item.account_sid, record, row.item.parent), row.ident, row.sort_epoch, row.times)
                self._put("executions", flow.ident, _updated(ended, now), new=False)
        for flow in flows[:1]:
            for _ in range(2):
                execution, steps = self.generator.execution(rng, flow, now - rng.randint(0, 120), now)
                self._put("executions", flow.ident, written_at(execution, now), new=True)
                for step in steps:
                    self._put("step", execution.ident, step, new=True)

    def call_summaries(self) -> None:
        now, rng = self.now, self.rng
        for row in self.read("call_summaries", None):
            if row.record["processing_state"] == "partial":
                record = dict(row.record, processing_state="complete")
                complete = Row(Item(row.item.account_sid, record), row.ident, row.sort_epoch, row.times)
                self._put("call_summaries", None, complete, new=False)
        for _ in range(3):
            summary = self.generator.call_summary(rng, now - rng.randint(60, 600), now)
            self._put("call_summaries", None, summary, new=True)

    def verify_attempts(self) -> None:
        now, rng = self.now, self.rng
        recent = [
            row
            for row in self.read("verify_attempts", None)
            if row.record["conversion_status"] == "unconverted" and now - row.sort_epoch < 2 * 3600
        ]
        for row in recent[:2]:
            record = dict(row.record, conversion_status="converted")
            converted = Row(Item(row.item.account_sid, record), row.ident, row.sort_epoch, row.times)
            self._put("verify_attempts", None, _updated(converted, now), new=False)
        services = [row.ident for row in self.read("verify_services", None)]
        for _ in range(3):
            attempt = self.generator.verify_attempt(rng, now - rng.randint(0, 120), now, services)
            self._put("verify_attempts", None, attempt, new=True)

    def monitor_events(self) -> None:
        for _ in range(2):
            event = self.generator.monitor_event(self.rng, self.now - self.rng.randint(0, 60))
            self._put("monitor_events", None, event, new=True)

    def conversations(self) -> None:
        now, rng = self.now, self.rng
        users = list(self.read("users", None))
        services = list(self.read("services", None))
        service_sid = services[-1].ident if services else None
        for conversation in list(self.read("conversations", None))[:2]:
            messages = self.read("conversation_messages", conversation.ident)
            participants = list(self.read("conversation_participants", conversation.ident))
            if not participants:
                continue
            message = self.generator.message(rng, conversation.ident, len(messages), now, rng.choice(participants))
            self._put("conversation_messages", conversation.ident, message, new=True)
            self._put("conversations", None, _updated(conversation, now), new=False)
            for user in users:  # a user's view of the conversation moves with it
                if (mirror := self.read("user_conversations", user.ident).get(conversation.ident)) is not None:
                    self._put("user_conversations", user.ident, _updated(mirror, now), new=False)
        created = self.generator.conversation(rng, now - rng.randint(0, 120), now, service_sid or "", users)
        for stream, rows in created.items():
            for row in rows:
                self._put(stream, row.item.parent, row, new=True)


def _updated(row: Row, now: int) -> Row:
    """``written_at`` for rows whose ``date_updated`` is also a filter time."""
    stamped = written_at(row, now)
    times = {**stamped.times, "date_updated": now}
    return Row(stamped.item, stamped.ident, stamped.sort_epoch, times)
