"""Compare what the Docker image and the virtualenv emitted for one Airbyte protocol command.

    compare.py spec|discover|check|read VENV_STDOUT DOCKER_STDOUT [options]
    compare.py catalog DISCOVER_STDOUT          # prints a configured catalog of every stream

Each STDOUT file is the standard output of one run (one Airbyte message per line). The two runs
must agree on everything but what legitimately differs between two runs: `emitted_at`, log lines
(timings, file paths), and timestamps taken from the clock during the run (`--clock START END`,
epoch seconds: any date-time in that interval, or date in its days, reads as `<now>`; usage
records' `as_of` is one). Stdlib only: it runs with any Python 3.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

NOW = "<now>"


class Mismatch(Exception):
    pass


def messages(path: Path) -> list[dict[str, Any]]:
    """The Airbyte messages of a stdout file; anything else on stdout breaks the protocol."""
    parsed = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            raise Mismatch(f"{path}:{number}: not an Airbyte message: {line[:200]!r}") from None
        if not isinstance(message, dict) or "type" not in message:
            raise Mismatch(f"{path}:{number}: not an Airbyte message: {line[:200]!r}")
        parsed.append(message)
    return parsed


def of_type(all_messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The payloads of the messages of one type (CONNECTION_STATUS -> "connectionStatus", ...)."""
    first, *rest = kind.lower().split("_")
    field = first + "".join(word.title() for word in rest)
    return [message[field] for message in all_messages if message["type"] == kind]


