"""What each command imports: what it needs and no more, so ``spec`` and ``check`` answer in a fraction of a second.

The CDK's package ``__init__`` imports all of the CDK (its declarative framework, file-based sources, destinations,
jinja2), and its protocol serializers read the source code of every model for documentation: together about
three quarters of a second-and-a-half start-up that every command paid, none of which the connector uses.
"""

from __future__ import annotations

import functools
import subprocess
import sys

import pytest

from integration_tests.connector_runner import (
    MAIN,
    ROOT,
    auth_token_config,
    catalog_for,
    run_connector,
    write_inputs,
)
from integration_tests.emulator import Dataset, DatasetOptions, serve
from source_twilio.config import EMULATOR_URL_ENV

pytestmark = pytest.mark.e2e

NOT_NEEDED = (
    "airbyte_cdk.sources.declarative",
    "airbyte_cdk.legacy",
    "airbyte_cdk.sources.file_based",
    "airbyte_cdk.destinations",
    "jinja2",
)


@pytest.fixture(scope="module")
def emulator():
    with serve(
        Dataset(DatasetOptions(seed=5, messages_per_account=20, calls_per_account=10, subaccounts=1))
    ) as running:
        yield running


def imported_by(command: str, emulator, workdir) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``read with state`` reads incrementally from the STATE messages of a first read."""
    args = [sys.executable, "-X", "importtime", str(MAIN), command.split()[0]]
    if command != "spec":
        config = auth_token_config(emulator.dataset)
        catalog = catalog_for(["messages", "calls"], "incremental") if command.startswith("read") else None
        state = None
        if command == "read with state":
            (workdir / "first").mkdir()
            first = run_connector("read", emulator.url, workdir / "first", config=config, catalog=catalog)
            state = [message["state"] for message in first.messages if message["type"] == "STATE"]
            assert state
        args += write_inputs(workdir, config=config, catalog=catalog, state=state)
    env = {"PATH": "/usr/bin:/bin", EMULATOR_URL_ENV: emulator.url}
    completed = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    modules = {
        line.rpartition("|")[2].strip() for line in completed.stderr.splitlines() if line.startswith("import time:")
    }
    return completed, modules


@pytest.mark.parametrize("command", ["spec", "check", "discover", "read"])
def test_given_a_command_then_it_imports_nothing_of_the_cdk_it_does_not_use(command, emulator, tmp_path):
    completed, modules = imported_by(command, emulator, tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert '"type":' in completed.stdout
    assert "airbyte_cdk.models.airbyte_protocol" in modules  # the measurement works: the protocol models are imported
    assert not {module for module in modules if module.startswith(NOT_NEEDED)}


SOURCE_FRAMEWORK = ("airbyte_cdk.sources.abstract_source", "airbyte_cdk.sources.streams.http", "pydantic")


@pytest.mark.parametrize("command", ["spec", "check"])
def test_given_spec_or_check_then_the_cdks_source_framework_is_not_imported(command, emulator, tmp_path):
    """They need the spec, one request and the CDK's messages; streams, HTTP clients and their models are for
    ``discover`` and ``read``."""
    completed, modules = imported_by(command, emulator, tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert ('"SPEC"' if command == "spec" else '"SUCCEEDED"') in completed.stdout
    assert not {module for module in modules if module.startswith(SOURCE_FRAMEWORK)}


@pytest.mark.parametrize("command", ["discover", "read"])
def test_given_discover_or_read_then_only_pydantics_first_version_is_imported(command, emulator, tmp_path):
    """The CDK's source framework needs ``pydantic.v1``, a package of its own inside pydantic 2; importing it ran
    pydantic 2's ``__init__`` first (pydantic-core and its schema types: 0.1 G instructions, 6% of start-up)."""
    completed, modules = imported_by(command, emulator, tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "pydantic.v1.main" in modules  # the measurement works
    assert not {module for module in modules if module.startswith("pydantic") and not module.startswith("pydantic.v1")}


PROTOCOL_SERIALIZERS = ("airbyte_cdk.models.airbyte_protocol_serializers", "serpyco_rs._main")


@pytest.mark.parametrize("command", ["spec", "check", "discover", "read", "read with state"])
def test_given_a_command_then_the_protocol_serializers_are_not_built(command, emulator, tmp_path):
    """Building the serializers (serpyco-rs describing every protocol model) was a third of what ``check`` took,
    and a tenth of a read's start-up; the messages in and out are plain JSON (``protocol``)."""
    completed, modules = imported_by(command, emulator, tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert '"type":' in completed.stdout
    assert "airbyte_cdk.models.airbyte_protocol" in modules  # the measurement works
    assert not {module for module in modules if module.startswith(PROTOCOL_SERIALIZERS)}


def _cdk_lines(args: list[str]) -> list[str]:
    from airbyte_cdk.connector import BaseConnector
    from airbyte_cdk.entrypoint import AirbyteEntrypoint

    from source_twilio.source import SourceTwilio

    source = SourceTwilio()
    source.spec = functools.partial(BaseConnector.spec, source)  # the spec as the CDK loads it, not as we do
    entrypoint = AirbyteEntrypoint(source)
    return list(entrypoint.run(entrypoint.parse_args(args)))


def test_given_spec_then_the_line_is_the_one_the_cdks_entry_point_writes(emulator, tmp_path):
    completed, _ = imported_by("spec", emulator, tmp_path)
    assert completed.stdout.splitlines() == _cdk_lines(["spec"])


def test_given_check_then_its_lines_are_the_ones_the_cdks_entry_point_writes(emulator, tmp_path, monkeypatch):
    completed, _ = imported_by("check", emulator, tmp_path)
    ours = completed.stdout.splitlines()
    monkeypatch.setenv(EMULATOR_URL_ENV, emulator.url)
    (tmp_path / "cdk").mkdir()
    config = write_inputs(tmp_path / "cdk", config=auth_token_config(emulator.dataset))
    status = [line for line in ours if '"CONNECTION_STATUS"' in line]
    assert status == _cdk_lines(["check", *config])
    assert '{"type":"LOG","log":{"level":"INFO","message":"Check succeeded"}}' in ours
