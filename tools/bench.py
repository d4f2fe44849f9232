"""`make bench`: our connector against Airbyte's (airbyte-source-twilio 0.16.0) on the same emulated workload.

Scenarios (each starts its own emulator, a separate process whose CPU time is reported):
  standard     a full sync of every stream, with per-request latency and a per-account concurrency limit;
               also times `spec` and `check`
  cpu          the messages stream alone, no latency: records per CPU second
  cpubound     messages and calls (no media), 100 ms per request: where per-record cost, not Twilio, sets the pace
  double       a full sync at 1x and 2x messages and calls: peak RSS growth
  incremental  the incremental streams: a first sync, then one with nothing changed, at 1x and 5x the history
               (Airbyte's connector at 1x only, unless --upstream-at-5x): what the second sync costs
  accounts     1,000 subaccounts with a few messages, calls and days of usage each: a first and a second sync

Prints a table per scenario (medians of several runs) and the targets, and writes every run's figures to
output/bench/results.json. A missed target is reported, not failed: the exit status is 1 only for a broken
run (our connector exits non-zero or times out; a connector emits no record or sends no request).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from source_twilio.definitions import CORE_STREAMS  # noqa: E402
from tools.bench import report, upstream  # noqa: E402
from tools.bench.connectors import OURS, UPSTREAM, Connector, airbyte, ours  # noqa: E402
from tools.bench.emulator import EmulatorProcess, Workload  # noqa: E402
from tools.bench.figures import command_figures, read_figures, summarize, summarize_commands  # noqa: E402

OUTPUT = ROOT / "output" / "bench"
SCENARIOS = ("standard", "cpu", "cpubound", "double", "incremental", "accounts")
CPU_BOUND_STREAMS = ["messages", "calls"]
# Airbyte's 22 core streams, which both connectors read: the scenarios compare like with like.
BENCH_STREAMS = [definition.name for definition in CORE_STREAMS]
INCREMENTAL_STREAMS = [definition.name for definition in CORE_STREAMS if definition.incremental]
MANY_ACCOUNTS = {"accounts": 1_001, "messages": 5, "calls": 3, "usage_days": 7}

DEFAULT_CONCURRENCY_LIMIT = 20
"""Twilio does not publish its per-account concurrency limit; third parties report about 100. A fifth of
that is the harsher reading: above either connector's default concurrency (ours 10 workers, Airbyte's 3),
so neither is throttled for running as shipped, but low enough that a connector putting 40 requests on
one account meets 429s, and the table shows how it copes."""

QUICK = {"messages": 300, "calls": 150, "latency_ms": 20.0, "double_latency_ms": 0.0, "runs": 1, "upstream_runs": 1}


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of our connector per measurement (median)")
    parser.add_argument("--upstream-runs", type=int, default=1, help="reads of Airbyte's connector (slow) per scenario")
    parser.add_argument("--accounts", type=int, default=3, help="the main account and its active subaccounts")
    parser.add_argument("--messages", type=int, default=20_000, help="messages per account")
    parser.add_argument("--calls", type=int, default=5_000, help="calls per account")
    parser.add_argument("--latency-ms", type=float, default=150.0, help="per request, standard scenario")
    parser.add_argument("--double-latency-ms", type=float, default=0.0, help="per request, double scenario")
    parser.add_argument("--cpubound-latency-ms", type=float, default=100.0, help="per request, cpubound scenario")
    parser.add_argument("--concurrency-limit", type=int, default=DEFAULT_CONCURRENCY_LIMIT, help="per account")
    parser.add_argument("--workers", type=int, default=None, help="our num_workers (default: the connector's)")
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="this scenario only (repeatable)")
    parser.add_argument("--skip-upstream", action="store_true", help="our connector only: no ratios")
    parser.add_argument("--quick", action="store_true", help=f"smoke test: {QUICK}")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per connector command")
    parser.add_argument("--connector-root", type=Path, default=ROOT, help="checkout whose main.py is benchmarked")
    parser.add_argument(
        "--upstream-as-shipped",
        action="store_true",
        help="keep Airbyte's 400-day floor (no one-day margin): its messages and media then fail on the emulator",
    )
    parser.add_argument("--upstream-python", default="python3.11", help="interpreter for Airbyte's virtualenv")
    parser.add_argument("--upstream-at-5x", action="store_true", help="incremental: Airbyte's connector at 5x too")
    parser.add_argument("--upstream-accounts", action="store_true", help="accounts: Airbyte's connector too (hours)")
    parser.add_argument("--output", type=Path, default=OUTPUT / "results.json")
    if "--quick" in (sys.argv[1:] if argv is None else argv):
        parser.set_defaults(**QUICK)
    return parser.parse_args(argv)


@dataclass
class Bench:
    """The options, and the broken runs met so far."""

    args: argparse.Namespace
    problems: list[str] = field(default_factory=list)

    def workload(self, scale: int = 1, latency_ms: float | None = None, **sizes: int) -> Workload:
        args = self.args
        return Workload(
            accounts=sizes.get("accounts", args.accounts),
            messages=sizes.get("messages", args.messages * scale),
            calls=sizes.get("calls", args.calls * scale),
            latency_ms=args.latency_ms if latency_ms is None else latency_ms,
            concurrency_limit=args.concurrency_limit,
            usage_days=sizes.get("usage_days", 450),
        )

    def connectors(
        self,
        emulator: EmulatorProcess,
        streams: Sequence[str],
        workdir: Path,
        sync_mode: str = "full_refresh",
        upstream: bool = True,
    ) -> list[Connector]:
        root = self.args.connector_root.resolve()
        found = [ours(emulator, streams, workdir, root, self.args.workers, sync_mode)]
        if upstream and not self.args.skip_upstream:
            margin = not self.args.upstream_as_shipped
            found.append(airbyte(emulator, streams, workdir, self.args.timeout, margin, sync_mode))
        return found

    def runs_of(self, connector: Connector) -> int:
        return self.args.upstream_runs if connector.name == UPSTREAM else self.args.runs

    def reads(
        self, connectors: Sequence[Connector], emulator: EmulatorProcess, label: str, counted: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """Every connector's reads, interleaved so that a noisy minute does not fall on one connector only."""
        runs: dict[str, list[dict[str, Any]]] = {connector.name: [] for connector in connectors}
        for index in range(max(self.runs_of(connector) for connector in connectors)):
            for connector in connectors:
                if index < self.runs_of(connector):
                    figures = self._read(connector, emulator, counted)
                    runs[connector.name].append(figures)
                    print(f"  {label}: {connector.name} read {index + 1}/{self.runs_of(connector)}: {_line(figures)}")
        return runs

    def _read(
        self, connector: Connector, emulator: EmulatorProcess, counted: str | None, state: list[Any] | None = None
    ) -> dict[str, Any]:
        cpu_before = emulator.begin()
        measurement = connector.run("read", self.args.timeout, state)
        figures = read_figures(measurement, emulator.usage_since(cpu_before), counted)
        self._judge(connector.name, figures, measurement.stderr_tail(), expect_records=state is None)
        self.last_states = list(measurement.output.states.values())
        return figures

    def syncs(self, connectors: Sequence[Connector], emulator: EmulatorProcess, label: str) -> dict[str, Any]:
        """A first sync and a second one from its state, for each connector (once: the second is what counts)."""
        runs: dict[str, Any] = {"first": {}, "second": {}}
        for connector in connectors:
            first = self._read(connector, emulator, None)
            print(f"  {label}: {connector.name} first sync: {_line(first)}")
            second = self._read(connector, emulator, None, state=self.last_states)
            print(f"  {label}: {connector.name} second sync: {_line(second)}")
            runs["first"][connector.name], runs["second"][connector.name] = [first], [second]
        return runs

    def _judge(self, name: str, figures: dict[str, Any], stderr_tail: str, expect_records: bool = True) -> None:
        """Airbyte's connector exits 1 when a stream fails (alerts: it asks for more than 30 days): reported, not fatal."""
        if figures["timed_out"]:
            self.problems.append(f"{name} read timed out after {self.args.timeout:g} s")
        elif figures["returncode"] != 0 and (name == OURS or figures["records"] == 0):
            self.problems.append(
                f"{name} read exited {figures['returncode']}: {figures['first_errors']}\n{stderr_tail}"
            )
        if figures["records"] == 0 and expect_records:
            self.problems.append(f"{name} read emitted no records")
        if figures["requests"] == 0:
            self.problems.append(f"{name} read sent no request to the emulator")

    def startup(self, connectors: Sequence[Connector], verbs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """``spec`` and ``check``, ``--runs`` times each for both connectors (they are quick)."""
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {c.name: {verb: [] for verb in verbs} for c in connectors}
        for _ in range(self.args.runs):
            for connector in connectors:
                for verb in verbs:
                    measurement = connector.run(verb, self.args.timeout)
                    if measurement.returncode != 0 or (
                        verb == "check" and measurement.output.connection_status != "SUCCEEDED"
                    ):
                        self.problems.append(f"{connector.name} {verb} failed:\n{measurement.stderr_tail()}")
                    runs[connector.name][verb].append(command_figures(measurement))
        return {name: {verb: summarize_commands(by_verb[verb]) for verb in verbs} for name, by_verb in runs.items()}


def _line(figures: dict[str, Any]) -> str:
    failed = f", incomplete streams: {', '.join(figures['failed_streams'])}" if figures["failed_streams"] else ""
    return (
        f"{figures['records']:,} records in {figures['wall_seconds']:.1f} s, CPU {figures['cpu_seconds']:.1f} s, "
        f"peak RSS {figures['peak_rss_mb']:.0f} MB, {figures['requests']:,} requests, {figures['status_429']} 429s, "
        f"STATE {figures['state_mb']:.2f} MB for {figures['record_mb']:.2f} MB of records, exit {figures['returncode']}{failed}"
    )


# ----- scenarios -----


def standard(bench: Bench) -> dict[str, Any]:
    workload = bench.workload()
    print(f"\n== standard: full sync of {len(BENCH_STREAMS)} streams; {workload.describe()}", flush=True)
    with EmulatorProcess(workload, OUTPUT / "standard") as emulator:
        connectors = bench.connectors(emulator, BENCH_STREAMS, OUTPUT / "standard")
        startup = bench.startup(connectors, ("spec", "check"))
        runs = bench.reads(connectors, emulator, "standard")
    return _scenario(workload, runs, startup)


def cpu(bench: Bench) -> dict[str, Any]:
    workload = bench.workload(latency_ms=0)
    print(f"\n== cpu: the {report.CPU_STREAM} stream alone; {workload.describe()}", flush=True)
    with EmulatorProcess(workload, OUTPUT / "cpu") as emulator:
        connectors = bench.connectors(emulator, [report.CPU_STREAM], OUTPUT / "cpu")
        startup = bench.startup(connectors, ("spec",))
        runs = bench.reads(connectors, emulator, "cpu", counted=report.CPU_STREAM)
    return _scenario(workload, runs, startup)


def cpubound(bench: Bench) -> dict[str, Any]:
    workload = bench.workload(latency_ms=bench.args.cpubound_latency_ms)
    print(f"\n== cpubound: {', '.join(CPU_BOUND_STREAMS)}; {workload.describe()}", flush=True)
    with EmulatorProcess(workload, OUTPUT / "cpubound") as emulator:
        connectors = bench.connectors(emulator, CPU_BOUND_STREAMS, OUTPUT / "cpubound")
        runs = bench.reads(connectors, emulator, "cpubound")
    return _scenario(workload, runs)


def double(bench: Bench) -> dict[str, Any]:
    sizes = {}
    for scale in (1, 2):
        workload = bench.workload(scale, latency_ms=bench.args.double_latency_ms)
        print(f"\n== double, {scale}x: full sync; {workload.describe()}", flush=True)
        workdir = OUTPUT / f"double-{scale}x"
        with EmulatorProcess(workload, workdir) as emulator:
            runs = bench.reads(bench.connectors(emulator, BENCH_STREAMS, workdir), emulator, f"{scale}x")
        sizes[f"{scale}x"] = _scenario(workload, runs)
    return sizes


def incremental(bench: Bench) -> dict[str, Any]:
    sizes = {}
    for scale in (1, 5):
        workload = bench.workload(scale)
        print(f"\n== incremental, {scale}x: {len(INCREMENTAL_STREAMS)} streams; {workload.describe()}", flush=True)
        workdir = OUTPUT / f"incremental-{scale}x"
        with EmulatorProcess(workload, workdir) as emulator:
            upstream = scale == 1 or bench.args.upstream_at_5x
            connectors = bench.connectors(emulator, INCREMENTAL_STREAMS, workdir, "incremental", upstream)
            runs = bench.syncs(connectors, emulator, f"{scale}x")
        sizes[f"{scale}x"] = {sync: _scenario(workload, runs[sync]) for sync in ("first", "second")}
    return sizes


def accounts(bench: Bench) -> dict[str, Any]:
    workload = bench.workload(**MANY_ACCOUNTS)
    streams = ["messages", "calls", "usage_records"]
    print(f"\n== accounts: {', '.join(streams)}; {workload.describe()}", flush=True)
    with EmulatorProcess(workload, OUTPUT / "accounts") as emulator:
        upstream = bench.args.upstream_accounts  # hours: a request per 30-day window per account, three at a time
        connectors = bench.connectors(emulator, streams, OUTPUT / "accounts", "incremental", upstream)
        runs = bench.syncs(connectors, emulator, "accounts")
    return {sync: _scenario(workload, runs[sync]) for sync in ("first", "second")}


def _scenario(
    workload: Workload, runs: dict[str, list[dict[str, Any]]], startup: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "workload": workload.as_dict(),
        "summary": {name: summarize(connector_runs) for name, connector_runs in runs.items()},
        "startup": startup or {},
        "runs": runs,
    }


SCENARIO_RUNS: dict[str, Callable[[Bench], dict[str, Any]]] = {
    "standard": standard,
    "cpu": cpu,
    "cpubound": cpubound,
    "double": double,
    "incremental": incremental,
    "accounts": accounts,
}
SCENARIO_REPORTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "standard": report.standard_report,
    "cpu": report.cpu_report,
    "cpubound": report.cpubound_report,
    "double": report.double_report,
    "incremental": report.incremental_report,
    "accounts": report.accounts_report,
}


