"""The HTTP side: a threading server answering Twilio paths, with latency, a per-account
concurrency limit, injected faults, request statistics and the ``/_emulator/*`` control endpoints.

Every response's ``Date`` header is Twilio's clock (:meth:`~.data.Dataset.clock`), not this machine's.
"""

from __future__ import annotations

import json
import math
import socket
import sys
import threading
import traceback
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from .api import ACCOUNT_IN_PATH, ApiRequest, TwilioApi, endpoint_name
from .data import Dataset
from .errors import ApiError, error_body
from .faults import Fault, FaultInjector, Faults, html_error_page
from .limits import ALERT_RESULT_LIMIT
from .products import split_host

CONTROL_PREFIX = "/_emulator/"
CANNED_ERRORS = {
    Fault.SERVER_ERROR_500: (500, 20500, "An internal server error has occurred"),
    Fault.UNAVAILABLE_503: (503, 20503, "Service Unavailable"),
    Fault.TRANSIENT_401: (401, 20003, "Authenticate"),
}
"""(status, code, message) of the faults that are plain Twilio JSON errors."""


class Stats:
    """Request counts and in-flight concurrency, overall and per account (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()
        self._reset()

    def _reset(self) -> None:
        self._total = 0
        self._by_status: Counter[str] = Counter()
        self._by_account: Counter[str] = Counter()
        self._by_endpoint: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._max_in_flight = 0
        self._max_in_flight_by_account: Counter[str] = Counter()

    def reset(self) -> None:
        """Zero the counters; requests still in flight stay counted as in flight."""
        with self._lock:
            self._reset()

    def enter(self, account_sid: str) -> int:
        """Count a request in; return how many requests of that account are now in flight."""
        with self._lock:
            self._in_flight[account_sid] += 1
            mine = self._in_flight[account_sid]
            self._max_in_flight = max(self._max_in_flight, sum(self._in_flight.values()))
            self._max_in_flight_by_account[account_sid] = max(self._max_in_flight_by_account[account_sid], mine)
            return mine

    def leave(self, account_sid: str, endpoint: str, outcome: str, fault: str) -> None:
        """Count a request out with its outcome (an HTTP status, or ``dropped``) and fault label."""
        with self._lock:
            self._in_flight[account_sid] -= 1
            self._total += 1
            self._by_status[outcome] += 1
            self._by_account[account_sid] += 1
            self._by_endpoint[endpoint] += 1
            if fault != Fault.NONE.value:
                self._faults[fault] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total_requests": self._total,
                "by_status": dict(self._by_status),
                "status_429": self._by_status.get("429", 0),
                "by_account": dict(self._by_account),
                "by_endpoint": dict(self._by_endpoint),
                "faults_injected": dict(self._faults),
                "max_in_flight": self._max_in_flight,
                "max_in_flight_by_account": dict(self._max_in_flight_by_account),
                "in_flight": sum(self._in_flight.values()),
            }


class EmulatorServer(ThreadingHTTPServer):
    """One listening socket; a thread per connection."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        dataset: Dataset,
        faults: Faults,
        latency_ms: float,
        concurrency_limit: int,
        log_requests: bool = False,
        *,
        visibility_lag_seconds: float = 0,
        upper_bounds: str = "inclusive",
        alert_result_limit: int = ALERT_RESULT_LIMIT,
        background_concurrency: int = 0,
    ) -> None:
        if visibility_lag_seconds < 0:
            raise ValueError("visibility_lag_seconds must not be negative")
        self.api = TwilioApi(dataset, upper_bounds=upper_bounds, alert_result_limit=alert_result_limit)
        super().__init__(address, _Handler)
        self.dataset = dataset
        self.injector = FaultInjector(faults)
        self.latency_seconds = latency_ms / 1000
        self.concurrency_limit = concurrency_limit
        self.log_requests = log_requests
        self.visibility_lag_seconds = visibility_lag_seconds
        self.background_concurrency = background_concurrency
        self.stats = Stats()
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client hung up (timed out, or a fault closed the connection): nothing to report
        super().handle_error(request, client_address)

    def pause(self, seconds: float) -> None:
        """Sleep, but wake up at once when the server stops."""
        if seconds > 0:
            self.stopping.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 64 * 1024  # headers and body leave in one segment (flushed after each request)
    server: EmulatorServer

    def setup(self) -> None:
        super().setup()
        # Without this, Nagle's algorithm and delayed ACKs add ~40 ms to every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log_requests:
            super().log_message(format, *args)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header ``send_response`` adds: Twilio's clock, which need not agree with the client's."""
        return formatdate(self.server.dataset.clock() if timestamp is None else timestamp, usegmt=True)

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._body = self.rfile.read(length) if length else b""
        path, _, query_string = self.path.partition("?")
        try:
            if path.startswith(CONTROL_PREFIX):
                self._control(method, path, query_string)
            else:
                self._api(method, path, query_string)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. timed out on a slow answer)

    # ----- the Twilio API -----

    def _api(self, method: str, path: str, query_string: str) -> None:
        server = self.server
        hostname, routed_path = split_host(path)
        match = ACCOUNT_IN_PATH.match(routed_path)
        account_sid = match.group("account") if match else server.dataset.main_account_sid
        in_flight = server.stats.enter(account_sid)
        outcome, fault = "dropped", Fault.NONE.value
        try:
            outcome, fault = self._answer(method, path, query_string, in_flight)
        finally:
            server.stats.leave(account_sid, endpoint_name(routed_path, hostname), outcome, fault)

    def _answer(self, method: str, path: str, query_string: str, in_flight: int) -> tuple[str, str]:
        """Answer one API request; return its outcome and fault label for the statistics."""
        server = self.server
        injector = server.injector
        in_flight += server.background_concurrency  # the customer's own applications, using the same account
        concurrency = {"Twilio-Concurrent-Requests": str(in_flight)}
        if server.concurrency_limit and in_flight > server.concurrency_limit:
            self._send_error(ApiError(429, 20429, "Too Many Requests", self._throttle_headers(concurrency)))
            return "429", Fault.NONE.value
        server.pause(server.latency_seconds)
        if rule := injector.persistent_fault(path, query_string):
            self._send_error(ApiError(rule.status, rule.code, rule.message))
            return str(rule.status), f"{Fault.PERSISTENT.value}_{rule.status}"
        fault, detail = injector.draw()
        if fault is Fault.THROTTLE_429:
            self._send_error(ApiError(429, 20429, "Too Many Requests", self._throttle_headers(concurrency)))
            return "429", fault.value
        if canned := CANNED_ERRORS.get(fault):
            self._send_error(ApiError(*canned))
            return str(canned[0]), fault.value
        if fault is Fault.HTML:
            status = 502 if detail < 0.5 else 503
            self._send(status, html_error_page(status), "text/html", {})
            return str(status), fault.value
        if fault is Fault.DROP:
            self.close_connection = True
            return "dropped", fault.value
        if fault is Fault.SLOW:
            server.pause(injector.faults.slow_seconds)
        hostname, routed_path = split_host(path)  # faults above matched the path as sent, prefix included
        request = ApiRequest(
            method=method,
            path=routed_path,
            hostname=hostname,
            query=parse_qsl(query_string, keep_blank_values=True),
            host=self.headers.get("Host") or "{}:{}".format(*server.server_address[:2]),
            authorization=self.headers.get("Authorization"),
            foreign_next_page_host=injector.faults.foreign_next_page_host,
            paging_fault=injector.paging_fault(path),
            form=dict(parse_qsl(self._body.decode("utf-8", "replace"))),
        )
        try:
            response = server.api.handle(request)
        except Exception:  # an emulator bug: say so loudly, but answer like Twilio would
            traceback.print_exc()
            self._send_error(ApiError(*CANNED_ERRORS[Fault.SERVER_ERROR_500]))
            return "500", fault.value
        body = json.dumps(response.body, separators=(",", ":")).encode()
        headers = {**concurrency, **response.headers}
        self._send(response.status, body, "application/json", headers, truncate=fault is Fault.TRUNCATE)
        return str(response.status), fault.value

    def _throttle_headers(self, concurrency: dict[str, str]) -> dict[str, str]:
        retry_after = self.server.injector.faults.retry_after
        if retry_after is None:
            return concurrency
        return {**concurrency, "Retry-After": f"{retry_after:g}"}

    def _send_error(self, error: ApiError) -> None:
        body = json.dumps(error.body, separators=(",", ":")).encode()
        self._send(error.status, body, "application/json", error.headers)

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str], *, truncate: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if truncate else body)

    # ----- control endpoints -----

    def _control(self, method: str, path: str, query_string: str) -> None:
        server = self.server
        action = (method, path[len(CONTROL_PREFIX) :])
        params = dict(parse_qsl(query_string))
        if action == ("GET", "stats"):
            self._send_json(200, server.stats.snapshot())
        elif action == ("POST", "reset-stats"):
            server.stats.reset()
            self._send_json(200, server.stats.snapshot())
        elif action == ("POST", "mutate"):
            self._control_mutate(params)
        elif action == ("POST", "reveal"):
            self._send_json(200, {"revealed": server.dataset.reveal()})
        elif action == ("POST", "account-status"):
            try:
                record = server.dataset.set_account_status(params.get("sid", ""), params.get("status", ""))
            except KeyError as error:
                self._send_json(404, error_body(404, 20404, str(error.args[0])))
            except ValueError as error:
                self._send_json(400, error_body(400, 20001, str(error)))
            else:
                self._send_json(200, record)
        elif action == ("GET", "items"):
            try:
                items = server.dataset.items(
                    params.get("stream", ""), visible_only=params.get("visible_only") == "true"
                )
            except KeyError as error:
                self._send_json(400, error_body(400, 20001, str(error.args[0])))
                return
            self._send_json(
                200, [{"account_sid": i.account_sid, "parent": i.parent, "record": i.record} for i in items]
            )
        else:
            self._send_json(404, error_body(404, 20404, f"The requested resource {path} was not found"))

    def _control_mutate(self, params: dict[str, str]) -> None:
        """``POST /_emulator/mutate[?visible_after=SECONDS]``: lagged by the server's visibility lag unless given."""
        lag: float = self.server.visibility_lag_seconds
        if "visible_after" in params:
            try:
                lag = float(params["visible_after"])
            except ValueError:
                lag = -1.0
            if not (math.isfinite(lag) and lag >= 0):
                message = f"visible_after must be a number of seconds >= 0, got {params['visible_after']!r}"
                self._send_json(400, error_body(400, 20001, message))
                return
        self._send_json(200, self.server.dataset.mutate(visible_after=lag or None))

    def _send_json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", {})


