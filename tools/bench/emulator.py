"""The Twilio emulator as a separate process, so that its CPU time is its own and can be reported."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STARTUP_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class Workload:
    """What the emulator holds and how it answers."""

    accounts: int  # the main account and accounts - 1 active subaccounts
    messages: int  # per account
    calls: int  # per account
    latency_ms: float
    concurrency_limit: int  # per account; 0 = none
    seed: int = 1
    usage_days: int = 450  # of daily usage per account

    def arguments(self) -> list[str]:
        return [
            f"--seed={self.seed}",
            f"--messages={self.messages}",
            f"--calls={self.calls}",
            f"--subaccounts={self.accounts - 1}",
            "--suspended=0",
            f"--latency-ms={self.latency_ms:g}",
            f"--concurrency-limit={self.concurrency_limit}",
            f"--usage-days={self.usage_days}",
        ]

    def describe(self) -> str:
        limit = f"at most {self.concurrency_limit} in flight per account" if self.concurrency_limit else "no limit"
        return (
            f"{self.accounts} accounts, {self.messages:,} messages and {self.calls:,} calls per account, "
            f"{self.latency_ms:g} ms per request, {limit}"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Usage:
    """What the emulator did between two snapshots."""

    cpu_seconds: float
    requests: int
    status_429: int
    by_status: dict[str, int]
    max_in_flight_per_account: int


class EmulatorProcess:
    """``python -m integration_tests.emulator`` in its own process; a context manager."""

    def __init__(self, workload: Workload, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workload = workload
        self._info_file = workdir / "emulator.json"
        self._info_file.unlink(missing_ok=True)
        self._log = (workdir / "emulator.log").open("wb")
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "integration_tests.emulator",
                "--port=0",
                f"--info-file={self._info_file}",
                *workload.arguments(),
            ],
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.info = self._wait_for_info()
        self.url: str = self.info["url"]

    def _wait_for_info(self) -> dict[str, Any]:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self._info_file.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"the emulator did not start; see {self._log.name}")
            time.sleep(0.1)
        return json.loads(self._info_file.read_text())

    def cpu_seconds(self) -> float:
        """User + system CPU time of the emulator so far (all its threads), from /proc."""
        text = Path(f"/proc/{self._process.pid}/stat").read_text()
        fields = text[text.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime: fields 14 and 15 of stat

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self._process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _control(self, method: str, action: str) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.url}/_emulator/{action}", method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def begin(self) -> float:
        """Zero the request counters; returns the CPU reading to hand to :meth:`usage_since`."""
        self._control("POST", "reset-stats")
        return self.cpu_seconds()

    def usage_since(self, cpu_before: float) -> Usage:
        stats = self._control("GET", "stats")
        return Usage(
            cpu_seconds=round(self.cpu_seconds() - cpu_before, 3),
            requests=stats["total_requests"],
            status_429=stats["status_429"],
            by_status=stats["by_status"],
            max_in_flight_per_account=max(stats["max_in_flight_by_account"].values(), default=0),
        )

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