# ----- the run -----


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True).stdout.strip()

    return {
        "commit": git("log", "-1", "--oneline"),
        "uncommitted_connector_changes": bool(git("status", "--porcelain", "--", "source_twilio")),
    }


def _preamble(args: argparse.Namespace, state: dict[str, Any], upstream_version: str | None) -> str:
    changes = " (+ uncommitted changes in source_twilio/)" if state["uncommitted_connector_changes"] else ""
    if upstream_version:
        theirs = f"Airbyte's airbyte-source-twilio {upstream_version}: {args.upstream_runs} read(s) (--upstream-runs)"
    else:
        theirs = "Airbyte's connector skipped (--skip-upstream)"
    return (
        f"source-twilio benchmark at {state['commit']}{changes}\n"
        f"{os.cpu_count()} cores; ours: {args.runs} run(s) per measurement; {theirs}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    # As installed by pip (the Docker image included): compiled, so that no run pays for compiling a changed module.
    compileall.compile_dir(args.connector_root.resolve() / "source_twilio", quiet=1)
    bench = Bench(args)
    state = git_state()
    upstream_version = None if args.skip_upstream else upstream.ensure_installed(args.upstream_python)
    print(_preamble(args, state, upstream_version), flush=True)
    results: dict[str, Any] = {}
    for name in args.only or SCENARIOS:
        results[name] = SCENARIO_RUNS[name](bench)
        print(SCENARIO_REPORTS[name](results[name]), flush=True)
    found = report.targets(results)
    print(report.targets_table(found))
    if args.quick:
        print("(--quick: sizes too small for the targets to mean anything; this run checks that the bench works)")
    document = {
        "git": state,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "options": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "upstream": {"package": upstream.PACKAGE, "version": upstream_version},
        "scenarios": results,
        "targets": [target.as_dict() for target in found],
        "broken_runs": bench.problems,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2))
    print(f"\nevery run's figures: {args.output}")
    for problem in bench.problems:
        print(f"BROKEN RUN: {problem}")
    return 1 if bench.problems else 0


if __name__ == "__main__":
    sys.exit(main())
