"""The CDK's standard connector tests, driven by acceptance-test-config.yml, against the emulator."""

from __future__ import annotations

import pytest
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase

from integration_tests.emulator import Dataset, DatasetOptions, serve
from source_twilio import SourceTwilio
from source_twilio.config import EMULATOR_URL_ENV

# integration_tests/configs/*.json hold the credentials of the dataset with this seed.
CONFIG_SEED = 11


@pytest.fixture(scope="module", autouse=True)
def emulator():
    with serve(Dataset(DatasetOptions(seed=CONFIG_SEED))) as running, pytest.MonkeyPatch.context() as patch:
        patch.setenv(EMULATOR_URL_ENV, running.url)
        yield running


@pytest.mark.e2e
class TestSourceTwilioStandard(SourceTestSuiteBase):
    connector = SourceTwilio
