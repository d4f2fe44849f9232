"""Twilio's REST semantics over a :class:`~.data.Dataset`: routes, credentials, filters, retention, envelopes.

:meth:`TwilioApi.handle` turns one :class:`ApiRequest` into one :class:`ApiResponse`; it knows
nothing of sockets (see ``server.py``) or injected faults (see ``faults.py``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from .data import Dataset, DatasetOptions
from .errors import ApiError, bad_request, not_found, unauthorized
from .faults import PagingFault
from .filters import Interval, Op, TimeParam, comparisons, interval_of
from .generate import AVAILABLE_NUMBER_PATHS, AVAILABLE_NUMBER_STREAMS
from .limits import ALERT_RESULT_LIMIT, ALERT_RETENTION_DAYS, MAX_CALL_SECONDS
from .listspec import ListSpec, Retention, monitor_retention
from .paging import PAGING_KEYS, list_envelope, meta_envelope, misbehaving, parse_paging, select_page
from .products import GLOBAL, OAUTH_HOST, VOICE_INSIGHTS_DISABLED, ProductList, find_product, locate
from .store import Collection, Row
from .timefmt import SECONDS_PER_DAY, day_start, iso_utc_offset, parse_usage_date

RETENTION_MESSAGE = "Date range specified in query is partially or entirely outside of retention window of 400 days"
"""Twilio's text, kept as it is whatever the account's retention: it does not tell a client the real setting."""
UPPER_BOUNDS = ("inclusive", "exclusive")
ALERT_LIMIT_MESSAGE = (
    f"Your query matches more than {ALERT_RESULT_LIMIT:,} alerts and data is limited to {ALERT_RESULT_LIMIT:,} "
    "results: narrow StartDate and EndDate"
)
"""Monitor's text, kept as it is when a test lowers the limit (it names Twilio's limit, not the emulator's)."""


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    host: str
    authorization: str | None = None
    foreign_next_page_host: str | None = None
    paging_fault: PagingFault | None = None
    hostname: str | None = None
    """The Twilio host named by an ``/h/{hostname}`` prefix (``path`` is what follows it); None: unprefixed."""
    form: dict[str, str] = field(default_factory=dict)  # a POST's form-encoded body (the OAuth token request)

    @property
    def base_url(self) -> str:
        """Where absolute ``meta`` URLs point: this emulator, through the same host prefix."""
        prefix = f"/h/{self.hostname}" if self.hostname else ""
        return f"http://{self.host}{prefix}"


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def _message_retention(options: DatasetOptions) -> int:
    return options.message_retention_days


MESSAGE_RETENTION = Retention(
    _message_retention, frozenset({"DateSent>", "DateSent<", "DateSent"}), 20004, RETENTION_MESSAGE
)
MEDIA_RETENTION = Retention(
    _message_retention, frozenset({"DateCreated>", "DateCreated<", "DateCreated"}), 20004, RETENTION_MESSAGE
)
ALERT_RETENTION = monitor_retention(ALERT_RETENTION_DAYS, "alerts")

