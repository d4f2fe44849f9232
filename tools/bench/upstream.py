"""Airbyte's Twilio connector (airbyte-source-twilio 0.16.0, airbyte-cdk 6) pointed at the emulator.

It hard-codes ``https://api.twilio.com`` and ``https://monitor.twilio.com``. Its source class asks its
CDK for ``path_to_yaml="manifest.yaml"``, and the CDK 6 ``YamlDeclarativeSource._read_and_parse_yaml_file``
first ``open()``s that path relative to the working directory and falls back to the packaged file
(``pkgutil.get_data``) only on ``FileNotFoundError``. So a copy of the packaged manifest with both hosts
rewritten to the emulator's URL, in a scratch directory the connector runs from, points it there.

The CDK refuses plain-http and private-IP URLs only when ``DEPLOYMENT_MODE=cloud`` (its
``_init_internal_request_filter``): the connector runs with ``DEPLOYMENT_MODE`` removed.

One more change, unless ``retention_margin=False``: its messages, media and recordings start at
``day_delta(-400)``, exactly Twilio's 400-day retention, computed when the stream starts. The emulator
checks retention to the second at request time (its harsher reading), so by the time the first request
leaves, the start is a second or more too old and Twilio's 400/20004 fails the whole stream: Airbyte's
connector would skip messages and media, most of the work, and look fast. ``day_delta(-399)`` gives the
one-day margin the emulator's README asks for; no record lies within a day of the edge, so what it reads
is unchanged.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tools.bench.process import clean_environment

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "airbyte-source-twilio"
VERSION = "0.16.0"
VENV = ROOT / ".bench" / "upstream-venv"
SCRATCH = ROOT / ".bench" / "upstream-run"
HOSTS = ("https://api.twilio.com", "https://monitor.twilio.com")
RETENTION_FLOOR = ("day_delta(-400,", "day_delta(-399,")
CWD_LOOKUP = 'with open(path_to_yaml_file, "r") as f:'
"""The working-directory lookup in CDK 6's yaml_declarative_source.py that the patched manifest relies on."""


def entry_point() -> Path:
    return VENV / "bin" / "source-twilio"


def ensure_installed(python: str = "python3.11") -> str:
    """Install the pinned release into its own virtualenv (once); returns the installed version."""
    if not entry_point().exists():
        interpreter = shutil.which(python)
        if interpreter is None:
            raise RuntimeError(f"{python} not found: Airbyte's connector 0.16.0 needs Python 3.11 (--upstream-python)")
        print(f"Installing {PACKAGE}=={VERSION} into {VENV.relative_to(ROOT)} (once) ...", flush=True)
        subprocess.run([interpreter, "-m", "venv", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, f"{PACKAGE}=={VERSION}"], check=True)
    version = _venv_python("import importlib.metadata as m; print(m.version('airbyte-source-twilio'))")
    _check_manifest_lookup()
    return version


def _venv_python(code: str) -> str:
    completed = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env=clean_environment(),
        cwd=VENV,  # not the repository, where ``import source_twilio`` would find ours
    )
    return completed.stdout.strip()


def _check_manifest_lookup() -> None:
    source = Path(
        _venv_python("import airbyte_cdk.sources.declarative.yaml_declarative_source as m; print(m.__file__)")
    )
    if CWD_LOOKUP not in source.read_text():
        raise RuntimeError(
            f"{source} no longer reads manifest.yaml from the working directory first: "
            "the patched manifest would be ignored (rewrite the hosts at the requests transport instead)"
        )


def packaged_manifest() -> Path:
    return Path(_venv_python("import pathlib, source_twilio; print(pathlib.Path(source_twilio.__file__).parent)")) / (
        "manifest.yaml"
    )


def patch_manifest(text: str, emulator_url: str, retention_margin: bool = True) -> str:
    """The manifest with every Twilio host the emulator serves rewritten to ``emulator_url``, and the
    400-day floor moved to 399 days if ``retention_margin``."""
    replacements = [(host, emulator_url.rstrip("/")) for host in HOSTS]
    for old, new in [*replacements, RETENTION_FLOOR] if retention_margin else replacements:
        if old not in text:
            raise RuntimeError(f"{old} not found in the packaged manifest: it changed, the patch must follow")
        text = text.replace(old, new)
    return text


def prepare(emulator_url: str, retention_margin: bool = True) -> Path:
    """Write the patched manifest into the scratch directory the connector runs from; returns that directory."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    manifest = patch_manifest(packaged_manifest().read_text(), emulator_url, retention_margin)
    (SCRATCH / "manifest.yaml").write_text(manifest)
    return SCRATCH


def config(info: Mapping[str, Any], start_date: str) -> dict[str, Any]:
    """Its spec: top-level ``auth_token``; ``num_worker`` (the manifest actually reads ``num_workers``,
    so its default concurrency of 3 applies either way)."""
    return {
        "account_sid": info["account_sid"],
        "auth_token": info["auth_token"],
        "start_date": start_date,
        "lookback_window": 0,
        "num_worker": 3,
    }


def configured_catalog(
    catalog: Mapping[str, Any], streams: Iterable[str], sync_mode: str = "full_refresh"
) -> dict[str, Any]:
    """Its own discovered streams, narrowed to ``streams`` (those the emulator serves), in ``sync_mode`` where the
    stream supports it (else full refresh), with its source-defined cursor."""
    wanted = set(streams)
    configured = []
    for stream in catalog["streams"]:
        if stream["name"] not in wanted:
            continue
        incremental = sync_mode == "incremental" and "incremental" in stream.get("supported_sync_modes", [])
        entry = {
            "stream": stream,
            "sync_mode": "incremental" if incremental else "full_refresh",
            "destination_sync_mode": "append" if incremental else "overwrite",
        }
        if incremental:
            entry["cursor_field"] = stream.get("default_cursor_field", [])
        configured.append(entry)
    missing = wanted - {entry["stream"]["name"] for entry in configured}
    if missing:
        raise RuntimeError(f"Airbyte's connector does not offer {sorted(missing)}")
    return {"streams": configured}
