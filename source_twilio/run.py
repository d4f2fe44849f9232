"""Entry point of the connector (``main.py`` and the ``source-twilio`` console script).

It imports nothing of the CDK itself: ``startup`` first says how the CDK is to be imported.
"""

from __future__ import annotations

import sys

from source_twilio.startup import import_cdk_lightly


def run(args: list[str] | None = None) -> None:
    import_cdk_lightly()
    from source_twilio.process import run_process

    run_process(sys.argv[1:] if args is None else args)
