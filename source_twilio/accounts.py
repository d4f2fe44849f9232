"""The accounts a sync reads: the main account and the subaccounts it owns, listed once per sync."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from source_twilio.timeutil import parse_iso_datetime

logger = logging.getLogger("airbyte")

ACTIVE = "active"


class AccountDirectory:
    """Lists the accounts once (lazily, thread-safe) and remembers the ones Twilio refuses during the sync."""

    def __init__(self, main_account_sid: str, list_accounts: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        self.main_account_sid = main_account_sid
        self._list_accounts = list_accounts
        self._load_lock = threading.Lock()  # held while listing, which reads a stream that asks is_refused()
        self._lock = threading.Lock()  # guards the refusals
        self._readable: list[str] | None = None
        self._refused: dict[str, str] = {}
        self._created: dict[str, datetime] = {}

    def readable(self) -> list[str]:
        """Main account first, then every active subaccount that has not refused us, in Twilio's order."""
        with self._load_lock:
            if self._readable is None:
                self._readable = self._load()
        with self._lock:
            return [sid for sid in self._readable if sid not in self._refused]

    def refuse(self, account_sid: str, reason: str) -> None:
        """Skip an account for the rest of the sync (suspended, closed, or out of the credentials' reach)."""
        with self._lock:
            if account_sid in self._refused:
                return
            self._refused[account_sid] = reason
        logger.warning(
            f"Skipping account {account_sid}: Twilio refuses to serve its resources ({reason}). "
            "A suspended or closed subaccount, or one an API key of the main account cannot reach; "
            "the other accounts are synced."
        )

    def created(self, account_sid: str) -> datetime | None:
        """When the account was created: none of its records is older, so no request asks for earlier."""
        self.readable()
        return self._created.get(account_sid)

    def is_refused(self, account_sid: str) -> bool:
        with self._lock:
            return account_sid in self._refused

    def _load(self) -> list[str]:
        sids = [self.main_account_sid]
        for account in self._list_accounts():
            sid, status = account.get("sid"), account.get("status")
            created = parse_iso_datetime(account.get("date_created") or "")
            if sid and created:
                self._created[sid] = created
            if not sid or sid in sids:
                continue
            if status != ACTIVE:
                logger.warning(
                    f"Skipping subaccount {sid} ({account.get('friendly_name')!r}): its status is {status!r}, not active."
                )
                continue
            sids.append(sid)
        return sids