ACCOUNT_RESOURCES: dict[str, ListSpec] = {
    "Addresses": ListSpec(
        "addresses",
        "addresses",
        exact={"FriendlyName": "friendly_name", "CustomerName": "customer_name", "IsoCountry": "iso_country"},
    ),
    "Applications": ListSpec("applications", "applications", exact={"FriendlyName": "friendly_name"}),
    "IncomingPhoneNumbers": ListSpec(
        "incoming_phone_numbers",
        "incoming_phone_numbers",
        exact={"FriendlyName": "friendly_name", "PhoneNumber": "phone_number", "Origin": "origin"},
    ),
    "Keys": ListSpec("keys", "keys"),
    "Calls": ListSpec(
        "calls",
        "calls",
        time_params=(
            *comparisons("StartTime", "start_time", day_only=True),
            *comparisons("EndTime", "end_time", day_only=True, sort_slack=MAX_CALL_SECONDS),
        ),
        exact={"To": "to", "From": "from", "Status": "status", "ParentCallSid": "parent_call_sid"},
    ),
    "Conferences": ListSpec(
        "conferences",
        "conferences",
        time_params=(
            *comparisons("DateCreated", "date_created", day_only=True),
            *comparisons("DateUpdated", "date_updated", day_only=True, sort_slack=None),
        ),
        exact={"FriendlyName": "friendly_name", "Status": "status"},
        # Since 2026-07-13 Twilio lists only in-progress conferences unless Status is given.
        defaults={"Status": "in-progress"},
    ),
    "OutgoingCallerIds": ListSpec(
        "outgoing_caller_ids",
        "outgoing_caller_ids",
        exact={"PhoneNumber": "phone_number", "FriendlyName": "friendly_name"},
    ),
    "Recordings": ListSpec(
        "recordings",
        "recordings",
        time_params=comparisons("DateCreated", "date_created"),
        exact={"CallSid": "call_sid", "ConferenceSid": "conference_sid"},
    ),
    "Transcriptions": ListSpec("transcriptions", "transcriptions"),
    "Queues": ListSpec("queues", "queues"),
    "Messages": ListSpec(
        "messages",
        "messages",
        time_params=comparisons("DateSent", "date_sent"),
        exact={"To": "to", "From": "from"},
        retention=MESSAGE_RETENTION,
    ),
    "Usage/Triggers": ListSpec(
        "usage_triggers",
        "usage_triggers",
        exact={"Recurring": "recurring", "TriggerBy": "trigger_by", "UsageCategory": "usage_category"},
    ),
}
ACCOUNTS = ListSpec("accounts", "accounts", exact={"FriendlyName": "friendly_name", "Status": "status"})
DEPENDENT_PHONE_NUMBERS = ListSpec("dependent_phone_numbers", "dependent_phone_numbers")
PARTICIPANTS = ListSpec("conference_participants", "participants")
MEDIA = ListSpec(
    "message_media", "media_list", time_params=comparisons("DateCreated", "date_created"), retention=MEDIA_RETENTION
)
USAGE_RECORDS = ListSpec("usage_records", "usage_records", exact={"Category": "category"})
ALERTS = ListSpec(
    "alerts",
    "alerts",
    time_params=(
        TimeParam("StartDate", "date_generated", Op.ON_OR_AFTER, sort_slack=0),
        TimeParam("EndDate", "date_generated", Op.ON_OR_BEFORE, sort_slack=0),
    ),
    exact={"LogLevel": "log_level"},
    retention=ALERT_RETENTION,
)

_SID = "[0-9a-fA-F]{32}"
_ACCOUNT = rf"^/2010-04-01/Accounts/(?P<account>AC{_SID})"
_RESOURCES = "|".join(re.escape(name) for name in ACCOUNT_RESOURCES)
_NUMBER_TYPES = {path: kind for kind, path in AVAILABLE_NUMBER_PATHS.items()}
ROUTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/2010-04-01/Accounts\.json$"), "accounts"),
    (re.compile(rf"{_ACCOUNT}\.json$"), "account"),
    (re.compile(rf"{_ACCOUNT}/(?P<resource>{_RESOURCES})\.json$"), "account_list"),
    (re.compile(rf"{_ACCOUNT}/Addresses/(?P<parent>AD{_SID})/DependentPhoneNumbers\.json$"), "dependent_phone_numbers"),
    (re.compile(rf"{_ACCOUNT}/AvailablePhoneNumbers\.json$"), "countries"),
    (
        re.compile(rf"{_ACCOUNT}/AvailablePhoneNumbers/(?P<country>[A-Z]{{2}})/(?P<kind>Local|Mobile|TollFree)\.json$"),
        "available_numbers",
    ),
    (re.compile(rf"{_ACCOUNT}/Conferences/(?P<parent>CF{_SID})/Participants\.json$"), "participants"),
    (re.compile(rf"{_ACCOUNT}/Messages/(?P<parent>(?:SM|MM){_SID})/Media\.json$"), "media"),
    (re.compile(rf"{_ACCOUNT}/Usage/Records/Daily\.json$"), "usage_daily"),
    (re.compile(rf"{_ACCOUNT}/Balance\.json$"), "balance"),
    (re.compile(r"^/v1/Alerts$"), "alerts"),
)
ACCOUNT_IN_PATH = re.compile(_ACCOUNT + "[./]")