class Emulator:
    """A running emulator. Use it as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        faults: Faults | None = None,
        latency_ms: float = 0,
        concurrency_limit: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        log_requests: bool = False,
        visibility_lag_seconds: float = 0,
        upper_bounds: str = "inclusive",
        alert_result_limit: int = ALERT_RESULT_LIMIT,
        background_concurrency: int = 0,
    ) -> None:
        self.dataset = dataset
        self._server = EmulatorServer(
            (host, port),
            dataset,
            faults or Faults(),
            latency_ms,
            concurrency_limit,
            log_requests,
            visibility_lag_seconds=visibility_lag_seconds,
            upper_bounds=upper_bounds,
            alert_result_limit=alert_result_limit,
            background_concurrency=background_concurrency,
        )
        bound_host, bound_port = self._server.server_address[:2]
        shown_host = "127.0.0.1" if bound_host in ("0.0.0.0", "") else bound_host
        self.url = f"http://{shown_host}:{bound_port}"
        """Base URL serving both hosts' paths: ``/2010-04-01/...`` and ``/v1/Alerts``."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="twilio-emulator", daemon=True
        )
        self._thread.start()

    @property
    def faults(self) -> Faults:
        return self._server.injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        """Swap the fault switches of the running server (the RNG restarts from ``faults.seed``)."""
        self._server.injector = FaultInjector(faults)

    def stats(self) -> dict[str, Any]:
        """``total_requests``, ``by_status``, ``status_429``, ``by_account``, ``by_endpoint``,
        ``faults_injected``, ``max_in_flight``, ``max_in_flight_by_account``, ``in_flight``."""
        return self._server.stats.snapshot()

    def reset_stats(self) -> None:
        self._server.stats.reset()

    @property
    def visibility_lag_seconds(self) -> float:
        """How long writes of ``POST /_emulator/mutate`` stay unlisted (0: listed at once)."""
        return self._server.visibility_lag_seconds

    def close(self) -> None:
        """Stop serving; requests sleeping on latency or a slow fault wake up and finish."""
        if self._server.stopping.is_set():
            return
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def serve(
    dataset: Dataset,
    faults: Faults | None = None,
    latency_ms: float = 0,
    concurrency_limit: int = 0,
    host: str = "127.0.0.1",
    port: int = 0,
    log_requests: bool = False,
    visibility_lag_seconds: float = 0,
    upper_bounds: str = "inclusive",
    alert_result_limit: int = ALERT_RESULT_LIMIT,
    background_concurrency: int = 0,
) -> Emulator:
    """Start serving ``dataset`` in a background thread; ``port=0`` picks a free port (see ``Emulator.url``).

    ``latency_ms`` delays every API request; ``concurrency_limit`` > 0 answers 429 (code 20429) to a
    request that would put more than that many requests of one account in flight.

    Harsher Twilio, all off by default: ``visibility_lag_seconds`` > 0 keeps what ``POST
    /_emulator/mutate`` writes out of lists that long (see :meth:`Dataset.mutate`);
    ``upper_bounds="exclusive"`` makes every ``X<`` filter and usage/alerts ``EndDate`` strict;
    ``alert_result_limit`` lowers Monitor's 10,000-alert cap so a test can reach it;
    ``background_concurrency`` stands for the customer's own applications: that many more requests of every
    account are in flight, in ``Twilio-Concurrent-Requests`` and against ``concurrency_limit``.
    """
    return Emulator(
        dataset,
        faults=faults,
        latency_ms=latency_ms,
        concurrency_limit=concurrency_limit,
        host=host,
        port=port,
        log_requests=log_requests,
        visibility_lag_seconds=visibility_lag_seconds,
        upper_bounds=upper_bounds,
        alert_result_limit=alert_result_limit,
        background_concurrency=background_concurrency,
    )
