"""Whose credentials a request carries: a subaccount's own on the hosts that answer for the caller (``credentials``)."""

from __future__ import annotations

import base64

import requests

from source_twilio.credentials import ACCOUNT_ATTRIBUTE, ACCOUNT_HEADER, AccountCredentials

MAIN, SUB = "AC" + "1" * 32, "AC" + "2" * 32


def prepared(headers: dict[str, str]) -> requests.PreparedRequest:
    return requests.Request("GET", "https://conversations.twilio.com/v1/Conversations", headers=headers).prepare()


def user_of(request: requests.PreparedRequest) -> str:
    return base64.b64decode(request.headers["Authorization"].removeprefix("Basic ")).decode().partition(":")[0]


def test_given_a_request_for_a_subaccount_then_it_is_signed_with_the_subaccounts_token_and_the_header_not_sent():
    credentials = AccountCredentials(lambda: "Basic " + base64.b64encode(f"{MAIN}:main-token".encode()).decode(), MAIN)
    credentials.learn(SUB, "sub-token")
    request = credentials(prepared({ACCOUNT_HEADER: SUB}))
    assert user_of(request) == SUB and ACCOUNT_HEADER not in request.headers
    assert getattr(request, ACCOUNT_ATTRIBUTE) == SUB
    assert user_of(credentials(prepared({}))) == MAIN


def test_given_a_retry_when_the_cdk_signs_the_same_request_again_then_it_keeps_the_subaccounts_credentials():
    """The CDK's HttpClient applies the session's auth again to the prepared request before each retry."""
    credentials = AccountCredentials(lambda: "Basic " + base64.b64encode(f"{MAIN}:main-token".encode()).decode(), MAIN)
    credentials.learn(SUB, "sub-token")
    request = credentials(prepared({ACCOUNT_HEADER: SUB}))
    assert user_of(credentials(request)) == SUB
