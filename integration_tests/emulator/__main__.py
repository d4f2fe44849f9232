"""Run the emulator as a process: ``python -m integration_tests.emulator --port 0 --info-file info.json``.

Prints ``listening on http://HOST:PORT`` once ready (after writing ``--info-file``: JSON with ``url``
and the credentials) and serves until SIGTERM or SIGINT, then exits 0. The "harsher Twilio" flags
are all off by default; see integration_tests/emulator/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .data import Dataset, DatasetOptions
from .faults import Faults, PersistentFault
from .limits import ALERT_RESULT_LIMIT, MESSAGE_RETENTION_DAYS
from .server import serve


def _utc_datetime(text: str) -> datetime:
    moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _persistent_fault(text: str) -> PersistentFault:
    try:
        return PersistentFault.parse(text)
    except (ValueError, re.error) as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m integration_tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    data = parser.add_argument_group("dataset")
    data.add_argument("--seed", type=int, default=1)
    data.add_argument(
        "--region", choices=("us1", "ie1", "au1"), default="us1", help="where the accounts live (others' hosts: 401)"
    )
    data.add_argument("--messages", type=int, default=300, help="messages per account")
    data.add_argument("--calls", type=int, default=150, help="calls per account")
    data.add_argument("--subaccounts", type=int, default=2)
    data.add_argument("--suspended", type=int, default=1, help="how many of the subaccounts are suspended")
    data.add_argument("--alerts", type=int, default=60)
    data.add_argument("--usage-days", type=int, default=450, help="days of daily usage records per account")
    clock = data.add_mutually_exclusive_group()
    clock.add_argument(
        "--now", type=_utc_datetime, default=None, help="ISO time to build around, e.g. 2026-05-20T15:30:00Z"
    )
    clock.add_argument(
        "--clock-skew",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Twilio's clock (data, retention, Date header) = this machine's + SECONDS; negative: Twilio is behind",
    )
    data.add_argument(
        "--message-retention-days",
        type=int,
        default=MESSAGE_RETENTION_DAYS,
        metavar="DAYS",
        help="the account's message retention, 7..400 (older messages and media are gone; filters reaching "
        "further back get 400/20004, whose text still says 400 days)",
    )
    behaviour = parser.add_argument_group("behaviour")
    behaviour.add_argument("--latency-ms", type=float, default=0)
    behaviour.add_argument("--concurrency-limit", type=int, default=0, help="max in-flight requests per account")
    behaviour.add_argument("--log-requests", action="store_true")
    behaviour.add_argument(
        "--background-concurrency",
        type=int,
        default=0,
        metavar="N",
        help="the customer's own requests in flight on every account (in Twilio-Concurrent-Requests and the limit)",
    )
    behaviour.add_argument(
        "--visibility-lag",
        type=float,
        default=0,
        metavar="SECONDS",
        help="what POST /_emulator/mutate writes is listed only this long after (eventual consistency)",
    )
    behaviour.add_argument(
        "--exclusive-upper-bounds",
        action="store_true",
        help="X< filters, usage EndDate and alerts EndDate mean strictly before (the instant, or the UTC day)",
    )
    behaviour.add_argument(
        "--alert-result-limit",
        type=int,
        default=ALERT_RESULT_LIMIT,
        metavar="N",
        help="Alerts queries matching more than N alerts get 400/20001 (Monitor's cap is 10,000)",
    )
    faults = parser.add_argument_group("faults (probabilities per request; persistent rules)")
    faults.add_argument("--fault-429", type=float, default=0.0)
    faults.add_argument("--fault-500", type=float, default=0.0)
    faults.add_argument("--fault-5xx", type=float, default=0.0, help="split evenly between 500 and 503")
    faults.add_argument("--fault-503", type=float, default=0.0)
    faults.add_argument("--fault-drop", type=float, default=0.0)
    faults.add_argument("--fault-truncate", type=float, default=0.0)
    faults.add_argument("--fault-slow", type=float, default=0.0)
    faults.add_argument("--slow-seconds", type=float, default=5.0)
    faults.add_argument("--fault-transient-401", type=float, default=0.0)
    faults.add_argument("--fault-html", type=float, default=0.0)
    faults.add_argument("--retry-after", type=float, default=None, help="seconds for a Retry-After header on 429s")
    faults.add_argument("--persistent-failure-path", default=None, help="regex: matching paths always get 500")
    faults.add_argument(
        "--persistent-fault",
        type=_persistent_fault,
        action="append",
        default=[],
        metavar="STATUS:CODE:PATH_REGEX[?QUERY_REGEX]",
        help="matching requests always get this Twilio error, e.g. '401:20003:/Messages\\.json?DateSent>=2026-05' "
        "(query regex searched in the URL-decoded query string; repeatable, first match wins)",
    )
    faults.add_argument("--foreign-next-page-host", default=None)
    faults.add_argument(
        "--stuck-page-token",
        default=None,
        metavar="PATH_REGEX",
        help="matching lists link a page asked for with a PageToken to that same token: the same page, forever",
    )
    faults.add_argument(
        "--endless-pages",
        default=None,
        metavar="PATH_REGEX",
        help="matching lists link their last page to an empty page, and every empty page to itself, forever",
    )
    faults.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--info-file", type=Path, default=None, help="write url and credentials here as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    now = args.now
    if args.clock_skew is not None:
        now = datetime.now(timezone.utc) + timedelta(seconds=args.clock_skew)
    try:
        dataset = _dataset(args, now)
        faults = _faults(args)
    except ValueError as error:
        parser.error(str(error))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        emulator = serve(
            dataset,
            faults=faults,
            latency_ms=args.latency_ms,
            concurrency_limit=args.concurrency_limit,
            host=args.host,
            port=args.port,
            log_requests=args.log_requests,
            visibility_lag_seconds=args.visibility_lag,
            upper_bounds="exclusive" if args.exclusive_upper_bounds else "inclusive",
            alert_result_limit=args.alert_result_limit,
            background_concurrency=args.background_concurrency,
        )
    except ValueError as error:
        parser.error(str(error))
    with emulator:
        if args.info_file is not None:
            partial = args.info_file.with_name(args.info_file.name + ".partial")
            partial.write_text(json.dumps({"url": emulator.url, **dataset.credentials}, indent=2))
            os.replace(partial, args.info_file)
        print(f"listening on {emulator.url}", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


def _dataset(args: argparse.Namespace, now: datetime | None) -> Dataset:
    return Dataset(
        DatasetOptions(
            seed=args.seed,
            subaccounts=args.subaccounts,
            suspended_subaccounts=args.suspended,
            messages_per_account=args.messages,
            calls_per_account=args.calls,
            alerts=args.alerts,
            usage_history_days=args.usage_days,
            message_retention_days=args.message_retention_days,
            now=now,
            region=args.region,
        )
    )


def _faults(args: argparse.Namespace) -> Faults:
    return Faults(
        rate_429=args.fault_429,
        rate_500=args.fault_500 + args.fault_5xx / 2,
        rate_503=args.fault_503 + args.fault_5xx / 2,
        rate_drop=args.fault_drop,
        rate_truncate=args.fault_truncate,
        rate_slow=args.fault_slow,
        slow_seconds=args.slow_seconds,
        rate_transient_401=args.fault_transient_401,
        rate_html=args.fault_html,
        retry_after=args.retry_after,
        persistent=tuple(args.persistent_fault),
        persistent_failure_path=args.persistent_failure_path,
        foreign_next_page_host=args.foreign_next_page_host,
        stuck_page_token=args.stuck_page_token,
        endless_pages=args.endless_pages,
        seed=args.fault_seed,
    )


if __name__ == "__main__":
    sys.exit(main())
