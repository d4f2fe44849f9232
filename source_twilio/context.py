"""What the streams of one sync share: the accounts, Twilio's clock and the sync's time frame, one HTTP session
with its per-account limit and outage watch, the retention limits learned, the parents' lists kept for their
children, and the worker pools."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

import requests

from source_twilio.accounts import AccountDirectory
from source_twilio.clock import TwilioClock
from source_twilio.concurrency import AccountLimitedAdapter, AccountLimiter
from source_twilio.config import TwilioConfig
from source_twilio.credentials import AccountCredentials
from source_twilio.definitions import Host, StreamDefinition
from source_twilio.emission import SETTLE
from source_twilio.health import Outage
from source_twilio.prefetch import THREADS as EARLY_THREADS
from source_twilio.prefetch import Prefetcher
from source_twilio.retention import RetentionLimits
from source_twilio.sharing import SharedLists
from source_twilio.transport import TwilioSession
from source_twilio.windows import floor_to_second
from source_twilio.workers import WorkerPool

if TYPE_CHECKING:
    from source_twilio.streams import TwilioStream

logger = logging.getLogger("airbyte")


@dataclass(frozen=True)
class SyncFrame:
    """The sync's time, by Twilio's clock: windows end at ``start``; cursors stop at ``horizon`` (``SETTLE``
    earlier), before which every record Twilio stamped was visible when the sync began."""

    start: datetime
    horizon: datetime


@dataclass
class SyncContext:
    config: TwilioConfig
    authenticator: AccountCredentials
    accounts: AccountDirectory = field(init=False)
    clock: TwilioClock = field(default_factory=TwilioClock)
    outage: Outage = field(default_factory=Outage)
    shared: SharedLists = field(default_factory=SharedLists)
    record_lines: bool = False  # streams read by the CDK hand their records over as ``output.RecordLines``
    prefetch: Prefetcher | None = None  # in a read: starts the next streams early
    _warned: set[str] = field(default_factory=set, init=False)
    _frame: SyncFrame | None = field(default=None, init=False)
    _frame_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @cached_property
    def limiter(self) -> AccountLimiter:
        return AccountLimiter(ceiling=min(self.config.per_account, self.config.num_workers))

    @cached_property
    def session(self) -> requests.Session:
        session = TwilioSession()
        adapter = AccountLimitedAdapter(
            self.limiter, self.config.account_sid, self.config.num_workers, self.clock, self.outage
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    @cached_property
    def retention(self) -> RetentionLimits:
        return RetentionLimits(self.clock)

    @cached_property
    def slice_pool(self) -> WorkerPool:
        return WorkerPool(self.config.num_workers + EARLY_THREADS, "slice")

    @cached_property
    def child_pool(self) -> WorkerPool:
        return WorkerPool(self.config.num_workers, "child")

    @property
    def frame(self) -> SyncFrame:
        """Fixed at the first call, once Twilio has answered (the account list): its clock, not this machine's."""
        with self._frame_lock:
            if self._frame is None:
                self.accounts.readable()
                if not self.clock.synchronised:
                    logger.warning("Twilio's answers carry no Date header: timing the sync by this machine's clock.")
                start = floor_to_second(self.clock.now())
                self._frame = SyncFrame(start, start - SETTLE)
            return self._frame

    def base_url(self, host: Host) -> str:
        return self.config.base_url(host)

    def warn_once(self, message: str) -> None:
        with self._frame_lock:
            if message in self._warned:
                return
            self._warned.add(message)
        logger.warning(message)

    def new_stream(self, definition: StreamDefinition) -> TwilioStream:
        from source_twilio.streams import TwilioStream

        return TwilioStream(definition, self)

    def close(self) -> None:
        """Stops the workers once the sync is over (they are daemons: nothing waits for them)."""
        if self.prefetch is not None:
            self.prefetch.close()
        for pool in ("slice_pool", "child_pool"):
            if pool in vars(self):
                vars(self)[pool].close()
        self.shared.close()
