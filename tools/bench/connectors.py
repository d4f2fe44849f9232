"""The two connectors under test, each set up against one running emulator: command, config, catalog."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integration_tests.connector_runner import START_DATE, catalog_for
from tools.bench import upstream
from tools.bench.emulator import EmulatorProcess
from tools.bench.process import Measurement, clean_environment, measure

OURS = "ours"
UPSTREAM = "upstream"


@dataclass
class Connector:
    """A connector ready to run ``spec``, ``check`` and ``read`` against one emulator."""

    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    config: Path
    catalog: Path
    logs: Path
    _runs: Counter[str] = field(default_factory=Counter, init=False, repr=False)

    def run(self, verb: str, timeout: float, state: Sequence[Any] | None = None) -> Measurement:
        """``state``: the STATE messages to resume from (the last of each stream of an earlier read)."""
        arguments = [*self.command, verb]
        if verb in ("check", "discover", "read"):
            arguments += ["--config", str(self.config)]
        if verb == "read":
            arguments += ["--catalog", str(self.catalog)]
        if state:
            arguments += ["--state", str(_write(self.logs / f"state-{self._runs[verb] + 1}.json", list(state)))]
        self._runs[verb] += 1
        stderr_path = self.logs / f"{verb}-{self._runs[verb]}.stderr"
        return measure(arguments, cwd=self.cwd, env=self.env, timeout=timeout, stderr_path=stderr_path)


def _write(path: Path, payload: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1))
    return path


def ours(
    emulator: EmulatorProcess,
    streams: Sequence[str],
    workdir: Path,
    root: Path,
    workers: int | None,
    sync_mode: str = "full_refresh",
) -> Connector:
    """``python main.py`` of the checkout at ``root``, pointed at the emulator by its test-only variable."""
    workdir = workdir / OURS
    config: dict[str, Any] = {
        "account_sid": emulator.info["account_sid"],
        "credentials": {"auth_type": "auth_token", "auth_token": emulator.info["auth_token"]},
        "start_date": START_DATE,
    }
    if workers is not None:
        config["num_workers"] = workers
    return Connector(
        name=OURS,
        command=[sys.executable, str(root / "main.py")],
        cwd=root,
        env={**clean_environment(), "SOURCE_TWILIO_EMULATOR_URL": emulator.url},
        config=_write(workdir / "config.json", config),
        catalog=_write(workdir / "catalog.json", catalog_for(streams, sync_mode)),
        logs=workdir,
    )


def airbyte(
    emulator: EmulatorProcess,
    streams: Sequence[str],
    workdir: Path,
    timeout: float,
    retention_margin: bool,
    sync_mode: str = "full_refresh",
) -> Connector:
    """Airbyte's 0.16.0 from its virtualenv, run from the scratch directory holding the patched manifest;
    its configured catalog comes from its own ``discover``."""
    workdir = workdir / UPSTREAM
    connector = Connector(
        name=UPSTREAM,
        command=[str(upstream.entry_point())],
        cwd=upstream.prepare(emulator.url, retention_margin),
        env=clean_environment(),
        config=_write(workdir / "config.json", upstream.config(emulator.info, START_DATE)),
        catalog=workdir / "catalog.json",
        logs=workdir,
    )
    discovered = connector.run("discover", timeout)
    if discovered.output.catalog is None:
        raise RuntimeError(f"Airbyte's connector discovered nothing:\n{discovered.stderr_tail()}")
    _write(connector.catalog, upstream.configured_catalog(discovered.output.catalog, streams, sync_mode))
    return connector
