"""Whose credentials each request carries.

Twilio's main-account credentials reach the main account and "v2010 API resources for any of your subaccounts"
(docs iam/api/subaccounts); its other APIs (Conversations, Studio, Verify, Monitor events, ...) answer with the data
of the account that authenticates. So a subaccount's data on those hosts is read with the subaccount's own SID and
Auth Token, which the main account's list of accounts carries (``auth_token``: masked in every log line, never
emitted). A stream names the account a request is for in ``ACCOUNT_HEADER``; the authenticator takes it off (it is
never sent) and signs the request with that account's credentials.
"""

from __future__ import annotations

import base64
import threading

import requests
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets

ACCOUNT_HEADER = "X-Source-Twilio-Account"
ACCOUNT_ATTRIBUTE = "twilio_account"  # on the prepared request: the account whose limit the request counts against


def basic(username: str, password: str) -> str:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    add_to_secrets(encoded)
    return f"Basic {encoded}"


class AccountCredentials(requests.auth.AuthBase):
    """The sync's credentials; for a request that names a subaccount, that subaccount's own."""

    def __init__(self, username: str, password: str, main_account_sid: str) -> None:
        add_to_secrets(password)
        self._main = basic(username, password)
        self._main_account_sid = main_account_sid
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def learn(self, account_sid: str, auth_token: str) -> None:
        """A subaccount's Auth Token, as the main account's list of accounts gives it."""
        add_to_secrets(auth_token)
        if account_sid == self._main_account_sid:
            return
        header = basic(account_sid, auth_token)
        with self._lock:
            self._tokens[account_sid] = header

    def knows(self, account_sid: str) -> bool:
        with self._lock:
            return account_sid == self._main_account_sid or account_sid in self._tokens

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Signs the request; again before each retry (the CDK does), for the account it was first signed for."""
        account = request.headers.pop(ACCOUNT_HEADER, None) or getattr(request, ACCOUNT_ATTRIBUTE, None)
        header = self._main
        if account is not None and account != self._main_account_sid:
            with self._lock:
                header = self._tokens.get(account, self._main)
            setattr(request, ACCOUNT_ATTRIBUTE, account)
        request.headers["Authorization"] = header
        return request
