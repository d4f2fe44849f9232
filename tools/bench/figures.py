"""The figures of the runs: one flat dict per run, medians over runs, ratios."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from tools.bench.emulator import Usage
from tools.bench.process import Measurement

MEDIANS = (
    "records",
    "wall_seconds",
    "records_per_second",
    "cpu_seconds",
    "records_per_cpu_second",
    "peak_rss_mb",
    "requests",
    "status_429",
    "max_in_flight_per_account",
    "output_mb",
    "record_mb",
    "state_mb",
    "emulator_cpu_seconds",
    "emulator_core_share",
    "emulator_cpu_share",
)
"""The per-run numbers a summary takes the median of, each on its own."""


def command_figures(measurement: Measurement) -> dict[str, Any]:
    return {
        "returncode": measurement.returncode,
        "wall_seconds": round(measurement.wall_seconds, 3),
        "cpu_seconds": round(measurement.cpu_seconds, 3),
        "peak_rss_mb": round(measurement.peak_rss_mb, 1),
    }


def read_figures(measurement: Measurement, usage: Usage, counted_stream: str | None = None) -> dict[str, Any]:
    """One read as plain numbers; ``counted_stream`` narrows the records counted to one stream."""
    output = measurement.output
    records = output.records[counted_stream] if counted_stream else output.total_records
    wall, cpu = measurement.wall_seconds, measurement.cpu_seconds
    return {
        **command_figures(measurement),
        "timed_out": measurement.timed_out,
        "records": records,
        "records_by_stream": dict(sorted(output.records.items())),
        "records_per_second": round(records / wall, 1) if wall else 0.0,
        "user_seconds": round(measurement.user_seconds, 3),
        "system_seconds": round(measurement.system_seconds, 3),
        "records_per_cpu_second": round(records / cpu, 1) if cpu else 0.0,
        "output_mb": round(output.bytes / 2**20, 1),
        "record_mb": round(output.record_bytes / 2**20, 2),
        "state_mb": round(output.state_bytes / 2**20, 2),
        "requests": usage.requests,
        "status_429": usage.status_429,
        "by_status": usage.by_status,
        "max_in_flight_per_account": usage.max_in_flight_per_account,
        "emulator_cpu_seconds": usage.cpu_seconds,
        "emulator_core_share": round(usage.cpu_seconds / wall, 3) if wall else 0.0,
        "emulator_cpu_share": round(usage.cpu_seconds / (usage.cpu_seconds + cpu), 3) if cpu else 0.0,
        "failed_streams": sorted(output.failed_streams),
        "errors_by_stream": dict(output.errors),
        "first_errors": output.first_errors,
        "stderr": measurement.stderr_path,
    }


def summarize(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Medians over the runs of a read, records per stream too."""
    if not runs:
        return {}
    summary: dict[str, Any] = {name: statistics.median(run[name] for run in runs) for name in MEDIANS}
    streams = sorted({stream for run in runs for stream in run["records_by_stream"]})
    summary["records_by_stream"] = {
        stream: statistics.median(run["records_by_stream"].get(stream, 0) for run in runs) for stream in streams
    }
    summary["runs"] = len(runs)
    summary["records_vary"] = len({run["records"] for run in runs}) > 1
    summary["failed_streams"] = sorted({stream for run in runs for stream in run["failed_streams"]})
    summary["first_errors"] = {stream: error for run in reversed(runs) for stream, error in run["first_errors"].items()}
    return summary


def summarize_commands(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Medians over the runs of ``spec`` or ``check``; the wall times of each run too."""
    return {
        "wall_seconds": statistics.median(run["wall_seconds"] for run in runs),
        "cpu_seconds": statistics.median(run["cpu_seconds"] for run in runs),
        "peak_rss_mb": statistics.median(run["peak_rss_mb"] for run in runs),
        "runs": [run["wall_seconds"] for run in runs],
    }


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or not theirs:
        return None
    return round(ours / theirs, 4)


def net_rate(summary: Mapping[str, Any], startup_cpu_seconds: float | None) -> float | None:
    """Records per CPU second once the interpreter and import cost (``spec``'s CPU time) is taken off."""
    if not summary or startup_cpu_seconds is None or summary["cpu_seconds"] <= startup_cpu_seconds:
        return None
    return round(summary["records"] / (summary["cpu_seconds"] - startup_cpu_seconds), 1)
