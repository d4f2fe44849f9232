"""The Docker image's packaging agrees with itself: Dockerfile, metadata.yaml, setup.py, constraints.txt.

Pure file parsing: no Docker here (`make docker-test` builds and runs the image).
"""

import importlib.metadata
import json
import re
import runpy
import shlex
from pathlib import Path
from typing import Any

import pytest
import setuptools
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from source_twilio.config import REGIONS
from source_twilio.definitions import Host

ROOT = Path(__file__).resolve().parent.parent
TWILIO_DEFINITION_ID = "b9dc6155-672e-42ea-b10d-9f1f1fb95ab1"
# every host read: the streams' and OAuth's token endpoint, in each region
TWILIO_HOSTS = {f"{name}{part}.twilio.com" for name in (*(h.value for h in Host), "oauth") for part in REGIONS.values()}
DIGEST_PINNED_BASE = re.compile(r"^(docker\.io/)?airbyte/python-connector-base:4\.0\.\d+@sha256:[0-9a-f]{64}$")


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs of the Dockerfile, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            keyword, _, arguments = full.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def key_values(instruction: str) -> dict[str, str]:
    """The KEY=value pairs of every LABEL, ENV or ARG instruction of that name (quotes removed)."""
    pairs: dict[str, str] = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == instruction:
            for word in shlex.split(arguments):
                key, _, value = word.partition("=")
                pairs[key] = value
    return pairs


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


@pytest.fixture(scope="module")
def metadata() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]


@pytest.fixture(scope="module")
def setup_arguments() -> dict[str, Any]:
    """The keyword arguments setup.py passes to setuptools.setup(), by running it with setup() captured."""
    captured: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(setuptools, "setup", lambda **kwargs: captured.update(kwargs))
        patch.chdir(ROOT)
        runpy.run_path(str(ROOT / "setup.py"), run_name="setup")
    return captured


@pytest.fixture(scope="module")
def constraints() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, separator, version = line.partition("==")
            assert separator and version, f"constraints.txt: {line!r} is not pinned as name==version"
            pins[canonicalize_name(name)] = version
    return pins


def test_given_the_dockerfile_then_its_labels_name_the_image_and_version_of_metadata_yaml(metadata):
    labels = key_values("LABEL")
    assert labels["io.airbyte.name"] == metadata["dockerRepository"] == "airbyte/source-twilio"
    assert labels["io.airbyte.version"] == metadata["dockerImageTag"]


def test_given_setup_py_then_its_version_is_the_docker_image_tag(metadata, setup_arguments):
    assert setup_arguments["version"] == metadata["dockerImageTag"]
    assert setup_arguments["name"] == "source-twilio"


def test_given_the_installed_package_then_its_version_is_the_docker_image_tag(metadata):
    # The virtualenv must be reinstalled (make venv) after a version bump.
    assert importlib.metadata.version("source-twilio") == metadata["dockerImageTag"]


def test_given_the_dockerfile_then_airbyte_entrypoint_equals_the_entrypoint():
    entrypoints = [json.loads(arguments) for keyword, arguments in final_stage() if keyword == "ENTRYPOINT"]
    assert entrypoints == [["python", "/airbyte/integration_code/main.py"]]
    assert key_values("ENV")["AIRBYTE_ENTRYPOINT"] == " ".join(entrypoints[0])


def test_given_the_dockerfile_then_the_image_runs_as_airbyte_from_the_integration_code_directory():
    stage = final_stage()
    users = [arguments for keyword, arguments in stage if keyword == "USER"]
    workdirs = [arguments for keyword, arguments in stage if keyword == "WORKDIR"]
    assert users and users[-1] == "airbyte"
    assert workdirs and workdirs[-1] == "/airbyte/integration_code"


def test_given_the_dockerfile_then_every_stage_builds_on_a_digest_pinned_overridable_base(metadata):
    default_base = key_values("ARG").get("BASE_IMAGE", "")
    assert DIGEST_PINNED_BASE.match(default_base), default_base
    assert default_base == metadata["connectorBuildOptions"]["baseImage"]
    stages = [arguments.split()[0] for keyword, arguments in dockerfile_instructions() if keyword == "FROM"]
    assert stages and all(stage == "${BASE_IMAGE}" for stage in stages)


def test_given_the_dockerfile_then_it_needs_no_frontend_from_a_registry():
    first_line = (ROOT / "Dockerfile").read_text().splitlines()[0]
    assert not first_line.lower().replace(" ", "").startswith("#syntax=")


def test_given_the_docker_context_then_it_is_an_allow_list_without_tests_or_secrets():
    rules = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and line[0] != "#"
    ]
    assert rules[0] == "*"
    allowed = [rule[1:].strip("/") for rule in rules if rule.startswith("!")]
    forbidden = ("unit_tests", "integration_tests", "secrets", ".venv", ".git", "tools", "docs")
    assert not [rule for rule in allowed if rule.split("/")[0] in forbidden or rule in ("*", "**")]


def test_given_metadata_yaml_then_it_describes_twilio_for_the_registry(metadata):
    assert metadata["definitionId"] == TWILIO_DEFINITION_ID
    assert metadata["connectorType"] == "source"
    assert metadata["connectorSubtype"] == "api"
    assert metadata["releaseStage"] in {"alpha", "beta", "generally_available", "custom"}
    assert metadata["documentationUrl"].startswith("https://")
    assert re.fullmatch(r"\d+\.\d+\.\d+", metadata["dockerImageTag"])


def test_given_metadata_yaml_then_allowed_hosts_are_exactly_the_twilio_hosts_contacted(metadata):
    hosts = metadata["allowedHosts"]["hosts"]
    assert len(hosts) == len(set(hosts))
    assert set(hosts) == TWILIO_HOSTS


def test_given_setup_py_then_constraints_pin_a_version_allowed_for_every_requirement(setup_arguments, constraints):
    for requirement in map(Requirement, setup_arguments["install_requires"]):
        pinned = constraints.get(canonicalize_name(requirement.name))
        assert pinned is not None, (
            f"{requirement.name} is not in constraints.txt: run tools/docker/freeze_constraints.sh"
        )
        assert requirement.specifier.contains(pinned, prereleases=True), f"{requirement} excludes the pin {pinned}"


def test_given_the_installed_package_then_constraints_are_exactly_its_runtime_closure(constraints):
    # The image installs constraints.txt alone (--no-deps): a missing pin would be a missing module.
    closure: dict[str, str] = {}
    visited: set[tuple[str, frozenset[str]]] = set()
    pending = [Requirement("source-twilio")]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if (name, frozenset(requirement.extras)) in visited:
            continue
        visited.add((name, frozenset(requirement.extras)))
        distribution = importlib.metadata.distribution(name)
        closure[name] = distribution.version
        for dependency in map(Requirement, distribution.requires or []):
            environments = [{"extra": extra} for extra in requirement.extras or {""}]
            if dependency.marker is None or any(dependency.marker.evaluate(env) for env in environments):
                pending.append(dependency)
    del closure["source-twilio"]
    assert sorted(closure) == sorted(constraints), "constraints.txt is stale: run tools/docker/freeze_constraints.sh"
    assert {name: version for name, version in closure.items() if constraints[name] != version} == {}, (
        "the virtualenv does not hold the pinned versions: install with -c constraints.txt"
    )
