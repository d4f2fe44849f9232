"""Packaging for source-twilio. The version is read from metadata.yaml (dockerImageTag), its one source."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r"^\s*dockerImageTag:\s*([\w.\-]+)\s*$", (HERE / "metadata.yaml").read_text(), re.M).group(1)

MAIN_REQUIREMENTS = [
    "airbyte-cdk>=7.39,<8",
    "requests>=2.32,<3",
    "pendulum>=3,<4",
    "orjson>=3.9",  # also a dependency of the CDK; parses pages several times faster than json
]

TEST_REQUIREMENTS = [
    "pytest>=8",
    "requests-mock>=1.12",
    "hypothesis>=6",
    "ruff==0.17.6",
]

setup(
    name="source-twilio",
    version=VERSION,
    description="Airbyte source connector for Twilio: messages, calls, recordings, usage, numbers, alerts and more.",
    author="source-twilio developers",
    python_requires=">=3.10,<3.15",
    packages=find_packages(include=["source_twilio", "source_twilio.*"]),
    install_requires=MAIN_REQUIREMENTS,
    package_data={"source_twilio": ["spec.yaml", "schemas/*.json", "schemas/shared/*.json"]},
    extras_require={"tests": TEST_REQUIREMENTS},
    entry_points={"console_scripts": ["source-twilio=source_twilio.run:run"]},
)
