"""One connector command as a measured child process: wall time, CPU, peak RSS, and what it emitted.

Standard output is streamed into counters (records per stream, error traces), never kept whole, so the
benchmark's own memory and CPU stay small next to the connector's. CPU time comes from ``os.wait4`` on the child:
the child's own (and its children's), not the benchmark's. Peak RSS does not: a spawned child runs in its parent's
pages until it starts the command, and the kernel counts them in the child's ``ru_maxrss``, so every command
measured after the benchmark had grown to 96 MB read 96 MB. It is the command's own high-water mark instead
(``VmHWM``), read while it runs (``PeakRss``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

RECORD_PREFIX = b'{"type":"RECORD","record":{"stream":"'
"""How both CDKs (6 and 7) serialize a record; other lines are parsed as JSON."""
DROPPED_ENVIRONMENT = (
    "DEPLOYMENT_MODE",
    "PYTHONPATH",
    "PYTHONHOME",
    "SOURCE_TWILIO_EMULATOR_URL",
    "REQUEST_CACHE_PATH",
)
"""``DEPLOYMENT_MODE=cloud`` makes CDK 6 refuse http:// and private-IP URLs; the others would change
what runs or where it connects."""


RSS_POLL_SECONDS = 0.005


class PeakRss:
    """A running process's own peak resident memory (``VmHWM`` in ``/proc/<pid>/status``, which only grows), read
    every few milliseconds until ``stop``; at most what it grew in the last few milliseconds of its life is missed."""

    def __init__(self, pid: int) -> None:
        self._path = Path(f"/proc/{pid}/status")
        self._stopped = threading.Event()
        self.kilobytes = 0
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while True:
            self._read()
            if self._stopped.wait(RSS_POLL_SECONDS):
                return

    def _read(self) -> None:
        try:
            text = self._path.read_text()
        except OSError:  # gone (reaped)
            return
        for line in text.splitlines():
            if line.startswith("VmHWM:"):  # absent once the process has exited (a zombie has no memory)
                self.kilobytes = max(self.kilobytes, int(line.split()[1]))
                return

    def stop(self) -> int:
        """Stops watching (call it before the process is reaped); the peak seen, in kilobytes."""
        self._stopped.set()
        self._thread.join()
        return self.kilobytes


@dataclass
class Output:
    """What a connector wrote on standard output, tallied line by line."""

    records: Counter[str] = field(default_factory=Counter)
    bytes: int = 0
    record_bytes: int = 0
    state_bytes: int = 0
    states: dict[str, Any] = field(default_factory=dict)  # the last STATE message per stream: the next sync's state
    errors: Counter[str] = field(default_factory=Counter)  # error traces by stream ("-": none named)
    first_errors: dict[str, str] = field(default_factory=dict)
    failed_streams: set[str] = field(default_factory=set)
    connection_status: str | None = None
    catalog: dict[str, Any] | None = None
    other_lines: int = 0

    def take(self, line: bytes) -> None:
        self.bytes += len(line)
        if line.startswith(RECORD_PREFIX):
            self.record_bytes += len(line)
            start = len(RECORD_PREFIX)
            self.records[line[start : line.index(b'"', start)].decode()] += 1
            return
        try:
            message = json.loads(line)
        except ValueError:
            self.other_lines += 1  # not a protocol message: a stray print
            return
        self._take_message(message)

    def _take_message(self, message: Mapping[str, Any]) -> None:
        kind = message.get("type")
        if kind == "RECORD":
            self.records[message["record"]["stream"]] += 1
        elif kind == "CONNECTION_STATUS":
            self.connection_status = message["connectionStatus"]["status"]
        elif kind == "CATALOG":
            self.catalog = message["catalog"]
        elif kind == "TRACE":
            self._take_trace(message["trace"])
        elif kind == "STATE":
            state = message["state"]
            self.state_bytes += len(json.dumps(message, separators=(",", ":"))) + 1
            if state.get("type") == "STREAM":
                name = state["stream"]["stream_descriptor"]["name"]
                self.states[name] = {"type": "STREAM", "stream": state["stream"]}

    def _take_trace(self, trace: Mapping[str, Any]) -> None:
        if trace.get("type") == "ERROR":
            error = trace["error"]
            stream = (error.get("stream_descriptor") or {}).get("name", "-")
            self.errors[stream] += 1
            detail = error.get("internal_message") or error.get("message") or ""
            self.first_errors.setdefault(stream, detail.split(" Request (body)")[0][:400])
        elif trace.get("type") == "STREAM_STATUS" and trace["stream_status"]["status"] == "INCOMPLETE":
            self.failed_streams.add(trace["stream_status"]["stream_descriptor"]["name"])

    @property
    def total_records(self) -> int:
        return sum(self.records.values())


@dataclass
class Measurement:
    """One finished command."""

    returncode: int
    wall_seconds: float
    user_seconds: float
    system_seconds: float
    peak_rss_mb: float
    output: Output
    stderr_path: str
    timed_out: bool = False

    @property
    def cpu_seconds(self) -> float:
        return self.user_seconds + self.system_seconds

    def stderr_tail(self, lines: int = 5) -> str:
        text = Path(self.stderr_path).read_text(errors="replace").strip().splitlines()
        return "\n".join(text[-lines:])


def measure(
    arguments: Iterable[str], *, cwd: Path, env: Mapping[str, str], timeout: float, stderr_path: Path
) -> Measurement:
    """Run ``arguments`` to completion (killed after ``timeout`` seconds), counting what it emits."""
    with stderr_path.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(arguments), cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=stderr, start_new_session=True
        )
        peak = PeakRss(process.pid)
        timed_out = threading.Event()
        watchdog = threading.Timer(timeout, lambda: (timed_out.set(), _kill_group(process.pid)))
        watchdog.start()
        try:
            output = _tally(process.stdout)
            os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: /proc still answers
            peak_kilobytes = peak.stop()
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # interrupted: the child is in its own session and would not get the Ctrl-C
            _kill_group(process.pid)
            raise
        finally:
            peak.stop()
            watchdog.cancel()
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: Popen must not wait again
    return Measurement(
        returncode=process.returncode,
        wall_seconds=wall,
        user_seconds=usage.ru_utime,
        system_seconds=usage.ru_stime,
        peak_rss_mb=(peak_kilobytes or usage.ru_maxrss) / 1024,  # kilobytes on Linux
        output=output,
        stderr_path=str(stderr_path),
        timed_out=timed_out.is_set(),
    )


def clean_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in DROPPED_ENVIRONMENT}


def _tally(stdout: IO[bytes] | None) -> Output:
    output = Output()
    assert stdout is not None
    with stdout:
        for line in stdout:
            output.take(line)
    return output


def _kill_group(pid: int) -> None:
    """The child runs in its own session (``start_new_session``): kill it and the threads or children it has."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
