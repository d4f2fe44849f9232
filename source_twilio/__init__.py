"""source-twilio: an Airbyte source connector for Twilio."""

from source_twilio.source import SourceTwilio

__all__ = ["SourceTwilio"]