def _route(path: str) -> tuple[str, re.Match[str]]:
    for pattern, route in ROUTES:
        if match := pattern.match(path):
            return route, match
    raise not_found(path)


def endpoint_name(path: str, hostname: str | None = None) -> str:
    """A short label for statistics: the route, the resource for account lists, the stream on product hosts."""
    located = locate(hostname) if hostname else None
    if product := find_product(located[1] if located else hostname, path):
        return product[0].spec.stream
    try:
        route, match = _route(path)
    except ApiError:
        return "unknown"
    return match.groupdict().get("resource", route).lower().replace("usage/", "usage_")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account owning the credential, and which kind of credential it is."""

    account_sid: str
    kind: str  # "auth_token", "main_key", "standard_key", "restricted_key" or "oauth"


class TwilioApi:
    """Answers 2010-04-01 and Monitor v1 requests from a dataset.

    ``upper_bounds="exclusive"`` reads every ``X<`` filter, usage ``EndDate`` and alerts ``EndDate`` as
    strictly before (see ``filters.py``); ``alert_result_limit`` is Monitor's cap on matching alerts.
    """

    def __init__(
        self, dataset: Dataset, *, upper_bounds: str = "inclusive", alert_result_limit: int = ALERT_RESULT_LIMIT
    ) -> None:
        if upper_bounds not in UPPER_BOUNDS:
            raise ValueError(f"upper_bounds must be one of {', '.join(UPPER_BOUNDS)}, got {upper_bounds!r}")
        if alert_result_limit < 1:
            raise ValueError("alert_result_limit must be at least 1")
        self.dataset = dataset
        self.exclusive_upper = upper_bounds == "exclusive"
        self.alert_result_limit = alert_result_limit

    def handle(self, request: ApiRequest) -> ApiResponse:
        try:
            hostname, region = request.hostname, "us1"
            if hostname is not None:
                located = locate(hostname)
                if located is None:
                    raise not_found(request.path)  # no such Twilio host: nothing there to authenticate against
                region, hostname = located
            if region != self.dataset.options.region:
                raise unauthorized()  # credentials are per region: this account has none in that one
            if hostname == OAUTH_HOST:
                return self._oauth_token(request)
            principal = self._authenticate(request.authorization)
            if product := find_product(hostname, request.path):
                handler: Callable[..., ApiResponse] = self._product_list
                arguments = {"product": product[0], "match": product[1]}
            else:
                route, match = _route(request.path)
                if hostname is not None and hostname != (
                    "monitor.twilio.com" if route == "alerts" else "api.twilio.com"
                ):
                    raise not_found(request.path)  # route by host and path: /v1/Alerts is Monitor's alone
                handler, arguments = getattr(self, f"_{route}"), match.groupdict()
            if request.method != "GET":
                raise ApiError(405, 20004, "Method not allowed")
            if principal.kind == "restricted_key":
                needed = permission_of(product[0].host if product else "api.twilio.com", request.path)
                if needed not in self.dataset.options.restricted_key_permissions:
                    raise ApiError(403, 20403, f"The API key lacks the permission for this resource ({needed})")
            with self.dataset.lock:
                self.dataset.reveal_due()  # lagged writes whose time has come are listed from now on
                return handler(request, principal, **arguments)
        except ApiError as error:
            return ApiResponse(error.status, error.body, error.headers)

    # ----- credentials -----

    def _oauth_token(self, request: ApiRequest) -> ApiResponse:
        """``POST /v2/token`` with ``grant_type=client_credentials``: a Bearer token that expires (docs iam/oauth-apps)."""
        if request.method != "POST" or request.path != "/v2/token":
            raise not_found(request.path)
        form = request.form
        if form.get("grant_type") != "client_credentials":
            raise bad_request("grant_type must be client_credentials")
        token = self.dataset.issue_oauth_token(form.get("client_id", ""), form.get("client_secret", ""))
        if token is None:
            raise unauthorized()
        seconds = self.dataset.options.oauth_token_seconds
        return ApiResponse(200, {"access_token": token, "token_type": "Bearer", "expires_in": seconds})

    def _authenticate(self, authorization: str | None) -> Principal:
        if authorization and authorization.startswith("Bearer "):
            if not self.dataset.oauth_token_valid(authorization[7:]):
                raise unauthorized()  # unknown or expired
            return Principal(self.dataset.main_account_sid, "oauth")  # an OAuth app belongs to one account
        if not authorization or not authorization.startswith("Basic "):
            raise unauthorized()
        try:
            username, _, password = base64.b64decode(authorization[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized() from None
        main_sid = self.dataset.main_account_sid
        if (username, password) == self.dataset.main_key:
            return Principal(main_sid, "main_key")
        if (username, password) == self.dataset.standard_key:
            return Principal(main_sid, "standard_key")
        if (username, password) == self.dataset.restricted_key:
            return Principal(main_sid, "restricted_key")
        with self.dataset.lock:
            account = self.dataset.account(username)
        if account is None or password != account["auth_token"] or account["status"] != "active":
            raise unauthorized()
        return Principal(username, "auth_token")

    def _authorize(self, principal: Principal, account_sid: str, *, allow_suspended: bool = False) -> dict[str, Any]:
        """The account record at ``account_sid`` if ``principal`` may read under it; 401 otherwise."""
        account = self.dataset.account(account_sid)
        if account is None:
            raise unauthorized()
        # Only the main account's auth token reaches other accounts; keys and subaccount tokens reach their own.
        reaches_all = principal.kind == "auth_token" and principal.account_sid == self.dataset.main_account_sid
        if not reaches_all and account_sid != principal.account_sid:
            raise unauthorized()
        if account["status"] != "active" and not allow_suspended:
            raise unauthorized()
        return account

    @staticmethod
    def _refuse_standard_key(principal: Principal) -> None:
        """Standard keys may not use the Accounts or Keys resources (taken as 401, like bad credentials)."""
        if principal.kind == "standard_key":
            raise unauthorized()

    # ----- routes -----

    def _accounts(self, request: ApiRequest, principal: Principal) -> ApiResponse:
        self._refuse_standard_key(principal)
        collection = self.dataset.collection("accounts", self.dataset.main_account_sid) or Collection()
        own_only = principal.account_sid != self.dataset.main_account_sid
        return self._list(
            request, ACCOUNTS, collection, extra=(lambda row: row.ident == principal.account_sid) if own_only else None
        )

    def _account(self, request: ApiRequest, principal: Principal, account: str) -> ApiResponse:
        self._refuse_standard_key(principal)
        return ApiResponse(200, self._authorize(principal, account, allow_suspended=True))

    def _account_list(self, request: ApiRequest, principal: Principal, account: str, resource: str) -> ApiResponse:
        spec = ACCOUNT_RESOURCES[resource]
        if spec.stream == "keys":
            self._refuse_standard_key(principal)
        self._authorize(principal, account)
        return self._list(request, spec, self.dataset.collection(spec.stream, account) or Collection())

    def _dependent_phone_numbers(
        self, request: ApiRequest, principal: Principal, account: str, parent: str
    ) -> ApiResponse:
        self._authorize(principal, account)
        self._require_parent("addresses", account, parent, request.path)
        collection = self.dataset.collection("dependent_phone_numbers", account, parent) or Collection()
        return self._list(request, DEPENDENT_PHONE_NUMBERS, collection)

    def _countries(self, request: ApiRequest, principal: Principal, account: str) -> ApiResponse:
        self._authorize(principal, account)
        countries = [row.record for row in self.dataset.collection("available_phone_number_countries", account) or ()]
        return ApiResponse(200, {"countries": countries, "end": max(0, len(countries) - 1), "uri": request.path})

    def _available_numbers(
        self, request: ApiRequest, principal: Principal, account: str, country: str, kind: str
    ) -> ApiResponse:
        self._authorize(principal, account)
        countries = self.dataset.collection("available_phone_number_countries", account) or Collection()
        country_row = countries.get(country)
        number_type = _NUMBER_TYPES[kind]
        if country_row is None or number_type not in country_row.record["subresource_uris"]:
            raise not_found(request.path)
        stream = AVAILABLE_NUMBER_STREAMS[number_type]
        numbers = [row.record for row in self.dataset.collection(stream, account, country) or ()]
        uri = request.path + (f"?{urlencode(request.query)}" if request.query else "")
        return ApiResponse(200, {"available_phone_numbers": numbers, "uri": uri})

    def _participants(self, request: ApiRequest, principal: Principal, account: str, parent: str) -> ApiResponse:
        self._authorize(principal, account)
        self._require_parent("conferences", account, parent, request.path)
        collection = self.dataset.collection("conference_participants", account, parent) or Collection()
        return self._list(request, PARTICIPANTS, collection)

    def _media(self, request: ApiRequest, principal: Principal, account: str, parent: str) -> ApiResponse:
        self._authorize(principal, account)
        message = self._require_parent("messages", account, parent, request.path)
        if message.sort_epoch < self._floor(MESSAGE_RETENTION):
            raise not_found(request.path)  # the message itself is past retention: gone
        collection = self.dataset.collection("message_media", account, parent) or Collection()
        return self._list(request, MEDIA, collection)

    def _usage_daily(self, request: ApiRequest, principal: Principal, account: str) -> ApiResponse:
        self._authorize(principal, account)
        query = _first_values(request.query)
        now = self.dataset.clock()
        try:
            first = parse_usage_date(query["StartDate"], now) if "StartDate" in query else None
            last = parse_usage_date(query["EndDate"], now) if "EndDate" in query else None
        except ValueError as error:
            raise bad_request(f"Invalid StartDate or EndDate: {error}") from None
        if first is not None and last is not None and first > last:
            raise bad_request("StartDate must be on or before EndDate")
        if last is not None and self.exclusive_upper:
            last -= SECONDS_PER_DAY  # EndDate itself is left out
        include = query.get("IncludeSubaccounts", "true").lower()
        if include not in ("true", "false"):
            raise bad_request(f"IncludeSubaccounts must be true or false, got {query['IncludeSubaccounts']!r}")
        accounts = self.dataset.collection("accounts", self.dataset.main_account_sid, visible_only=False)
        if last is not None and last < day_start(accounts.get(account).sort_epoch):
            raise not_found(request.path)  # Twilio has no usage before the account existed
        collection = self.dataset.usage_collection(account, include == "true")
        span = collection.span(first, last)
        response = self._list(request, USAGE_RECORDS, collection, span=span, opaque_tokens=True)
        as_of = iso_utc_offset(now)
        response.body["usage_records"] = [dict(r, as_of=as_of) for r in response.body["usage_records"]]
        return response

    def _balance(self, request: ApiRequest, principal: Principal, account: str) -> ApiResponse:
        """A 2010-04-01 resource: main-account credentials read any subaccount's, as for its other resources."""
        self._authorize(principal, account)
        row = (self.dataset.collection("balance", account) or Collection()).get(account)
        if row is None:
            raise not_found(request.path)
        return ApiResponse(200, row.record)

    def _product_list(
        self, request: ApiRequest, principal: Principal, product: ProductList, match: re.Match[str]
    ) -> ApiResponse:
        """A list on a product host: the authenticating account's own data (pricing: everyone's the same)."""
        account = self.dataset.main_account_sid if product.scope == GLOBAL else principal.account_sid
        if product.feature == "voice_insights" and not self.dataset.has_voice_insights(account):
            raise ApiError(403, 20403, VOICE_INSIGHTS_DISABLED)
        parent = None
        for index, stream in enumerate(product.parents):
            parent = self._product_parent(stream, account, parent, match.group(f"p{index}"), request.path)
        collection = self.dataset.collection(product.spec.stream, account, parent) or Collection()
        query = _first_values(request.query)
        if product.oldest_first(query):
            collection = Collection(Row(row.item, row.ident, -row.sort_epoch, row.times) for row in collection)
        time_value = product.time_value(self.dataset.clock())
        keep = [interval_keep(param, time_value(raw), self.exclusive_upper) for param, raw in _defaults(product, query)]
        if product.feature == "voice_insights":
            keep.append(_processing_state(query))
        return self._list(
            request,
            product.spec,
            collection,
            extra=(lambda row: all(check(row) for check in keep)) if keep else None,
            meta=True,
            time_value=time_value,
        )

    def _product_parent(self, stream: str, account: str, scope: str | None, sid: str, path: str) -> str:
        """The parent a product path names (users also by identity), or 404."""
        collection = self.dataset.collection(stream, account, scope) or Collection()
        row = collection.get(sid)
        if row is None and stream == "users":
            row = next((user for user in collection if user.record["identity"] == sid), None)
        if row is None:
            raise not_found(path)
        return row.ident

    def _alerts(self, request: ApiRequest, principal: Principal) -> ApiResponse:
        collection = self.dataset.collection("alerts", principal.account_sid) or Collection()
        return self._list(request, ALERTS, collection, monitor=True)

    # ----- the shared list machinery -----

    def _require_parent(self, stream: str, account: str, parent: str, path: str) -> Row:
        row = (self.dataset.collection(stream, account) or Collection()).get(parent)
        if row is None:
            raise not_found(path)
        return row

    def _floor(self, retention: Retention) -> int:
        return self.dataset.clock() - retention.days(self.dataset.options) * SECONDS_PER_DAY

    def _list(
        self,
        request: ApiRequest,
        spec: ListSpec,
        collection: Collection,
        *,
        extra: Callable[[Row], bool] | None = None,
        span: tuple[int, int] | None = None,
        opaque_tokens: bool = False,
        monitor: bool = False,
        meta: bool = False,
        time_value: Callable[[str], str] | None = None,
    ) -> ApiResponse:
        """One page of ``collection`` filtered per ``spec``.

        ``extra`` filters further, ``span`` replaces the bisected sort range, ``opaque_tokens`` encodes
        page tokens in base64 (records without SIDs), ``monitor`` gives Monitor v1 semantics: the ``meta``
        envelope and the result cap (``alert_result_limit``); ``meta`` the envelope alone (v1/v2 product
        lists). ``time_value`` rewrites a time filter's value before it is parsed (a product's own formats).
        """
        query = _first_values(request.query)
        paging = parse_paging(query, spec.max_page_size)
        sort_window = Interval()
        field_windows: dict[str, Interval] = {}
        floor = None
        if spec.retention is not None:
            floor = self._floor(spec.retention)
            sort_window.narrow(floor, None)
        for param in spec.time_params:
            raw = query.get(param.key)
            if raw is None:
                continue
            if time_value is not None:
                raw = time_value(raw)
            window = interval_of(param, raw, exclusive_upper=self.exclusive_upper)
            reaches_back = any(
                bound is not None and floor is not None and bound < floor for bound in (window.lo, window.hi)
            )
            if reaches_back and param.key in spec.retention.keys:
                retention = spec.retention
                raise ApiError(retention.status, retention.code, retention.message)
            field_windows.setdefault(param.field, Interval()).narrow(window.lo, window.hi)
            if param.sort_slack is not None:
                sort_window.narrow(None if window.lo is None else window.lo - param.sort_slack, window.hi)
        wanted = {record_field: query.get(key, spec.defaults.get(key)) for key, record_field in spec.exact.items()}
        wanted = {record_field: value for record_field, value in wanted.items() if value is not None}

        def keep(row: Row) -> bool:
            times, record = row.times, row.record
            if not all(window.contains(times.get(name)) for name, window in field_windows.items()):
                return False
            if not all(record.get(name) == value for name, value in wanted.items()):
                return False
            return extra is None or extra(row)

        if span is None:
            span = collection.span(sort_window.lo, sort_window.hi)
        limit = self.alert_result_limit
        if monitor and len(collection.scan(*span, keep, limit + 1)) > limit:
            raise bad_request(ALERT_LIMIT_MESSAGE)
        page = select_page(collection, span, keep, paging, opaque=opaque_tokens)
        page = misbehaving(page, paging, request.paging_fault, opaque=opaque_tokens)
        records = [row.record for row in page.rows]
        filters = [(key, value) for key, value in request.query if key not in PAGING_KEYS]
        foreign = _absolute_host(request.foreign_next_page_host)
        if monitor or meta:
            body = meta_envelope(request.base_url, request.path, spec.list_key, records, filters, paging, page, foreign)
        else:
            body = list_envelope(request.path, spec.list_key, records, filters, paging, page, foreign)
        return ApiResponse(200, body)


