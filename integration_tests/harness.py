"""What the robustness suites (faults, bad input, security) share beyond ``connector_runner``.

- ``run_in_process``: the real entry point (``source_twilio.run.run``: preflight, then the CDK) in this
  process, its stdout and stderr captured at the file descriptors, so a test can patch ``time.sleep`` (back-off
  without waiting) and ``lists.REQUEST_TIMEOUT``. An uncaught exception goes through the CDK's excepthook, as
  in a process, and gives exit status 1.
- ``run_process`` / ``run_with_deadline`` / ``run_until_signalled``: ``main.py`` as a subprocess, with extra arguments
  and environment, a deadline to exit by, or a signal sent part-way (``run_until_killed``: SIGKILL at a checkpoint).
- ``answering``: makes the emulator answer chosen requests with a status and body of the test's choosing
  (Twilio's 400 error body, a 401, a redirect), for faults its switches do not cover.
- ``OtherHost``: a second local HTTP server, standing for a host credentials must never reach; it records
  every request it gets.
- ``secrets_in`` / ``assert_no_secrets``: every secret a run knows, and a scan of every line it wrote.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER

from integration_tests.connector_runner import MAIN, ROOT, Run, secrets_of
from integration_tests.emulator import Dataset, Emulator
from integration_tests.emulator.api import ApiRequest, ApiResponse
from integration_tests.emulator.errors import error_body
from source_twilio import health, lists
from source_twilio import run as entry_point
from source_twilio import source as source_module
from source_twilio.config import EMULATOR_URL_ENV
from source_twilio.context import SyncContext

# --- runs ---------------------------------------------------------------------------------------------------


def arguments(
    command: str,
    workdir: Path,
    config: Any = None,
    catalog: Any = None,
    state: Any = None,
    raw: Mapping[str, str | None] | None = None,
) -> list[str]:
    """The command line; ``raw`` gives a file's exact text (not JSON, say) instead of a value to serialise, or None
    for a file that does not exist."""
    args = [command]
    files = {name: json.dumps(value) for name, value in (("config", config), ("catalog", catalog), ("state", state))}
    files = {name: text for name, text in files.items() if text != "null"} | dict(raw or {})
    for name, text in files.items():
        path = workdir / f"{name}.json"
        if text is None:
            path = workdir / f"no-such-{name}.json"
        else:
            path.write_text(text)
        args += [f"--{name}", str(path)]
    return args


def _parse(returncode: int, stdout: str, stderr: str) -> Run:
    messages = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return Run(returncode, messages, stdout, stderr)


@contextlib.contextmanager
def _captured_output() -> Iterator[dict[str, str]]:
    """Everything written to file descriptors 1 and 2 (and sys.stdout/sys.stderr) while inside."""
    captured: dict[str, str] = {}
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        files = {1: out_file, 2: err_file}
        _flush_all()
        saved = {fd: os.dup(fd) for fd in files}
        previous = sys.stdout, sys.stderr
        for fd, handle in files.items():
            os.dup2(handle.fileno(), fd)
        with (
            open(1, "w", encoding="utf-8", closefd=False) as stdout,
            open(2, "w", encoding="utf-8", closefd=False) as stderr,
        ):
            sys.stdout, sys.stderr = stdout, stderr
            try:
                yield captured
            finally:
                PRINT_BUFFER.flush()
                _flush_all()
                sys.stdout, sys.stderr = previous
                for fd in files:
                    os.dup2(saved[fd], fd)
                    os.close(saved[fd])
        for fd, name in ((1, "stdout"), (2, "stderr")):
            files[fd].seek(0)
            captured[name] = files[fd].read().decode("utf-8", "replace")


def _flush_all() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()


def run_in_process(
    command: str,
    emulator_url: str | None,
    workdir: Path,
    config: Any = None,
    catalog: Any = None,
    state: Any = None,
    raw: Mapping[str, str | None] | None = None,
) -> Run:
    """``main.py <command>`` run in this process. Callers patch ``time.sleep`` and the timeout as they need."""
    args = arguments(command, workdir, config, catalog, state, raw)
    contexts: list[SyncContext] = []
    build_context = source_module.sync_context

    def recording_sync_context(twilio_config: Any, *args: Any) -> SyncContext:
        contexts.append(build_context(twilio_config, *args))
        return contexts[-1]

    with pytest.MonkeyPatch.context() as patch:
        if emulator_url:
            patch.setenv(EMULATOR_URL_ENV, emulator_url)
        else:
            patch.delenv(EMULATOR_URL_ENV, raising=False)
        patch.setattr(sys, "excepthook", sys.excepthook)  # the CDK installs its own
        patch.setattr(AirbyteEntrypoint, "airbyte_message_to_string", AirbyteEntrypoint.airbyte_message_to_string)
        patch.setattr(source_module, "sync_context", recording_sync_context)
        with _captured_output() as output:
            returncode = _run_entry_point(args)
            drain(contexts)
    return _parse(returncode, output["stdout"], output["stderr"])


@contextlib.contextmanager
def back_off_recorded(time_passes: bool = False) -> Iterator[list[float]]:
    """Back-off recorded instead of slept; answers slower than one second time out. With ``time_passes``, the
    outage watch sees the time back-off would have taken pass (it measures how long Twilio has been unreachable)."""
    slept: list[float] = []
    real_monotonic = time.monotonic

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "sleep", sleep)
        patch.setattr(lists, "REQUEST_TIMEOUT", (2, 1))
        if time_passes:
            patch.setattr(health, "_monotonic", lambda: real_monotonic() + sum(slept))
        yield slept


def drain(contexts: Iterable[SyncContext]) -> None:
    """Waits for the worker threads of the syncs to end: work left running after a sync (cancelled, but perhaps in
    the middle of a request) must not leak into the next test, sleeping for real."""
    for context in contexts:
        context.close()
        for pool in ("slice_pool", "child_pool"):
            if pool in vars(context):  # created on first use
                assert vars(context)[pool].join(timeout=120), f"a {pool} worker was still running after the sync"


def _run_entry_point(args: list[str]) -> int:
    threshold = gc.get_threshold()
    try:
        entry_point.run(args)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    except Exception:
        sys.excepthook(*sys.exc_info())  # what the interpreter does with it in a process: the CDK's hook
        return 1
    finally:  # the process's cycle collector settings (``startup``) are not the test runner's
        gc.unfreeze()
        gc.set_threshold(*threshold)
        gc.enable()
    return 0


def run_process(
    command: str,
    emulator_url: str | None,
    workdir: Path,
    config: Any = None,
    catalog: Any = None,
    state: Any = None,
    raw: Mapping[str, str | None] | None = None,
    extra_args: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> Run:
    """``main.py <command>`` as a subprocess, like ``connector_runner.run_connector`` with raw files, extra
    arguments and environment."""
    args = [sys.executable, str(MAIN), *arguments(command, workdir, config, catalog, state, raw), *extra_args]
    environment = {key: value for key, value in os.environ.items() if key != EMULATOR_URL_ENV} | dict(env or {})
    if emulator_url:
        environment[EMULATOR_URL_ENV] = emulator_url
    completed = subprocess.run(args, capture_output=True, text=True, env=environment, timeout=timeout, cwd=ROOT)
    return _parse(completed.returncode, completed.stdout, completed.stderr)


def run_until_killed(
    emulator_url: str, workdir: Path, config: Any, catalog: Any, state: Any, after_records: int
) -> Run:
    """A sync killed (SIGKILL) at the first STATE message after ``after_records`` records; its output up to there."""
    return run_until_signalled(emulator_url, workdir, config, catalog, state, after_records, signal.SIGKILL).run


MAX_OUTPUT_BYTES = 200_000_000


@dataclass
class Signalled:
    run: Run
    exited: bool  # the process ended within the deadline after the signal
    seconds_to_exit: float


def run_until_signalled(
    emulator_url: str,
    workdir: Path,
    config: Any,
    catalog: Any,
    state: Any,
    after_records: int,
    signum: int,
    *,
    at_state: bool = True,
    deadline: float = 60,
) -> Signalled:
    """A sync sent ``signum`` at the first STATE message after ``after_records`` records (at the record itself with
    ``at_state=False``); its output, and whether it exited within ``deadline`` seconds of the signal (it is killed
    if not)."""
    args = [sys.executable, str(MAIN), *arguments("read", workdir, config, catalog, state or None)]
    env = {**os.environ, EMULATOR_URL_ENV: emulator_url}
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT, bufsize=1
    )
    stderr: list[str] = []
    drain = threading.Thread(target=lambda: stderr.extend(process.stderr or ()), daemon=True)
    drain.start()
    lines, records = [], 0
    assert process.stdout is not None
    signalled_at = None
    for line in process.stdout:
        lines.append(line)
        records += '"type":"RECORD"' in line
        if records >= after_records and (not at_state or '"type":"STATE"' in line):
            process.send_signal(signum)
            signalled_at = time.monotonic()
            break
    if signalled_at is None:
        signalled_at = time.monotonic()
    rest: list[str] = []
    reader = threading.Thread(target=lambda: rest.extend(process.stdout or ()), daemon=True)
    reader.start()
    try:
        process.wait(timeout=deadline)
        exited = True
    except subprocess.TimeoutExpired:
        exited = False
        process.kill()
        process.wait()
    seconds = time.monotonic() - signalled_at
    reader.join(timeout=10)
    drain.join(timeout=10)
    if signum != signal.SIGKILL:
        lines += rest
    process.stdout.close()
    return Signalled(_parse(process.returncode, "".join(lines), "".join(stderr)), exited, seconds)


def run_with_deadline(
    emulator_url: str,
    workdir: Path,
    config: Any,
    catalog: Any,
    state: Any = None,
    deadline: float = 300,
    max_output_bytes: int = MAX_OUTPUT_BYTES,
) -> Signalled:
    """``main.py read`` as a subprocess that must exit by itself within ``deadline`` seconds, having written at most
    ``max_output_bytes`` (it is killed if not: a sync emitting the same pages forever fills memory, not the clock).
    Its output goes to files in ``workdir``, not to this process's memory."""
    args = [sys.executable, str(MAIN), *arguments("read", workdir, config, catalog, state or None)]
    env = {**os.environ, EMULATOR_URL_ENV: emulator_url}
    stdout_path, stderr_path = workdir / "stdout.jsonl", workdir / "stderr.txt"
    started = time.monotonic()
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(args, stdout=stdout, stderr=stderr, env=env, cwd=ROOT)
        exited = False
        while time.monotonic() - started < deadline and stdout_path.stat().st_size <= max_output_bytes:
            try:
                process.wait(timeout=0.2)
                exited = True
                break
            except subprocess.TimeoutExpired:
                continue
        if not exited:
            process.kill()
            process.wait()
    seconds = time.monotonic() - started
    out = stdout_path.read_bytes()[:max_output_bytes].decode(errors="replace")
    out = out if exited else out[: out.rfind("\n") + 1]  # killed mid-line: the whole lines only
    run = _parse(process.returncode if exited else -9, out, stderr_path.read_text(errors="replace"))
    return Signalled(run, exited, seconds)


