"""Options and error handling shared by every pa-archive command (cli.py, the crawler's, serve).

Kept free of heavy imports so any module can define a command with the same --db and --json.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import click

from . import DEFAULT_DB


def db_option(fn: Callable) -> Callable:
    """--db PATH on every command (default ./archive.db, or $PA_ARCHIVE_DB)."""
    return click.option(
        "--db", "db_path", default=DEFAULT_DB, envvar="PA_ARCHIVE_DB", show_default=True, show_envvar=True,
        type=click.Path(dir_okay=False), help="The archive's SQLite file.",
    )(fn)


def json_option(fn: Callable) -> Callable:
    """--json: machine-readable output instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")(fn)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn what a user can cause or fix (a bad path, a locked or full disk) into one sentence."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise click.ClickException(f"the archive database failed: {exc}") from None
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        raise click.ClickException(f"{exc.strerror or exc}{where}") from None