class Clock:
    """Replaces date-times (and dates) read from the clock during the runs by `<now>`."""

    def __init__(self, start: float | None, end: float | None) -> None:
        self.start = start
        self.end = end

    def _is_now(self, value: str) -> bool:
        if self.start is None or self.end is None or not 10 <= len(value) <= 40 or value[4:5] != "-":
            return False
        try:
            if len(value) == 10:
                day = dt.date.fromisoformat(value)
                first = dt.datetime.fromtimestamp(self.start, dt.timezone.utc).date()
                last = dt.datetime.fromtimestamp(self.end, dt.timezone.utc).date()
                return first <= day <= last
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        return self.start - 1 <= moment.timestamp() <= self.end + 1

    def normalise(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.normalise(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.normalise(item) for item in value]
        if isinstance(value, str) and self._is_now(value):
            return NOW
        return value


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def stream_key(descriptor: dict[str, Any] | None) -> str:
    descriptor = descriptor or {}
    return f"{descriptor.get('namespace') or ''}.{descriptor.get('name', '')}".lstrip(".")


def agree(what: str, venv: Any, docker: Any) -> None:
    if canonical(venv) != canonical(docker):
        if isinstance(venv, dict) and isinstance(docker, dict):
            keys = sorted(
                key for key in set(venv) | set(docker) if canonical(venv.get(key)) != canonical(docker.get(key))
            )
            what = f"{what} ({', '.join(keys)})"
            venv, docker = {key: venv.get(key) for key in keys}, {key: docker.get(key) for key in keys}
        raise Mismatch(
            f"{what} differ:\n  virtualenv: {canonical(venv)[:2000]}\n  docker:     {canonical(docker)[:2000]}"
        )


def errors(all_messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Error traces without what names the machine (stack traces, internal messages) or the time."""
    return [
        {"failure_type": trace["error"].get("failure_type"), "message": trace["error"].get("message")}
        for trace in of_type(all_messages, "TRACE")
        if trace.get("type") == "ERROR"
    ]


def stream_statuses(all_messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    statuses = [
        (stream_key(trace["stream_status"]["stream_descriptor"]), trace["stream_status"]["status"])
        for trace in of_type(all_messages, "TRACE")
        if trace.get("type") == "STREAM_STATUS"
    ]
    return sorted(set(statuses))


def compare_spec(venv: list, docker: list, _: argparse.Namespace) -> str:
    specs = of_type(docker, "SPEC")
    if len(specs) != 1 or not specs[0].get("connectionSpecification", {}).get("properties"):
        raise Mismatch(f"docker: expected one SPEC message with a connectionSpecification, got {len(specs)}")
    agree("SPEC messages", of_type(venv, "SPEC"), specs)
    required = specs[0]["connectionSpecification"].get("required", [])
    return f"one SPEC message, identical; required fields {required}"


def compare_discover(venv: list, docker: list, _: argparse.Namespace) -> str:
    catalogs = of_type(docker, "CATALOG")
    if len(catalogs) != 1 or not catalogs[0].get("streams"):
        raise Mismatch(f"docker: expected one CATALOG message with streams, got {len(catalogs)}")

    def by_name(catalog_messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted((s for c in catalog_messages for s in c["streams"]), key=lambda stream: stream["name"])

    agree("catalogs", by_name(of_type(venv, "CATALOG")), by_name(catalogs))
    agree("error traces", errors(venv), errors(docker))
    return f"one CATALOG message, identical: {len(catalogs[0]['streams'])} streams"


def compare_check(venv: list, docker: list, options: argparse.Namespace) -> str:
    statuses = of_type(docker, "CONNECTION_STATUS")
    if len(statuses) != 1:
        raise Mismatch(f"docker: expected one CONNECTION_STATUS message, got {len(statuses)}")
    if statuses[0]["status"] != options.expect_status:
        raise Mismatch(f"docker: check answered {statuses[0]} where {options.expect_status} was expected")
    if options.expect_status == "FAILED" and not statuses[0].get("message"):
        raise Mismatch("docker: a failed check must say why")
    agree("CONNECTION_STATUS messages", of_type(venv, "CONNECTION_STATUS"), statuses)
    agree("error traces", errors(venv), errors(docker))
    if errors(docker):
        raise Mismatch(f"docker: check must answer with a status, not an error trace: {errors(docker)}")
    return f"{statuses[0]['status']}, identical" + (
        f": {statuses[0]['message']!r}" if statuses[0].get("message") else ""
    )


def first_difference(venv_record: str, docker_record: str) -> str:
    """The fields in which the first record seen only from the virtualenv and only from docker differ."""
    venv, docker = json.loads(venv_record), json.loads(docker_record)
    fields = sorted(key for key in set(venv) | set(docker) if venv.get(key, "<absent>") != docker.get(key, "<absent>"))
    shown = {key: [venv.get(key, "<absent>"), docker.get(key, "<absent>")] for key in fields[:10]}
    return f"first pair, differing fields [virtualenv, docker]: {canonical(shown)[:1500]}"


def records_by_stream(all_messages: list[dict[str, Any]], clock: Clock) -> dict[str, list[str]]:
    records: dict[str, list[str]] = defaultdict(list)
    for record in of_type(all_messages, "RECORD"):
        key = stream_key({"name": record["stream"], "namespace": record.get("namespace")})
        records[key].append(canonical(clock.normalise(record["data"])))
    return {stream: sorted(rows) for stream, rows in records.items()}


def states_by_stream(all_messages: list[dict[str, Any]], clock: Clock) -> dict[str, dict[str, Any]]:
    """Per stream (or global/legacy state): the last state, and all states in a stable order (streams
    read concurrently may checkpoint in any order). Record counts are left out."""
    states: dict[str, list[Any]] = defaultdict(list)
    for state in of_type(all_messages, "STATE"):
        kind = state.get("type", "LEGACY")
        if kind == "STREAM":
            states[stream_key(state["stream"]["stream_descriptor"])].append(state["stream"].get("stream_state"))
        else:
            states[kind].append(state.get("global") or state.get("data"))
    return {
        key: {"final": clock.normalise(values[-1]), "all": sorted(canonical(clock.normalise(v)) for v in values)}
        for key, values in states.items()
    }


def compare_read(venv: list, docker: list, options: argparse.Namespace) -> str:
    clock = Clock(*options.clock) if options.clock else Clock(None, None)
    catalog = json.loads(Path(options.catalog).read_text())
    streams = sorted(stream_key(entry["stream"]) for entry in catalog["streams"])
    venv_records, docker_records = records_by_stream(venv, clock), records_by_stream(docker, clock)
    for stream in sorted(set(venv_records) | set(docker_records)):
        if venv_records.get(stream, []) != docker_records.get(stream, []):
            only_venv = Counter(venv_records.get(stream, [])) - Counter(docker_records.get(stream, []))
            only_docker = Counter(docker_records.get(stream, [])) - Counter(venv_records.get(stream, []))
            raise Mismatch(
                f"records of {stream} differ: {sum(only_venv.values())} only from the virtualenv, "
                f"{sum(only_docker.values())} only from docker; "
                + first_difference(next(iter(only_venv), "{}"), next(iter(only_docker), "{}"))
            )
    empty = [stream for stream in streams if not docker_records.get(stream) and stream not in options.allow_empty]
    if empty:
        raise Mismatch(f"docker: no records for {', '.join(empty)} (the emulator has some)")
    venv_states, docker_states = states_by_stream(venv, clock), states_by_stream(docker, clock)
    missing = [stream for stream in streams if stream not in docker_states]
    if missing:
        raise Mismatch(f"docker: no STATE message for {', '.join(missing)}")
    agree(
        "final states",
        {k: v["final"] for k, v in venv_states.items()},
        {k: v["final"] for k, v in docker_states.items()},
    )
    agree("state messages", venv_states, docker_states)
    agree("stream statuses", stream_statuses(venv), stream_statuses(docker))
    agree("error traces", errors(venv), errors(docker))
    if errors(docker):
        raise Mismatch(f"docker: the read reported errors: {errors(docker)}")
    total = sum(len(rows) for rows in docker_records.values())
    count = sum(len(v["all"]) for v in docker_states.values())
    return f"{total} records in {len(docker_records)}/{len(streams)} streams, {count} state messages, identical"


def configured_catalog(discover_stdout: Path) -> dict[str, Any]:
    (catalog,) = of_type(messages(discover_stdout), "CATALOG")
    return {
        "streams": [
            {
                "stream": stream,
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
                **(
                    {"primary_key": stream["source_defined_primary_key"]}
                    if stream.get("source_defined_primary_key")
                    else {}
                ),
            }
            for stream in catalog["streams"]
        ]
    }


COMPARISONS = {"spec": compare_spec, "discover": compare_discover, "check": compare_check, "read": compare_read}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=[*COMPARISONS, "catalog"])
    parser.add_argument("venv_stdout", type=Path)
    parser.add_argument("docker_stdout", type=Path, nargs="?")
    parser.add_argument("--expect-status", choices=["SUCCEEDED", "FAILED"], default="SUCCEEDED")
    parser.add_argument("--catalog", help="read: the configured catalog both runs were given")
    parser.add_argument("--clock", nargs=2, type=float, metavar=("START", "END"), help="epoch seconds of the runs")
    parser.add_argument("--allow-empty", action="append", default=[], metavar="STREAM", help="read: may be empty")
    options = parser.parse_args(argv)

    if options.command == "catalog":
        json.dump(configured_catalog(options.venv_stdout), sys.stdout, indent=1)
        return 0
    if options.docker_stdout is None or (options.command == "read" and not options.catalog):
        parser.error("give both outputs (and --catalog for read)")
    label = f"{options.command}" + (f" ({options.expect_status})" if options.command == "check" else "")
    try:
        summary = COMPARISONS[options.command](messages(options.venv_stdout), messages(options.docker_stdout), options)
    except Mismatch as mismatch:
        print(f"FAIL {label}: {mismatch}", file=sys.stderr)
        return 1
    print(f"ok   {label}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
