"""The benchmark's measure of one command: its own peak memory, not the benchmark's."""

from __future__ import annotations

import os
import sys

from tools.bench.process import measure

CHILD_MB = 40
PARENT_MB = 300


def test_given_a_large_benchmark_process_when_a_command_is_measured_then_its_peak_rss_is_the_commands_own(tmp_path):
    """A spawned child borrows its parent's pages until it runs the command, and the kernel counts them in the
    child's ``ru_maxrss``: every command measured after the benchmark had grown to 96 MB read 96 MB."""
    held = bytearray(PARENT_MB * 2**20)
    held[:: os.sysconf("SC_PAGE_SIZE")] = b"\1" * len(held[:: os.sysconf("SC_PAGE_SIZE")])  # touched: resident
    child = f"import time; x = bytearray({CHILD_MB} * 2**20); x[::4096] = b'1' * len(x[::4096]); time.sleep(0.3)"

    measured = measure(
        [sys.executable, "-c", child], cwd=tmp_path, env=os.environ, timeout=60, stderr_path=tmp_path / "stderr"
    )

    assert measured.returncode == 0, (tmp_path / "stderr").read_text()
    assert CHILD_MB <= measured.peak_rss_mb < PARENT_MB / 2, measured.peak_rss_mb
    del held
