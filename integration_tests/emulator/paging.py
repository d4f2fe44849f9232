"""Paging: ``PageSize``/``Page``/``PageToken``, page tokens, and the two envelope shapes.

2010-04-01 lists use a flat envelope with relative ``*_uri`` values; Monitor v1 uses a ``meta``
object with absolute ``*_url`` values. ``next_page_uri`` carries every filter of the request plus
``PageSize``, ``Page=n+1`` and ``PageToken=PA<ident of the last record>``. A token is resolved
against the current ordering, so records inserted while a client pages cause no duplicates.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from .errors import ApiError, bad_request
from .faults import PagingFault
from .limits import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from .store import Collection, Row

PAGING_KEYS = ("PageSize", "Page", "PageToken")


@dataclass(frozen=True)
class Paging:
    page_size: int
    page: int
    token: str | None


def parse_paging(query: dict[str, str], max_page_size: int = MAX_PAGE_SIZE) -> Paging:
    """Validate the paging parameters as Twilio does (400/20001 on bad values, a PageSize over the list's limit too)."""
    page_size = _integer(query, "PageSize", DEFAULT_PAGE_SIZE)
    if not 1 <= page_size <= max_page_size:
        raise bad_request(f"PageSize must be between 1 and {max_page_size}, got {page_size}")
    page = _integer(query, "Page", 0)
    if page < 0:
        raise bad_request(f"Page must not be negative, got {page}")
    token = query.get("PageToken") or None
    if page > 0 and token is None:
        raise bad_request("PageToken is required for paging.")
    return Paging(page_size, page, token)


def _integer(query: dict[str, str], key: str, default: int) -> int:
    raw = query.get(key)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{key} must be an integer, got {raw!r}") from None


def encode_token(direction: str, ident: str, opaque: bool) -> str:
    """``PA<sid>``/``PB<sid>``; lists without SIDs get a base64 position instead."""
    if opaque:
        return direction + base64.urlsafe_b64encode(ident.encode()).decode()
    return direction + ident


def _decode_token(token: str, opaque: bool) -> tuple[str, str]:
    direction, rest = token[:2], token[2:]
    if direction not in ("PA", "PB") or not rest:
        raise invalid_token()
    if not opaque:
        return direction, rest
    try:
        return direction, base64.urlsafe_b64decode(rest.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_token() from None


def invalid_token() -> ApiError:
    return bad_request("Invalid PageToken", code=21481)


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_token: str | None
    previous_token: str | None


def select_page(
    collection: Collection,
    span: tuple[int, int],
    keep: Callable[[Row], bool],
    paging: Paging,
    *,
    opaque: bool = False,
) -> Page:
    """The rows of one page within ``collection.rows[span]``, and the tokens of its neighbours."""
    start, end = span
    page_size = paging.page_size
    if paging.token is None:
        rows = collection.scan(start, end, keep, page_size)
    else:
        direction, ident = _decode_token(paging.token, opaque)
        if direction == "PA":
            position = collection.index_after(ident)
            if position is None:
                raise invalid_token()
            rows = collection.scan(max(start, position), end, keep, page_size)
        else:
            position = collection.index_of(ident)
            if position is None:
                raise invalid_token()
            rows = collection.scan_backwards(start, min(end, position), keep, page_size)
    next_token = previous_token = None
    if rows:
        after_last = collection.index_after(rows[-1].ident)
        if collection.scan(max(start, after_last), end, keep, 1):
            next_token = encode_token("PA", rows[-1].ident, opaque)
        if paging.page > 0:
            previous_token = encode_token("PB", rows[0].ident, opaque)
    return Page(rows, next_token, previous_token)


def misbehaving(page: Page, paging: Paging, fault: PagingFault | None, opaque: bool = False) -> Page:
    """The page with the next-page token a Twilio whose paging does not move forward gives it (see ``Faults``)."""
    if fault is PagingFault.STUCK and page.next_token and paging.token:
        return replace(page, next_token=paging.token)  # the token asked with: this page again
    if fault is PagingFault.ENDLESS and page.next_token is None:
        if page.rows:  # past the last record: an empty page...
            return replace(page, next_token=encode_token("PA", page.rows[-1].ident, opaque))
        return replace(page, next_token=paging.token)  # ...that links to itself (an empty first page links nowhere)
    return page


def _page_uri(path: str, filters: list[tuple[str, str]], page_size: int, page: int, token: str | None) -> str:
    pairs = [*filters, ("PageSize", str(page_size)), ("Page", str(page))]
    if token:
        pairs.append(("PageToken", token))
    return f"{path}?{urlencode(pairs)}"


def list_envelope(
    path: str,
    list_key: str,
    records: list[dict[str, Any]],
    filters: list[tuple[str, str]],
    paging: Paging,
    page: Page,
    next_host: str | None = None,
) -> dict[str, Any]:
    """The 2010-04-01 envelope. ``next_host`` (a fault) makes ``next_page_uri`` absolute on another host."""
    size, number = paging.page_size, paging.page
    start = number * size
    next_uri = None
    if page.next_token:
        next_uri = (next_host or "") + _page_uri(path, filters, size, number + 1, page.next_token)
    previous_uri = None
    if page.previous_token:
        previous_uri = _page_uri(path, filters, size, number - 1, page.previous_token)
    return {
        list_key: records,
        "end": start + len(records) - 1 if records else start,
        "first_page_uri": _page_uri(path, filters, size, 0, None),
        "next_page_uri": next_uri,
        "page": number,
        "page_size": size,
        "previous_page_uri": previous_uri,
        "start": start,
        "uri": _page_uri(path, filters, size, number, paging.token),
    }


def meta_envelope(
    base_url: str,
    path: str,
    key: str,
    records: list[dict[str, Any]],
    filters: list[tuple[str, str]],
    paging: Paging,
    page: Page,
    next_host: str | None = None,
) -> dict[str, Any]:
    """The Monitor v1 envelope: records under ``key`` and absolute URLs under ``meta``."""
    size, number = paging.page_size, paging.page
    next_url = None
    if page.next_token:
        next_url = (next_host or base_url) + _page_uri(path, filters, size, number + 1, page.next_token)
    previous_url = None
    if page.previous_token:
        previous_url = base_url + _page_uri(path, filters, size, number - 1, page.previous_token)
    return {
        key: records,
        "meta": {
            "first_page_url": base_url + _page_uri(path, filters, size, 0, None),
            "key": key,
            "next_page_url": next_url,
            "page": number,
            "page_size": size,
            "previous_page_url": previous_url,
            "url": base_url + _page_uri(path, filters, size, number, paging.token),
        },
    }
