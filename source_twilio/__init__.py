"""source-twilio: an Airbyte source connector for Twilio."""

from __future__ import annotations

from typing import Any

__all__ = ["SourceTwilio"]


def __getattr__(name: str) -> Any:
    """``SourceTwilio`` is imported when asked for, so that importing the entry point imports none of the CDK."""
    if name == "SourceTwilio":
        from source_twilio.source import SourceTwilio

        return SourceTwilio
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
