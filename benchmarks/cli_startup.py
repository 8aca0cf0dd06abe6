"""CLI start-up time: median wall time of `leanserve --help` vs `python -c "import click"` (10 runs each).

Target (issue 2): leanserve --help ≤ 2× the bare click import.
Run: .venv/bin/python benchmarks/cli_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 10


def median_wall(cmd: list[str]) -> float:
    subprocess.run(cmd, capture_output=True, check=True)  # warm the file cache
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    cli = median_wall([sys.executable, "-m", "toolkit", "--help"])
    click_only = median_wall([sys.executable, "-c", "import click"])
    ratio = cli / click_only
    print(f"{'command':<34} {'median (ms)':>12}")
    print(f"{'leanserve --help':<34} {cli * 1000:>12.1f}")
    label = 'python -c "import click"'
    print(f"{label:<34} {click_only * 1000:>12.1f}")
    print(f"{'ratio':<34} {ratio:>12.2f}   target ≤ 2.00: {'PASS' if ratio <= 2 else 'FAIL'}")


if __name__ == "__main__":
    main()
