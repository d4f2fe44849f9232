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
import time
from collections.abc import Callable

import requests
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets

from source_twilio.answers import describe, json_body
from source_twilio.config import OAUTH, TwilioConfig

ACCOUNT_HEADER = "X-Source-Twilio-Account"
ACCOUNT_ATTRIBUTE = "twilio_account"  # on the prepared request: the account whose limit the request counts against


def basic(username: str, password: str) -> str:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    add_to_secrets(encoded)
    return f"Basic {encoded}"


TOKEN_ATTEMPTS = 4
TOKEN_TIMEOUT = (15, 60)
REFRESH_MARGIN_SECONDS = 300  # a token is renewed this long before it expires (at half its life, if shorter)


class OAuthRefused(Exception):
    """Twilio would not give the OAuth app a token: the message says what to check."""


class OAuthToken:
    """An OAuth app's Bearer access token (client credentials grant), fetched when first needed and again before it
    expires: a long sync outlives one token (an hour by default)."""

    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        self._token_url = token_url
        self._form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def header(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                self._fetch()
            return f"Bearer {self._token}"

    def _fetch(self) -> None:
        response = None
        for attempt in range(TOKEN_ATTEMPTS):
            try:
                response = requests.post(self._token_url, data=self._form, timeout=TOKEN_TIMEOUT)
            except requests.RequestException as error:
                if attempt == TOKEN_ATTEMPTS - 1:
                    raise OAuthRefused(
                        f"Could not reach Twilio's OAuth token endpoint ({type(error).__name__})."
                    ) from None
            else:
                if response.status_code != 429 and response.status_code < 500:
                    break
            if attempt < TOKEN_ATTEMPTS - 1:
                time.sleep(2**attempt)
        assert response is not None
        try:
            body = json_body(response) if response.status_code == 200 else None
        except ValueError:
            body = None  # not JSON: said below, with Twilio's answer described
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise OAuthRefused(
                f"Twilio gave the OAuth app {self._form['client_id']} no access token ({describe(response)}): check "
                "its client_id and client_secret (Twilio Console > OAuth apps)."
            )
        add_to_secrets(token)
        lifetime = float(body.get("expires_in") or 3600)  # type: ignore[union-attr]
        self._token = token
        self._renew_at = time.monotonic() + max(lifetime - REFRESH_MARGIN_SECONDS, lifetime / 2)


def credentials_for(config: TwilioConfig) -> AccountCredentials:
    """Basic auth with the Auth Token or API key, or an OAuth app's Bearer token (``config.auth_type``)."""
    if config.auth_type == OAUTH:
        add_to_secrets(config.password)
        token = OAuthToken(config.base_for("oauth") + "/v2/token", config.username, config.password)
        return AccountCredentials(token.header, config.account_sid)
    add_to_secrets(config.password)
    header = basic(config.username, config.password)
    return AccountCredentials(lambda: header, config.account_sid)


class AccountCredentials(requests.auth.AuthBase):
    """The sync's credentials; for a request that names a subaccount, that subaccount's own."""

    def __init__(self, main: Callable[[], str], main_account_sid: str) -> None:
        """``main``: the main account's Authorization header (a Bearer token is renewed as it nears expiry)."""
        self._main = main
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
        header = None
        if account is not None and account != self._main_account_sid:
            with self._lock:
                header = self._tokens.get(account)
            setattr(request, ACCOUNT_ATTRIBUTE, account)
        request.headers["Authorization"] = header or self._main()
        return request
