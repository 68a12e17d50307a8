"""``pa-archive bench``: the benchmarks of ``bench/`` (a checkout's, not installed)."""

from __future__ import annotations

import sys

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
    from bench.run import main

    if "-h" in args or "--help" in args:
        click.echo(click.get_current_context().get_help())
        click.echo("\nOptions of the benchmark:")
    sys.exit(main(list(args)))


COMMANDS = (bench,)
