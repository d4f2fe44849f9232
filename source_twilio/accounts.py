"""The accounts a sync reads: the main account and the subaccounts it owns, listed once per sync, and what to do
with an account Twilio starts refusing.

A refusal (401/403 after ``errors.AUTH_RETRY_SECONDS`` of retries) is judged once per account, by asking Twilio
about it: a subaccount Twilio now reports suspended or closed is skipped, in every stream, with a warning (its
cursor stays, so a later sync resumes it). A list refused for an account still reported active (or one Twilio
will not describe) is a failure of that list: its stream ends incomplete, naming the account, rather than short;
the account's other lists are still read (a key may lack the permission for one list only). A list refused for
the main account is a config error: the credentials cannot read it. An API key of the main account reaches the main account only
(Twilio: "Main account API Keys only grant access to main account resources"), so with one the subaccounts are
not read at all, and a warning names them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from types import TracebackType
from typing import Any

from source_twilio.timeutil import parse_iso_datetime

logger = logging.getLogger("airbyte")

ACTIVE = "active"
LISTED_IN_A_WARNING = 10


class Refusal(str, Enum):
    SKIP = "skip"  # suspended or closed: not a failure
    FAIL = "fail"  # Twilio refuses an account it lists as active: the sync is incomplete
    CREDENTIALS = "credentials"  # the main account: the credentials no longer work


@dataclass(frozen=True)
class Verdict:
    refusal: Refusal
    reason: str  # what Twilio says of the account, for the message

    def message(self, detail: str) -> str:
        """What a refused list of the account means, with Twilio's answer to that list (``detail``)."""
        if self.refusal is Refusal.SKIP:
            return (
                f"Twilio refuses to serve its resources ({detail}) and {self.reason}. Its data is not read until it is "
                "active again; the other accounts are synced."
            )
        if self.refusal is Refusal.FAIL:
            return (
                f"Twilio refused to serve this list ({detail}) for over 30 seconds of retries, and {self.reason}: "
                "the list could not be read in this sync."
            )
        return detail


class AccountDirectory:
    """Lists the accounts once (lazily, thread-safe) and decides, once each, about accounts that refuse."""

    def __init__(
        self,
        main_account_sid: str,
        list_accounts: Callable[[], Iterable[Mapping[str, Any]]],
        describe_account: Callable[[str], Mapping[str, Any] | None],
        *,
        main_only: bool = False,
        selected: Callable[[str], bool] = lambda _: True,
    ) -> None:
        """``describe_account`` fetches one account's record (None if Twilio will not say); ``main_only``: the
        credentials reach the main account only; ``selected``: whether the config asks for a subaccount."""
        self.main_account_sid = main_account_sid
        self._selected = selected
        self._list_accounts = list_accounts
        self._describe_account = describe_account
        self._main_only = main_only
        self._load_lock = threading.Lock()
        self._lock = threading.Lock()
        self._readable: list[str] | None = None
        self._failed: tuple[Exception, TracebackType | None] | None = None  # the listing's error, where it was raised
        self._verdicts: dict[str, Verdict] = {}
        self._deciding: dict[str, threading.Lock] = {}
        self._created: dict[str, datetime] = {}

    def readable(self) -> list[str]:
        """Main account first, then every active subaccount, in Twilio's order. A list that failed (after its
        retries, minutes of them) fails every stream that asks again, at once: it is asked for once per sync."""
        with self._load_lock:
            if self._failed is not None:
                error, listed_at = self._failed
                raise error.with_traceback(listed_at)  # else each raise adds its frames to the one traceback
            if self._readable is None:
                try:
                    self._readable = self._load()
                except Exception as error:
                    self._failed = (error, error.__traceback__)
                    raise
        return list(self._readable)

    def created(self, account_sid: str) -> datetime | None:
        """When the account was created: none of its records is older, so no request asks for earlier."""
        self.readable()
        return self._created.get(account_sid)

    def skipped(self, account_sid: str) -> Verdict | None:
        """The verdict on an account skipped for the rest of the sync (suspended or closed meanwhile), or None."""
        with self._lock:
            verdict = self._verdicts.get(account_sid)
        return verdict if verdict is not None and verdict.refusal is Refusal.SKIP else None

    def refused(self, account_sid: str, detail: str) -> Verdict:
        """Twilio refused a list of the account (after retries): what that means, judged once per account."""
        with self._lock:
            deciding = self._deciding.setdefault(account_sid, threading.Lock())
        with deciding:
            with self._lock:
                known = self._verdicts.get(account_sid)
            if known is not None:
                return known
            verdict = self._judge(account_sid)
            if verdict.refusal is Refusal.SKIP:  # before the verdict is seen: a stream may end on it (``skipped``)
                logger.warning(f"Skipping subaccount {account_sid}: {verdict.message(detail)}")
            with self._lock:
                self._verdicts[account_sid] = verdict
        return verdict

    def _judge(self, account_sid: str) -> Verdict:
        if account_sid == self.main_account_sid:
            return Verdict(Refusal.CREDENTIALS, "it is the main account")
        try:
            record = self._describe_account(account_sid)
        except Exception as error:  # asking is a courtesy: any trouble leaves the refusal as it was
            return Verdict(Refusal.FAIL, f"asking Twilio about the account failed too ({type(error).__name__})")
        status = record.get("status") if record else None
        if status is not None and status != ACTIVE:
            return Verdict(Refusal.SKIP, f"reports it {status}")
        return Verdict(
            Refusal.FAIL, "reports the account active" if status == ACTIVE else "does not describe the account"
        )

    def _load(self) -> list[str]:
        sids = [self.main_account_sid]
        unreachable = []
        for account in self._list_accounts():
            sid, status = account.get("sid"), account.get("status")
            created = parse_iso_datetime(account.get("date_created") or "")
            if sid and created:
                self._created[sid] = created
            if not sid or sid in sids or not self._selected(sid):
                continue
            if status != ACTIVE:
                logger.warning(
                    f"Skipping subaccount {sid} ({account.get('friendly_name')!r}): its status is {status!r}, not active."
                )
                continue
            if self._main_only:
                unreachable.append(sid)
                continue
            sids.append(sid)
        if unreachable:
            named = ", ".join(unreachable[:LISTED_IN_A_WARNING])
            more = (
                f" and {len(unreachable) - LISTED_IN_A_WARNING} more" if len(unreachable) > LISTED_IN_A_WARNING else ""
            )
            logger.warning(
                f'An API key or OAuth app of the main account reaches the main account only (Twilio: "Main account '
                f'API Keys only grant access to main account resources"; an OAuth app belongs to one account): its '
                f"{len(unreachable)} active subaccounts ({named}{more}) are not read. Use the account's Auth Token to "
                "read them."
            )
        return sids
