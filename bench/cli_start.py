"""Benchmark: how fast the `accord` command starts, against bare imports in the same run.

Goals (each a ratio of median wall times over interleaved runs, same machine, same moment):
- `accord --version` <= 1.5x `python -c "import typer"`   (RESULT cli_version_vs_typer)
- `accord db current` <= 1.5x `python -c "import sqlalchemy"` on a migrated SQLite file
  (RESULT cli_db_current_vs_sqlalchemy)

Each command runs in a fresh interpreter from this virtual environment, as a person typing it
would; the runs of the four commands are interleaved so that a noisy neighbour hits them all
alike. `--quick` runs each 15 times, the full run 60 times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 1.5


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="15 runs of each command")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    runs = args.runs or (15 if args.quick else 60)
    python = sys.executable
    accord = str(Path(python).with_name("accord"))
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "ACCORD_DATABASE_URL": f"sqlite:///{tmp}/cli.db",
            "ACCORD_VAR_DIR": f"{tmp}/var",
        }
        subprocess.run([accord, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
        commands = {
            "typer": [python, "-c", "import typer"],
            "sqlalchemy": [python, "-c", "import sqlalchemy"],
            "version": [accord, "--version"],
            "db_current": [accord, "db", "current"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm the file cache, not measured
            timed(command, env)
        for _ in range(runs):
            for name, command in commands.items():
                times[name].append(timed(command, env))
    median = {name: statistics.median(values) for name, values in times.items()}
    for name, value in median.items():
        print(f"{name:12} median {value * 1000:7.1f} ms over {runs} runs")
    version = median["version"] / median["typer"]
    current = median["db_current"] / median["sqlalchemy"]
    print(f"RESULT cli_version_vs_typer {version:.2f}")
    print(f"RESULT cli_db_current_vs_sqlalchemy {current:.2f}")
    print(f"goals: <= {GOAL} each: {'met' if max(version, current) <= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
