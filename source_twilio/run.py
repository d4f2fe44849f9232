"""Entry point of the connector (``main.py`` and the ``source-twilio`` console script)."""

from __future__ import annotations

import sys

from airbyte_cdk.entrypoint import launch

from source_twilio.preflight import preflight
from source_twilio.source import SourceTwilio


def run(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    failure = preflight(args)
    if failure is not None:
        print(failure.message_line, flush=True)
        sys.exit(failure.exit_code)
    launch(SourceTwilio(), args)
