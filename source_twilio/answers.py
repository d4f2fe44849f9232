"""Twilio's answers as the connector reads them: the parsed body (once per answer), Twilio's error code and
message, which account a URL names, and what kind of refusal a 4xx is. No CDK: ``check`` uses it too."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

import orjson
import requests

ACCOUNT_IN_PATH = re.compile(r"/Accounts/(AC[0-9a-fA-F]{32})")
RETENTION_CODE = 20004

_PARSED_BODY = "_twilio_json"
_BODY_SIZE = "_twilio_body_size"


class ErrorKind(str, Enum):
    REFUSED = "refused"  # 401/403: the credentials, or the account
    RETENTION = "retention"  # the range reaches back past what Twilio keeps
    TOO_MANY_RESULTS = "too_many_results"  # Monitor: the query matches more than 10,000 records
    OTHER = "other"


class TwilioApiError(Exception):
    """A 4xx answer the stream has to decide about: a refusal, a range too old or too wide."""

    def __init__(self, response: requests.Response) -> None:
        self.status = response.status_code
        self.code, self.twilio_message = twilio_error(response)
        self.account_sid = account_in(response.request.url if response.request else None)
        self.kind = error_kind(self.status, self.code, self.twilio_message)
        super().__init__(describe(response))


def error_kind(status: int, code: Any, message: str) -> ErrorKind:
    if status in (401, 403):
        return ErrorKind.REFUSED
    if status == 400 and code == RETENTION_CODE:
        return ErrorKind.RETENTION
    if status == 400 and re.search(r"\b10,?000\b", message or "") and "result" in (message or "").lower():
        return ErrorKind.TOO_MANY_RESULTS
    return ErrorKind.OTHER


BODY_CHUNK_BYTES = 1 << 20


def read_body(response: requests.Response) -> None:
    """The whole body into ``response.content``, as requests reads it (its errors mapped to its own, which the CDK
    retries), but a megabyte at a time: requests' 10 KB took a hundred trips through urllib3 and http.client for a
    page of 1,000 records, about 2 ms of CPU a page more when read alone."""
    if response._content is False and not response._content_consumed and response.raw is not None:
        response._content = b"".join(response.iter_content(BODY_CHUNK_BYTES))
    response._content_consumed = True


def json_body(response: requests.Response) -> Any:
    """The parsed body, parsed at most once per response (the error handler checks it before the stream reads it)."""
    if not hasattr(response, _PARSED_BODY):
        setattr(response, _BODY_SIZE, len(response.content))
        setattr(response, _PARSED_BODY, orjson.loads(response.content))  # several times faster than json
        if response.ok:
            response._content = b""  # the parsed page is all that is read from here on: free the raw one
    return getattr(response, _PARSED_BODY)


def body_size(response: requests.Response) -> int:
    """The size in bytes of the answer's body, also once it is parsed and freed."""
    return getattr(response, _BODY_SIZE, None) or len(response.content or b"")


def twilio_error(response: requests.Response) -> tuple[Any, str]:
    """Twilio's error code and message from an error body, or (None, a short excerpt) for other bodies."""
    try:
        body = json_body(response)
    except ValueError:
        excerpt = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text or ""))[:120].strip()
        return None, excerpt or (response.reason or "no body")
    if isinstance(body, dict):
        return body.get("code"), str(body.get("message") or body.get("detail") or body.get("title") or "")
    return None, ""


def account_in(url: str | None) -> str | None:
    match = ACCOUNT_IN_PATH.search(url or "")
    return match.group(1) if match else None


def describe(response: requests.Response) -> str:
    """'HTTP 400, Twilio code 20004: Date range ...' - for messages and logs (URLs carry no secrets here)."""
    code, message = twilio_error(response)
    code_part = f", Twilio code {code}" if code is not None else ""
    more = f" (https://www.twilio.com/docs/errors/{code})" if code is not None else ""
    return f"HTTP {response.status_code}{code_part}: {message or response.reason}{more}"


def request_path(response: requests.Response) -> str:
    url = response.request.url if response.request is not None else response.url
    return requests.utils.urlparse(url).path if url else "?"
