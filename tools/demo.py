"""`make demo`: check, discover and a full read of every stream against the built-in Twilio emulator.

Writes each command's output under output/demo/ and prints the records per stream and the time taken.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from integration_tests.connector_runner import ALL_STREAMS, auth_token_config, catalog_for, run_connector  # noqa: E402
from integration_tests.emulator import Dataset, DatasetOptions, serve  # noqa: E402

OUTPUT = ROOT / "output" / "demo"


def main() -> int:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    dataset = Dataset(DatasetOptions(seed=1))
    config = auth_token_config(dataset)
    with serve(dataset) as emulator:
        print(f"Twilio emulator on {emulator.url}: main account {dataset.credentials['account_sid']} and "
              f"{len(dataset.accounts) - 1} subaccounts (one suspended)\n")  # fmt: skip
        started = time.monotonic()
        results = {}
        for command, kwargs in (
            ("check", {}),
            ("discover", {}),
            ("read", {"catalog": catalog_for(ALL_STREAMS)}),
        ):
            run = run_connector(command, emulator.url, OUTPUT, config=config, **kwargs)
            (OUTPUT / f"{command}.jsonl").write_text(run.stdout)
            results[command] = run
        elapsed = time.monotonic() - started
        requests = emulator.stats()["total_requests"]

    status = results["check"].of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    streams = results["discover"].of_type("CATALOG")[0]["catalog"]["streams"]
    read = results["read"]
    print(f"check:    {status['status']}")
    print(f"discover: {len(streams)} streams")
    print(f"read:     exit {read.returncode}, {len(read.errors)} errors\n")
    counts = Counter({name: len(records) for name, records in read.records.items()})
    width = max(map(len, ALL_STREAMS))
    print(f"{'stream':<{width}}  records")
    for name in ALL_STREAMS:
        print(f"{name:<{width}}  {counts[name]:>7}")
    print(f"{'total':<{width}}  {sum(counts.values()):>7}\n")
    print(f"{requests} requests to the emulator; check + discover + read took {elapsed:.1f} s.")
    print(f"Output: {OUTPUT.relative_to(ROOT)}/{{check,discover,read}}.jsonl\n")
    print("Against a real Twilio account: put your Account SID and Auth Token in a config file")
    print('  {"account_sid": "AC...", "credentials": {"auth_type": "auth_token", "auth_token": "..."},')
    print('   "start_date": "2025-01-01T00:00:00Z"}')
    print("and run: .venv/bin/source-twilio read --config config.json --catalog output/demo/catalog.json")
    (OUTPUT / "catalog.json").write_text(json.dumps(catalog_for(ALL_STREAMS), indent=2))
    for error in read.errors:
        print(f"ERROR: {error['message']}")
    return 0 if status["status"] == "SUCCEEDED" and read.returncode == 0 and not read.errors else 1


if __name__ == "__main__":
    sys.exit(main())
