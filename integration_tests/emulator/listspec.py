"""What one list endpoint understands: its filters, its retention and its page-size limit.

The 2010-04-01 lists (``api.py``) and the product hosts' lists (``products.py``) are both
described by a :class:`ListSpec`; ``TwilioApi._list`` answers any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .filters import TimeParam
from .limits import MAX_PAGE_SIZE

if TYPE_CHECKING:
    from .data import DatasetOptions


@dataclass(frozen=True)
class Retention:
    """How far back a list reaches (in days, per dataset options), and what a filter reaching further back gets."""

    days: Callable[[DatasetOptions], int]
    keys: frozenset[str]
    code: int
    message: str
    status: int = 400


def monitor_retention(days: int, what: str) -> Retention:
    """Monitor's fixed retention (alerts, events): a ``StartDate``/``EndDate`` older than ``days`` is a 400, 20001."""
    return Retention(
        lambda _: days,
        frozenset({"StartDate", "EndDate"}),
        20001,
        f"StartDate and EndDate must be within the last {days} days: "
        f"queries for {what} older than {days} days are not supported",
    )


@dataclass(frozen=True)
class ListSpec:
    """How one list endpoint filters: time keys, exact-match keys (query key -> record field), defaults.

    ``max_page_size`` is the largest ``PageSize`` the endpoint takes (a larger one is 400/20001).
    """

    stream: str
    list_key: str
    time_params: tuple[TimeParam, ...] = ()
    exact: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    retention: Retention | None = None
    max_page_size: int = MAX_PAGE_SIZE
