"""Following Twilio's next-page links, and never to a host the credentials are not meant for.

The 2010-04-01 API gives a relative ``next_page_uri`` (null on the last page); Monitor and the other v1
APIs give an absolute ``meta.next_page_url``. Both carry every filter of the first request plus the
``PageToken``, so the next request is that URL as it is, with no parameters of ours added.

A link is followed only if it can lead past the page it came from (``stalls``): Twilio has served links that
repeat the page's own ``PageToken`` (twilio-php#914) and empty pages that keep a link (twilio-csharp#489), and a
client following them pages forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

NEXT_URL = "next_url"


def next_page_url(body: Any, base_url: str, allowed_origins: Iterable[str], stream_name: str) -> str | None:
    """The absolute URL of the next page, or None on the last one; refuses links to any other host."""
    if not isinstance(body, Mapping):
        return None
    meta = body.get("meta")
    link = meta.get("next_page_url") if isinstance(meta, Mapping) else body.get("next_page_uri")
    if not link:
        return None
    try:
        url = urljoin(base_url, link)
        parts = urlsplit(url)
    except ValueError as error:
        raise AirbyteTracedException(
            message=f"Stream {stream_name}: Twilio's next-page link {str(link)[:200]!r} is not a URL ({error}).",
            internal_message=f"malformed next page link: {error}",
            failure_type=FailureType.system_error,
        ) from None
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if origin not in set(allowed_origins):
        raise AirbyteTracedException(
            message=(
                f"Stream {stream_name}: Twilio's next-page link points to {origin}, which is not a Twilio host this "
                "connector sends credentials to; stopped without following it."
            ),
            internal_message=f"next page link to unexpected origin {origin}",
            failure_type=FailureType.system_error,
        )
    return url


def stalls(asked: str, link: str, records: int) -> bool:
    """Whether a next-page link cannot lead past the page asked for at ``asked``, which held ``records`` records: it
    comes from an empty page (Twilio's token names the record the next page starts after, and an empty page has
    none), names the page itself, or carries the very ``PageToken`` the page was asked with."""
    if records == 0:
        return True
    asked_parts, link_parts = urlsplit(asked), urlsplit(link)
    asked_query, link_query = parse_qs(asked_parts.query), parse_qs(link_parts.query)
    if asked_parts.path == link_parts.path and asked_query == link_query:
        return True
    token = asked_query.get("PageToken")
    return token is not None and link_query.get("PageToken") == token


def is_whole_page(body: Any, asked: str, records: int) -> bool:
    """Whether a page holds as many records as a page may (Twilio's ``page_size``, else the ``PageSize`` asked for):
    the list may go on past it."""
    meta = body.get("meta") if isinstance(body, Mapping) else None
    envelope = meta if isinstance(meta, Mapping) else body if isinstance(body, Mapping) else {}
    size = envelope.get("page_size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        asked_size = parse_qs(urlsplit(asked).query).get("PageSize", [""])[0]
        size = int(asked_size) if asked_size.isdigit() else None
    return size is not None and records >= size


def records_of(body: Any, list_key: str) -> list[Any] | None:
    """The records of a page, under ``meta.key`` when Monitor names it, else under the list key; None if absent."""
    if not isinstance(body, Mapping):
        return None
    meta = body.get("meta")
    key = meta.get("key", list_key) if isinstance(meta, Mapping) else list_key
    records = body.get(key)
    return records if isinstance(records, list) else None