PERMISSIONS_BY_HOST = {
    "conversations.twilio.com": "conversations",
    "studio.twilio.com": "studio",
    "trunking.twilio.com": "trunking",
    "verify.twilio.com": "verify",
    "messaging.twilio.com": "messaging",
    "insights.twilio.com": "voice",
    "pricing.twilio.com": "pricing",
    "monitor.twilio.com": "monitor",
}
PERMISSIONS_BY_RESOURCE = {
    "Messages": "messaging",
    "Calls": "voice",
    "Conferences": "voice",
    "Recordings": "voice",
    "Transcriptions": "voice",
    "Queues": "voice",
    "OutgoingCallerIds": "voice",
    "Applications": "voice",
    "IncomingPhoneNumbers": "phone-numbers",
    "AvailablePhoneNumbers": "phone-numbers",
    "Addresses": "phone-numbers",
    "Usage": "usage",
    "Balance": "usage",
}


def permission_of(hostname: str, path: str) -> str:
    """The restricted-key permission a request needs: a product area (Twilio's permissions are finer; the emulator
    models which lists a key can read, not their names)."""
    if hostname in PERMISSIONS_BY_HOST:
        return PERMISSIONS_BY_HOST[hostname]
    if path == "/v1/Alerts":
        return "monitor"
    parts = path.split("/")  # /2010-04-01/Accounts/AC.../Resource...
    resource = parts[4].removesuffix(".json") if len(parts) > 4 else ""
    return PERMISSIONS_BY_RESOURCE.get(resource, "accounts")


