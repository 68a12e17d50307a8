"""``pa-archive bench``: ``python -m bench.run`` from the checkout this is installed from (bench/ is not installed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click


@click.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args: tuple[str, ...]) -> None:
    """Measure where the time goes: crawl, re-crawl, import, MinHash, scale, storage.

    Builds a synthetic copy of the site on 127.0.0.1 and prints one table (and JSON with
    --json); every ratio is against a baseline measured in the same run. Options are those
    of `python -m bench.run` (see `pa-archive bench --help`).

    \b
    Example:
      pa-archive bench                                  # 1k pages, dedupe at 100k snapshots
      pa-archive bench --pages 200 --scale 10000 --json
    """
    checkout = Path(__file__).resolve().parents[1]
    if not (checkout / "bench" / "run.py").is_file():
        raise click.ClickException(
            "pa-archive bench runs from a checkout of the project (git clone it and run "
            "pa-archive bench there): the benchmarks in bench/ are not installed."
        )
    if "-h" in args or "--help" in args:
        click.echo(click.get_current_context().get_help())
        click.echo("\nOptions of the benchmark:")
        sys.stdout.flush()
    path = os.pathsep.join(p for p in (str(checkout), os.environ.get("PYTHONPATH", "")) if p)
    done = subprocess.run([sys.executable, "-m", "bench.run", *args], env={**os.environ, "PYTHONPATH": path})
    sys.exit(done.returncode)


COMMANDS = (bench,)
