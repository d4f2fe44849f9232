"""The plain-text report: a table per scenario, ours beside Airbyte's with the ratio, and the targets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tools.bench.connectors import OURS, UPSTREAM
from tools.bench.figures import net_rate, ratio

CPU_STREAM = "messages"

TARGET_WALL_RATIO = 0.05  # twenty times Airbyte's connector
TARGET_RECORDS_PER_CPU_SECOND = 30_000
TARGET_STARTUP_SECONDS = 0.7  # spec and check, wall time
TARGET_RSS_GROWTH = 0.10
TARGET_SAME_AT_5X = 1.05  # the second sync's requests at 5x the history, over those at 1x (noise allowed)
INCREMENTAL_STREAM_COUNT = 7

READ_ROWS = (
    ("records", "records", 0),
    ("wall time (s)", "wall_seconds", 1),
    ("records/s", "records_per_second", 0),
    ("CPU user+sys (s)", "cpu_seconds", 1),
    ("records per CPU s", "records_per_cpu_second", 0),
    ("peak RSS (MB)", "peak_rss_mb", 0),
    ("HTTP requests", "requests", 0),
    ("429s received", "status_429", 0),
    ("max in flight per account", "max_in_flight_per_account", 0),
    ("output (MB)", "output_mb", 1),
    ("of which STATE (MB)", "state_mb", 2),
    ("emulator CPU (s)", "emulator_cpu_seconds", 1),
)
"""(label, summary key, decimals) of the read table."""
SHARE_ROWS = (
    ("emulator CPU / wall time (one core = 100%)", "emulator_core_share"),
    ("emulator CPU / (emulator + connector CPU)", "emulator_cpu_share"),
)


def number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """First column left-aligned, the others right-aligned, a rule under the header."""
    lines = [list(header), *(list(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = []
    for index, line in enumerate(lines):
        cells = [
            line[0].ljust(widths[0]),
            *(cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)),
        ]
        text.append("  ".join(cells).rstrip())
        if index == 0:
            text.append("  ".join("-" * width for width in widths))
    return "\n".join(text)


def _sides(result: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return result["summary"].get(OURS, {}), result["summary"].get(UPSTREAM, {})


def read_table(result: Mapping[str, Any], title: str, extra_rows: Sequence[Sequence[str]] = ()) -> str:
    mine, theirs = _sides(result)
    rows = [
        [
            label,
            number(mine.get(key), digits),
            number(theirs.get(key), digits),
            number(ratio(mine.get(key), theirs.get(key)), 3),
        ]
        for label, key, digits in READ_ROWS
    ]
    rows += [[label, percent(mine.get(key)), percent(theirs.get(key)), ""] for label, key in SHARE_ROWS]
    rows += [list(row) for row in extra_rows]
    header = [
        "median",
        f"ours ({mine.get('runs', 0)} runs)",
        f"upstream ({theirs.get('runs', 0)} runs)",
        "ours/upstream",
    ]
    notes = [
        f"  note: {name}'s record count differs between runs (median shown; see results.json)"
        for name, side in ((OURS, mine), (UPSTREAM, theirs))
        if side.get("records_vary")
    ]
    return "\n".join(["", title, table(header, rows), *notes])


def streams_table(result: Mapping[str, Any]) -> str:
    mine, theirs = _sides(result)
    mine_by_stream, theirs_by_stream = mine.get("records_by_stream", {}), theirs.get("records_by_stream", {})
    rows = [
        [
            stream,
            number(mine_by_stream.get(stream, 0), 0),
            number(theirs_by_stream.get(stream, 0), 0),
            "" if mine_by_stream.get(stream, 0) == theirs_by_stream.get(stream, 0) else "differs",
        ]
        for stream in sorted(set(mine_by_stream) | set(theirs_by_stream))
    ]
    text = ["", "records per stream (median)", table(["stream", "ours", "upstream", ""], rows)]
    for name, side in ((OURS, mine), (UPSTREAM, theirs)):
        if side.get("failed_streams"):
            text.append(f"  {name}: streams that did not complete: {', '.join(side['failed_streams'])}; first errors:")
            text += [f"    {stream}: {error}" for stream, error in sorted(side["first_errors"].items())]
    return "\n".join(text)


def startup_table(startup: Mapping[str, Mapping[str, Any]]) -> str:
    rows = []
    for verb in ("spec", "check"):
        mine, theirs = startup.get(OURS, {}).get(verb, {}), startup.get(UPSTREAM, {}).get(verb, {})
        for label, key in (("wall (s)", "wall_seconds"), ("CPU (s)", "cpu_seconds")):
            rows.append(
                [
                    f"{verb} {label}",
                    number(mine.get(key), 2),
                    number(theirs.get(key), 2),
                    number(ratio(mine.get(key), theirs.get(key)), 3),
                ]
            )
    return "\n".join(["", "spec and check (median)", table(["command", "ours", "upstream", "ours/upstream"], rows)])


def standard_report(result: Mapping[str, Any]) -> str:
    tables = [read_table(result, "full sync"), streams_table(result), startup_table(result["startup"])]
    return "\n".join(tables)


def cpu_report(result: Mapping[str, Any]) -> str:
    mine, theirs = _sides(result)
    spec = {name: result["startup"].get(name, {}).get("spec", {}).get("cpu_seconds") for name in (OURS, UPSTREAM)}
    net = [net_rate(mine, spec[OURS]), net_rate(theirs, spec[UPSTREAM])]
    extra = [["records per CPU s, net of spec's CPU", number(net[0], 0), number(net[1], 0), number(ratio(*net), 3)]]
    return read_table(result, f"{CPU_STREAM} only: records are {CPU_STREAM}", extra)


def cpubound_report(result: Mapping[str, Any]) -> str:
    return "\n".join([read_table(result, "messages and calls, 100 ms per request"), streams_table(result)])


def double_report(result: Mapping[str, Any]) -> str:
    rows = []
    for name in (OURS, UPSTREAM):
        one, two = result["1x"]["summary"].get(name), result["2x"]["summary"].get(name)
        if one and two:
            rows.append(
                [
                    name,
                    number(one["records"], 0),
                    number(two["records"], 0),
                    number(one["peak_rss_mb"], 0),
                    number(two["peak_rss_mb"], 0),
                    percent(rss_growth(result, name)),
                    number(one["wall_seconds"], 1),
                    number(two["wall_seconds"], 1),
                    percent(two["emulator_core_share"]),
                ]
            )
    header = [
        "median",
        "records 1x",
        "records 2x",
        "RSS 1x (MB)",
        "RSS 2x (MB)",
        "RSS growth",
        "wall 1x (s)",
        "wall 2x (s)",
        "emulator CPU / wall 2x",
    ]
    return "\n".join(["", "peak RSS when the data doubles", table(header, rows)])


def incremental_report(result: Mapping[str, Any]) -> str:
    tables = []
    for size in ("1x", "5x"):
        tables.append(read_table(result[size]["second"], f"incremental, {size}: the second sync (nothing changed)"))
    rows = []
    for name in (OURS, UPSTREAM):
        one, five = (result[size]["second"]["summary"].get(name, {}) for size in ("1x", "5x"))
        for label, key, digits in (("requests", "requests", 0), ("wall (s)", "wall_seconds", 1)):
            rows.append([f"{name} {label}", number(one.get(key), digits), number(five.get(key), digits)])
    tables.append("\n".join(["", "the second sync at 1x and 5x the history", table(["", "1x", "5x"], rows)]))
    return "\n".join(tables)


def accounts_report(result: Mapping[str, Any]) -> str:
    tables = [read_table(result[sync], f"1,000 subaccounts: the {sync} sync") for sync in ("first", "second")]
    mine = result["first"]["summary"].get(OURS, {})
    if mine.get("record_mb"):
        tables.append(f"  ours: STATE is {percent(mine['state_mb'] / mine['record_mb'])} of the records' bytes")
    return "\n".join(tables)


def rss_growth(result: Mapping[str, Any], name: str) -> float | None:
    growth = ratio(
        result["2x"]["summary"].get(name, {}).get("peak_rss_mb"),
        result["1x"]["summary"].get(name, {}).get("peak_rss_mb"),
    )
    return None if growth is None else growth - 1


# ----- targets -----


@dataclass(frozen=True)
class Target:
    name: str
    measured: str
    goal: str
    met: bool | None  # None: not measured (Airbyte's connector skipped)

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.name, "measured": self.measured, "goal": self.goal, "met": self.met}

    def row(self) -> list[str]:
        return [self.name, self.measured, self.goal, {True: "met", False: "MISSED", None: "not measured"}[self.met]]


def _at_most(name: str, value: float | None, limit: float, shown: str) -> Target:
    return Target(name, shown if value is not None else "-", f"<= {limit:g}", None if value is None else value <= limit)


def targets(results: Mapping[str, Any]) -> list[Target]:
    found = []
    for scenario in ("standard", "cpubound"):
        if scenario in results:
            mine, theirs = _sides(results[scenario])
            wall = ratio(mine.get("wall_seconds"), theirs.get("wall_seconds"))
            found.append(_at_most(f"{scenario}: wall time, ours/upstream", wall, TARGET_WALL_RATIO, f"{wall or 0:.3f}"))
    if "standard" in results:
        standard = results["standard"]
        mine, theirs = _sides(standard)
        rss = ratio(mine.get("peak_rss_mb"), theirs.get("peak_rss_mb"))
        found.append(_at_most("peak RSS, ours/upstream", rss, 1, f"{rss or 0:.2f}"))
        for verb in ("spec", "check"):
            sides = [standard["startup"].get(name, {}).get(verb, {}).get("wall_seconds") for name in (OURS, UPSTREAM)]
            found.append(_at_most(f"{verb} wall time (s)", sides[0], TARGET_STARTUP_SECONDS, f"{sides[0] or 0:.2f}"))
            value = ratio(*sides)
            found.append(_at_most(f"{verb} wall time, ours/upstream", value, 1, f"{value or 0:.2f}"))
    if "cpu" in results:
        rate = results["cpu"]["summary"][OURS]["records_per_cpu_second"]
        met = rate >= TARGET_RECORDS_PER_CPU_SECOND
        found.append(
            Target(
                f"{CPU_STREAM} per CPU second (whole process)",
                f"{rate:,.0f}",
                f">= {TARGET_RECORDS_PER_CPU_SECOND:,}",
                met,
            )
        )
    if "double" in results:
        growth = rss_growth(results["double"], OURS)
        found.append(
            Target(
                "peak RSS growth at 2x data",
                percent(growth),
                f"< {percent(TARGET_RSS_GROWTH)}",
                growth is not None and growth < TARGET_RSS_GROWTH,
            )
        )
    if "incremental" in results:
        found += _incremental_targets(results["incremental"])
    if "accounts" in results:
        found += _accounts_targets(results["accounts"], results.get("incremental"))
    return found


def _incremental_targets(result: Mapping[str, Any]) -> list[Target]:
    one, five = (result[size]["second"]["summary"].get(OURS, {}) for size in ("1x", "5x"))
    if not one or not five:
        return []
    accounts, streams = result["1x"]["second"]["workload"]["accounts"], INCREMENTAL_STREAM_COUNT
    per = max(one["requests"], five["requests"]) / (accounts * streams)
    growth = ratio(five["requests"], one["requests"])
    return [
        _at_most("second sync requests, 5x/1x history", growth, TARGET_SAME_AT_5X, f"{growth or 0:.2f}"),
        _at_most("second sync requests per account per stream", per, 10, f"{per:.1f}"),
    ]


def _accounts_targets(result: Mapping[str, Any], incremental: Mapping[str, Any] | None) -> list[Target]:
    first = result["first"]["summary"].get(OURS, {})
    if not first or not first.get("record_mb"):
        return []
    share = first["state_mb"] / first["record_mb"]
    found = [_at_most("1,000 accounts: STATE bytes / RECORD bytes", share, 0.10, percent(share))]
    few = incremental["1x"]["first"]["summary"].get(OURS, {}) if incremental else {}
    if few.get("records") and first.get("records"):
        cost = (first["cpu_seconds"] / first["records"]) / (few["cpu_seconds"] / few["records"])
        found.append(_at_most("1,000 accounts: CPU per record / 3 accounts'", cost, 1.2, f"{cost:.2f}"))
    return found


def targets_table(found: Sequence[Target]) -> str:
    return "\n".join(["", "targets", table(["target", "measured", "goal", ""], [target.row() for target in found])])
