"""Entry point of the connector (``main.py`` and the ``source-twilio`` console script).

It imports nothing of the CDK itself: ``startup`` first says how the CDK is to be imported.
"""

from __future__ import annotations

import sys

from source_twilio.startup import import_cdk_lightly, pause_collection


def run(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    pause_collection()  # until ``run_process`` (``spec`` and ``check`` end within their start-up)
    import_cdk_lightly()
    from source_twilio.preflight import preflight

    failure = preflight(args)
    if failure is not None:
        print(failure.message_line, flush=True)
        sys.exit(failure.exit_code)
    from source_twilio.commands import answered

    if answered(args):  # spec and check: without the CDK's source framework
        return
    from source_twilio.process import run_process

    run_process(args)
