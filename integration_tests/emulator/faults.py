"""Fault injection: what goes wrong with a request, decided by a seeded RNG so runs repeat.

Each API request draws one number; the probabilities are stacked in a fixed order, so faults
are mutually exclusive and their rates add up (they must total at most 1). Persistent faults are
not drawn: a request a :class:`PersistentFault` rule matches always gets that rule's error. Control
endpoints (``/_emulator/*``) never see faults.
"""

from __future__ import annotations

import enum
import random
import re
import threading
from dataclasses import dataclass, fields
from urllib.parse import unquote_plus


class Fault(enum.Enum):
    NONE = "none"
    PERSISTENT = "persistent"
    THROTTLE_429 = "429"
    SERVER_ERROR_500 = "500"
    UNAVAILABLE_503 = "503"
    DROP = "drop"
    TRUNCATE = "truncate"
    SLOW = "slow"
    TRANSIENT_401 = "transient_401"
    HTML = "html"


class PagingFault(enum.Enum):
    """A list whose next-page links do not move forward (see ``Faults.stuck_page_token``, ``Faults.endless_pages``)."""

    STUCK = "stuck"
    ENDLESS = "endless"


INTERNAL_ERROR = "An internal server error has occurred"

TWILIO_MESSAGES = {
    20001: "Bad request",
    20003: "Authenticate",
    20403: "403 Forbidden",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: INTERNAL_ERROR,
    20503: "Service Unavailable",
}
"""The usual message of a Twilio error code, for rules given without one (the command line); other
codes get ``Bad request`` (4xx) or the internal-error text (5xx)."""


@dataclass(frozen=True)
class PersistentFault:
    """A request Twilio keeps refusing the same way: e.g. one account's token revoked for one query.

    ``path`` is a regex searched in the request path; ``query`` (optional) one searched in the raw
    query string, URL-decoded (``DateSent>=2026-05-01``, spaces for ``+``). A matching request gets the
    Twilio JSON error ``{"code": code, "message": message, "status": status, ...}`` with that status.
    """

    path: str
    query: str | None = None
    status: int = 500
    code: int = 20500
    message: str = INTERNAL_ERROR

    def __post_init__(self) -> None:
        re.compile(self.path)
        if self.query is not None:
            re.compile(self.query)
        if not 400 <= self.status <= 599:
            raise ValueError(f"a persistent fault answers an error status (400..599), not {self.status}")

    @classmethod
    def parse(cls, text: str) -> PersistentFault:
        """``STATUS:CODE:PATH_REGEX[?QUERY_REGEX]``, as the command line takes it.

        The first ``?`` not written ``\\?`` or ``(?`` splits the path regex from the query regex, so a
        ``?`` quantifier cannot appear in the path regex (paths hold no ``?`` anyway). The message is
        the code's usual one (``Authenticate`` for 20003).
        """
        try:
            status, code, rest = text.split(":", 2)
            status_number, code_number = int(status), int(code)
        except ValueError:
            raise ValueError(f"expected STATUS:CODE:PATH_REGEX[?QUERY_REGEX], got {text!r}") from None
        split = next((i for i, c in enumerate(rest) if c == "?" and (i == 0 or rest[i - 1] not in "\\(")), None)
        path, query = (rest, None) if split is None else (rest[:split], rest[split + 1 :])
        message = TWILIO_MESSAGES.get(code_number, INTERNAL_ERROR if status_number >= 500 else "Bad request")
        return cls(path, query, status_number, code_number, message)

    def matches(self, path: str, decoded_query: str) -> bool:
        if not re.search(self.path, path):
            return False
        return self.query is None or re.search(self.query, decoded_query) is not None