def _first_values(query: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in query:
        values.setdefault(key, value)
    return values


def _defaults(product: ProductList, query: dict[str, str]) -> list[tuple[TimeParam, str]]:
    """The time filters Twilio applies when the client leaves them out (Voice Insights: the last 4 hours)."""
    params = {param.key: param for param in product.spec.time_params}
    return [(params[key], raw) for key, raw in product.time_defaults.items() if key not in query]


def interval_keep(param: TimeParam, raw: str, exclusive_upper: bool) -> Callable[[Row], bool]:
    window = interval_of(param, raw, exclusive_upper=exclusive_upper)
    return lambda row: window.contains(row.times.get(param.field))


_PROCESSING_STATES = {"completed": "complete", "complete": "complete", "partial": "partial", "all": None}


def _processing_state(query: dict[str, str]) -> Callable[[Row], bool]:
    """Voice Insights' ``ProcessingState``: complete summaries only unless ``partial`` or ``all`` is asked for."""
    raw = query.get("ProcessingState", "completed")
    if raw not in _PROCESSING_STATES:
        raise bad_request(f"ProcessingState must be one of completed, partial or all, got {raw!r}")
    wanted = _PROCESSING_STATES[raw]
    return lambda row: wanted is None or row.record["processing_state"] == wanted


def _absolute_host(host: str | None) -> str | None:
    if not host:
        return None
    return host.rstrip("/") if "://" in host else f"https://{host.rstrip('/')}"