def last_states(*runs: Run, carried: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """The state Airbyte would hand to the next sync: per stream, the last STATE any of the runs emitted."""
    states = {state["stream"]["stream_descriptor"]["name"]: dict(state) for state in carried}
    for run in runs:
        states |= {state["stream"]["stream_descriptor"]["name"]: state for state in run.final_states}
    return list(states.values())


# --- answers the emulator's switches do not cover -------------------------------------------------------------


@contextlib.contextmanager
def answering(
    emulator: Emulator,
    when: Callable[[ApiRequest], bool],
    status: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
) -> Iterator[list[ApiRequest]]:
    """The emulator answers requests for which ``when`` holds with ``status`` and ``body``; yields those requests."""
    api = emulator._server.api
    original = api.handle
    answered: list[ApiRequest] = []

    def handle(request: ApiRequest) -> ApiResponse:
        if when(request):
            answered.append(request)
            return ApiResponse(status, body, dict(headers or {}))
        return original(request)

    api.handle = handle  # type: ignore[method-assign]
    try:
        yield answered
    finally:
        api.handle = original  # type: ignore[method-assign]


def twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    return error_body(status, code, message)


# --- another host ---------------------------------------------------------------------------------------------


@dataclass
class OtherHost:
    """A second HTTP server on 127.0.0.1 that answers every request with an empty Twilio page and records it."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return "http://{}:{}".format(*self._server.server_address[:2])

    def __enter__(self) -> OtherHost:
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorded.append({"path": self.path, "authorization": self.headers.get("Authorization")})
                body = json.dumps({"messages": [], "next_page_uri": None}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


# --- secrets ------------------------------------------------------------------------------------------------


def secrets_in(config: Mapping[str, Any]) -> list[str]:
    """The secrets a config holds, and the Basic-auth header value built from them."""
    credentials = config.get("credentials") if isinstance(config.get("credentials"), Mapping) else {}
    pairs = [
        (config.get("account_sid"), credentials.get("auth_token") or config.get("auth_token")),
        (credentials.get("api_key_sid"), credentials.get("api_key_secret")),
    ]
    found = []
    for user, secret in pairs:
        if isinstance(secret, str) and len(secret.strip()) >= 8:
            found.append(secret.strip())
            if isinstance(user, str):
                found.append(base64.b64encode(f"{user.strip()}:{secret.strip()}".encode()).decode())
    return found


def known_secrets(dataset: Dataset | None, *configs: Mapping[str, Any]) -> list[str]:
    secrets = list(secrets_of(dataset)) if dataset is not None else []
    for config in configs:
        secrets += secrets_in(config)
    return sorted(set(secrets))


def assert_no_secrets(run: Run, secrets: Iterable[str]) -> None:
    """Every line the run wrote, stdout and stderr, is free of every secret (the message shows it masked)."""
    secrets = [secret for secret in secrets if secret]
    for name, text in (("stdout", run.stdout), ("stderr", run.stderr)):
        for number, line in enumerate(text.splitlines(), start=1):
            leaked = [secret for secret in secrets if secret in line]
            if leaked:
                masked = line
                for secret in leaked:
                    masked = masked.replace(secret, "<SECRET>")
                pytest.fail(f"{name} line {number} holds {len(leaked)} secret(s): {masked[:500]}")
