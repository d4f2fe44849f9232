"""Twilio's error responses: ``{"code", "message", "more_info", "status"}`` with the HTTP status."""

from __future__ import annotations

from typing import Any


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    """The JSON body Twilio sends with an error."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class ApiError(Exception):
    """An error response; raise it anywhere while answering a request."""

    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    @property
    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.code, self.message)


def unauthorized() -> ApiError:
    """What Twilio answers to bad credentials, to credentials that may not reach a path, and to suspended accounts."""
    return ApiError(401, 20003, "Authenticate")


def not_found(path: str) -> ApiError:
    return ApiError(404, 20404, f"The requested resource {path} was not found")


def bad_request(message: str, code: int = 20001) -> ApiError:
    return ApiError(400, code, message)
