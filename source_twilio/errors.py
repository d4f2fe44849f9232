"""How each Twilio answer is handled: retried, ignored, or turned into a message a user can act on.

Twilio's failures, by status (see ../shared/twilio-api.md sections 7-8):
- 429 (code 20429): too many concurrent requests for the account; never processed, always safe to retry.
- 5xx, dropped connections, timeouts, truncated or non-JSON bodies: transient, retried with back-off.
- 401 (code 20003): bad credentials, or a refused (suspended, closed, out-of-reach) account, but also a
  sporadic CloudFront failure: retried with back-off for at least ``AUTH_RETRY_SECONDS``, then handed to the
  stream, which asks Twilio about the account before deciding. 403 likewise.
- 400 code 20004: a date range past the account's retention; 400 "limited to 10,000 results" (Monitor): too
  wide a window. Both handed to the stream, which narrows the request (``TwilioApiError.kind``).
- 404 (code 20404): "no data" where the definition says so (usage ranges, child lists), else an error.
- other 4xx: a request Twilio will never answer; the message quotes Twilio's code and text.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import (
    BackoffStrategy,
    ErrorHandler,
    ErrorResolution,
    ResponseAction,
)

from source_twilio.answers import (
    ErrorKind,
    describe,
    error_kind,
    json_body,
    request_path,
    twilio_error,
)

LACKS_PERMISSION = 20403  # a 403 with this code: the credentials (a restricted key) lack the permission; no retry helps
AUTH_RETRIES = 5  # extra tries for a 401/403 before the stream is told the account refused it...
AUTH_RETRY_SECONDS = 38  # ...waiting 1.25, 2.5, 5, 10 and 20 s: a burst of CloudFront 401s passes within that
MAX_RETRIES = 10
MAX_RETRY_SECONDS = 900
MAX_BACKOFF_SECONDS = 60.0


class TwilioErrorHandler(ErrorHandler):
    """Maps Twilio's answers to retry / ignore / fail, with messages that name the stream and Twilio's code."""

    def __init__(
        self, stream_name: str, ignore_404: bool, logger: logging.Logger, *, feature: str | None = None
    ) -> None:
        """``feature``: a 403 means the account lacks it, and no retry will change that."""
        self._stream_name = stream_name
        self._ignore_404 = ignore_404
        self._feature = feature
        self._logger = logger
        self._auth_attempts: dict[str, int] = {}  # URL -> refusals in a row

    @property
    def max_retries(self) -> int:
        return MAX_RETRIES

    @property
    def max_time(self) -> int:
        return MAX_RETRY_SECONDS

    def interpret_response(self, response_or_exception: Any = None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response):
            return self._interpret(response_or_exception)
        if isinstance(response_or_exception, (requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema)):
            return ErrorResolution(
                ResponseAction.FAIL, FailureType.system_error, f"{self._stream_name}: {response_or_exception}"
            )
        return ErrorResolution(
            ResponseAction.RETRY,
            FailureType.transient_error,
            f"{self._stream_name}: request failed before Twilio answered ({type(response_or_exception).__name__}); retrying.",
        )

    def _interpret(self, response: requests.Response) -> ErrorResolution:
        status = response.status_code
        url = response.request.url if response.request is not None else response.url
        if status not in (401, 403):
            self._auth_attempts.pop(url, None)
        if status < 300:
            try:
                json_body(response)
            except ValueError:
                return self._retry("Twilio sent a body that is not complete JSON")
            return ErrorResolution(ResponseAction.SUCCESS)
        if status == 429:
            return ErrorResolution(
                ResponseAction.RATE_LIMITED,
                FailureType.transient_error,
                f"{self._stream_name}: Twilio's concurrency limit reached ({describe(response)}); backing off.",
            )
        if status >= 500 or status == 408:
            return self._retry(describe(response))
        if status == 403 and (self._feature or twilio_error(response)[0] == LACKS_PERMISSION):
            return ErrorResolution(
                ResponseAction.IGNORE, FailureType.config_error, f"{self._stream_name}: {describe(response)}"
            )
        if status in (401, 403):
            attempts = self._auth_attempts.get(url, 0) + 1
            self._auth_attempts[url] = attempts
            if attempts <= AUTH_RETRIES:
                return self._retry(f"{describe(response)}, possibly a transient authentication failure")
            del self._auth_attempts[url]
            return ErrorResolution(
                ResponseAction.IGNORE, FailureType.config_error, f"{self._stream_name}: {describe(response)}"
            )
        if status == 400 and error_kind(status, *twilio_error(response)) is not ErrorKind.OTHER:
            return ErrorResolution(
                ResponseAction.IGNORE, None, f"{self._stream_name}: {describe(response)}; narrowing the request."
            )
        if status == 404 and self._ignore_404:
            return ErrorResolution(
                ResponseAction.IGNORE,
                None,
                f"{self._stream_name}: nothing at {request_path(response)} ({describe(response)}); treated as no data.",
            )
        return ErrorResolution(
            ResponseAction.FAIL,
            FailureType.system_error,
            f"Twilio refused {request_path(response)}: {describe(response)}",
        )

    def _retry(self, reason: str) -> ErrorResolution:
        return ErrorResolution(
            ResponseAction.RETRY, FailureType.transient_error, f"{self._stream_name}: {reason}; retrying."
        )


class TwilioBackoffStrategy(BackoffStrategy):
    """Retry-After when Twilio sends it; otherwise exponential back-off with jitter, capped at a minute."""

    def backoff_time(self, response_or_exception: Any, attempt_count: int) -> float | None:
        if isinstance(response_or_exception, requests.Response):
            retry_after = response_or_exception.headers.get("Retry-After")
            if retry_after:
                try:
                    return min(max(float(retry_after), 0.0), MAX_BACKOFF_SECONDS * 5)
                except ValueError:
                    pass
            if response_or_exception.status_code in (401, 403):
                return min(20.0, 1.25 * 2.0 ** max(attempt_count - 1, 0))  # AUTH_RETRY_SECONDS in all
        return min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** max(attempt_count - 1, 0)) * random.uniform(0.5, 1.0)
