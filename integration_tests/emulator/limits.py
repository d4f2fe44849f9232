"""Twilio's numeric rules that both the dataset and the server must agree on."""

MESSAGE_RETENTION_DAYS = 400
"""Messages and their media older than this are gone; date filters reaching further back fail (20004)."""

ALERT_RETENTION_DAYS = 30
"""Monitor keeps alerts this long; older StartDate values are refused."""

ALERT_RESULT_LIMIT = 10_000
"""Monitor refuses an Alerts query that matches more results than this."""

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

MAX_CALL_SECONDS = 4 * 3600
"""No generated call lasts longer, so an EndTime range bounds the StartTime range the server bisects."""