@dataclass(frozen=True)
class Faults:
    """Fault switches; every probability defaults to 0 (a well-behaved Twilio).

    - ``rate_429``: 429 ``{"code": 20429, ...}`` as if the account's concurrency limit were hit.
    - ``rate_500`` / ``rate_503``: JSON 500 (code 20500) / 503 (code 20503).
    - ``rate_drop``: the connection is closed without any response.
    - ``rate_truncate``: headers announce the full Content-Length, half the body follows, then close.
    - ``rate_slow``: the answer comes after ``slow_seconds`` (meant to exceed the client's timeout).
    - ``rate_transient_401``: 401 code 20003 although the credentials are good (CloudFront-style).
    - ``rate_html``: a 502 or 503 HTML error page (``text/html``), as a CDN in front of Twilio sends.
    - ``retry_after``: seconds for a ``Retry-After`` header on every 429 (none when None).
    - ``persistent``: :class:`PersistentFault` rules; the first that matches a request answers it,
      every time.
    - ``persistent_failure_path``: a regex; shorthand for one more rule: matching paths always get
      500 code 20500 (checked after ``persistent``).
    - ``foreign_next_page_host``: ``next_page_uri``/``next_page_url`` point at this other host.
    - ``stuck_page_token``: a regex; on matching lists, a page asked for with a ``PageToken`` links to the next page
      with that same token, so the link gives this page again, forever (Twilio's helper libraries guard against a
      server repeating the current token: twilio-php#914, 2026).
    - ``endless_pages``: a regex; on matching lists, the last page links on (past its last record), and a page with
      no records links to itself with the next ``Page`` number, forever (twilio-csharp#489).
    - ``seed``: seeds the draws.
    """

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    rate_drop: float = 0.0
    rate_truncate: float = 0.0
    rate_slow: float = 0.0
    slow_seconds: float = 5.0
    rate_transient_401: float = 0.0
    rate_html: float = 0.0
    retry_after: float | None = None
    persistent: tuple[PersistentFault, ...] = ()
    persistent_failure_path: str | None = None
    foreign_next_page_host: str | None = None
    stuck_page_token: str | None = None
    endless_pages: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        rates = {f.name: getattr(self, f.name) for f in fields(self) if f.name.startswith("rate_")}
        if bad := [name for name, rate in rates.items() if not 0.0 <= rate <= 1.0]:
            raise ValueError(f"fault rates must lie in [0, 1]: {', '.join(bad)}")
        if sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError("fault rates must add up to at most 1")
        for pattern in (self.persistent_failure_path, self.stuck_page_token, self.endless_pages):
            if pattern is not None:
                re.compile(pattern)
        if bad := [rule for rule in self.persistent if not isinstance(rule, PersistentFault)]:
            raise ValueError(f"persistent takes PersistentFault rules, got {bad!r}")

    @property
    def persistent_rules(self) -> tuple[PersistentFault, ...]:
        """``persistent``, then the rule ``persistent_failure_path`` stands for."""
        shorthand = () if self.persistent_failure_path is None else (PersistentFault(self.persistent_failure_path),)
        return (*self.persistent, *shorthand)


_ORDER = (
    ("rate_429", Fault.THROTTLE_429),
    ("rate_500", Fault.SERVER_ERROR_500),
    ("rate_503", Fault.UNAVAILABLE_503),
    ("rate_drop", Fault.DROP),
    ("rate_truncate", Fault.TRUNCATE),
    ("rate_slow", Fault.SLOW),
    ("rate_transient_401", Fault.TRANSIENT_401),
    ("rate_html", Fault.HTML),
)


class FaultInjector:
    """Draws the fault of each request from :class:`Faults` with its own seeded RNG."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()
        self._persistent = faults.persistent_rules
        self._active = [(getattr(faults, name), fault) for name, fault in _ORDER if getattr(faults, name) > 0]

    def persistent_fault(self, path: str, query_string: str = "") -> PersistentFault | None:
        """The first persistent rule matching a request to ``path`` with ``query_string`` (raw, as sent)."""
        if not self._persistent:
            return None
        decoded = unquote_plus(query_string)
        return next((rule for rule in self._persistent if rule.matches(path, decoded)), None)

    def paging_fault(self, path: str) -> PagingFault | None:
        """How the lists at ``path`` link their pages, if not as Twilio should (``stuck_page_token`` first)."""
        for pattern, fault in (
            (self.faults.stuck_page_token, PagingFault.STUCK),
            (self.faults.endless_pages, PagingFault.ENDLESS),
        ):
            if pattern is not None and re.search(pattern, path):
                return fault
        return None

    def draw(self) -> tuple[Fault, float]:
        """The drawn fault of a request, plus a uniform number for choices within the fault."""
        if not self._active:
            return Fault.NONE, 0.0
        with self._lock:
            roll, detail = self._rng.random(), self._rng.random()
        threshold = 0.0
        for rate, fault in self._active:
            threshold += rate
            if roll < threshold:
                return fault, detail
        return Fault.NONE, detail


HTML_ERROR_PAGE = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">
<HTML><HEAD><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=iso-8859-1">
<TITLE>ERROR: The request could not be satisfied</TITLE>
</HEAD><BODY>
<H1>{status} ERROR</H1>
<H2>The request could not be satisfied.</H2>
<HR noshade size="1px">
{reason}
<BR clear="all">
<HR noshade size="1px">
<PRE>
Generated by cloudfront (CloudFront)
Request ID: emulated-{status}
</PRE>
</BODY></HTML>
"""


def html_error_page(status: int) -> bytes:
    reason = (
        "CloudFront wasn't able to connect to the origin."
        if status == 502
        else "The server is temporarily unable to service your request."
    )
    return HTML_ERROR_PAGE.format(status=status, reason=reason).encode("iso-8859-1")
