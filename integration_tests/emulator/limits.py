"""Twilio's numeric rules that both the dataset and the server must agree on."""

MESSAGE_RETENTION_DAYS = 400
"""The longest message retention (and the default): messages and their media older than the account's
retention are gone, and date filters reaching further back fail (20004)."""

MIN_MESSAGE_RETENTION_DAYS = 7
"""The shortest message retention a customer may set (Twilio's data controls allow 7 to 400 days)."""

ALERT_RETENTION_DAYS = 30
"""Monitor keeps alerts this long; older StartDate values are refused."""

ALERT_RESULT_LIMIT = 10_000
"""Monitor refuses an Alerts query that matches more results than this (the server can lower it for tests)."""

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

MAX_CALL_SECONDS = 4 * 3600
"""No generated call lasts longer, so an EndTime range bounds the StartTime range the server bisects."""

MONITOR_EVENT_RETENTION_DAYS = 30
"""Monitor keeps events (the audit log) this long without Editions; older StartDate values are refused like alerts'."""

VOICE_INSIGHTS_RETENTION_DAYS = 30
"""Voice Insights keeps call summaries this long; a StartTime/EndTime further back gets 400/17002."""

VERIFY_MAX_PAGE_SIZE = 100
"""Verify answers a PageSize above this with 400, whatever its OpenAPI spec's 1000 says."""
