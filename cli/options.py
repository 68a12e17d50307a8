"""Options and error handling shared by every pa-archive command.

Kept free of heavy imports so every command module can use the same --db and --json.
"""

from __future__ import annotations

import contextlib
import errno
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from dedupe import DEFAULT_DB


def db_option(fn: Callable) -> Callable:
    """--db PATH on every command (default ./archive.db, or $PA_ARCHIVE_DB)."""
    return click.option(
        "--db",
        "db_path",
        default=DEFAULT_DB,
        envvar="PA_ARCHIVE_DB",
        show_default=True,
        show_envvar=True,
        type=click.Path(dir_okay=False),
        help="The archive's SQLite file.",
    )(fn)


def json_option(fn: Callable) -> Callable:
    """--json: machine-readable output instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")(fn)


WIDTH = 80  # text output fits an 80-column terminal (and a pipe)


def wrapped(lead: str, text: str, width: int = WIDTH, unit: str | None = None) -> list[str]:
    """``text`` after ``lead``, wrapped at spaces to ``width`` (never cut mid-word), later lines aligned under it.

    With ``unit`` (``"; "``), ``text`` is a list of facts joined by it: a line breaks between facts, and
    inside one only when it is longer than a line."""
    import textwrap

    if unit is not None and unit in text:
        parts = str(text).split(unit)
        groups = [parts[0]]
        for part in parts[1:]:
            if len(lead) + len(groups[-1]) + len(unit) + len(part) <= width:
                groups[-1] += unit + part
            else:
                groups[-1] += unit.rstrip()
                groups.append(part)
        lines = []
        for group in groups:
            lines += wrapped(lead if not lines else " " * len(lead), group, width)
        return lines
    return textwrap.wrap(
        " ".join(str(text).split()),
        width=width,
        initial_indent=lead,
        subsequent_indent=" " * len(lead),
        break_long_words=False,
        break_on_hyphens=False,
    ) or [lead.rstrip()]


DATE_FORMS = "YYYY, YYYY-MM, YYYY-MM-DD, an ISO time or a 14-digit timestamp"


def date_option(*names: str, end: bool, help: str, **kwargs: Any) -> Callable:
    """A date option (``--as-of``, ``--since``, ``--until``, ``--from``, ``--to``, ``--observed-at``): every one
    accepts the same forms (``dedupe.timestamps.parse_bound``) and refuses the rest with the same sentence, exit
    status 2. The command gets the archive's ISO time: the period's first second, or with ``end`` its last
    ("--as-of 2024-05" is the end of May), or None when the option is not given."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        from dedupe.timestamps import TimestampError, parse_bound

        option = max(param.opts, key=len)
        try:
            return parse_bound(value, option, end=end)
        except TimestampError as exc:
            raise UsageFailure(sentence(exc)) from None

    return click.option(*names, callback=check, metavar="DATE", help=f"{help} ({DATE_FORMS}).", **kwargs)


class UsageFailure(click.ClickException):
    """A value the command cannot work with: "Error: <one sentence>", exit status 2, no usage text."""

    exit_code = 2


def progress(label: str, length: int | None = None, iterable: Any = None) -> Any:
    """click's progress bar on stderr, drawn only on a terminal (piped output and logs stay clean)."""
    return click.progressbar(
        iterable,
        length=length,
        label=label,
        file=sys.stderr,
        show_pos=True,
        show_eta=length is not None,
        hidden=not sys.stderr.isatty(),
    )


def sentence(message: object) -> str:
    """``message`` as one sentence: stripped, ending in a full stop unless it ends in one already."""
    text = str(message).strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


SQLITE_FULL = 13  # sqlite3.SQLITE_FULL (Python 3.11+): the disk, or the database's own size limit, is full
DISK_FULL = "database or disk is full: free some space and run the command again (what was stored before is kept)"


def is_disk_full(exc: BaseException) -> bool:
    """True for SQLite's SQLITE_FULL (any extended code) and for an OSError ENOSPC or EDQUOT."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return (code is not None and code & 0xFF == SQLITE_FULL) or "database or disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn what a user can cause or fix (a bad path, a locked or full disk) into one sentence."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        if is_disk_full(exc):
            raise click.ClickException(DISK_FULL) from None
        if isinstance(exc, sqlite3.OperationalError):
            raise click.ClickException(f"the archive database failed: {exc}") from None
        if isinstance(exc, OSError):
            where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
            raise click.ClickException(f"{exc.strerror or exc}{where}") from None
        raise
    except ValueError as exc:
        from dedupe.storage import StorageError

        if isinstance(exc, StorageError):
            raise click.ClickException(str(exc)) from None
        raise


def refuse_locked(message: str) -> None:
    """A writer refused because another holds the archive: its one sentence, and exit 75 (EX_TEMPFAIL)."""
    from dedupe.archive.lock import EXIT_LOCKED

    click.echo(click.style("error: ", fg="red") + message, err=True)
    sys.exit(EXIT_LOCKED)


@contextlib.contextmanager
def writer_lock(db_path: str, command: str) -> Iterator[None]:
    """The archive's writer lock (``dedupe.archive.lock``) held while ``command`` writes, released at the end
    or by the kernel if the process is killed; held by another writer: ``refuse_locked``."""
    from dedupe.archive import ArchiveError
    from dedupe.archive.lock import WriterLock, WriterLocked

    lock = WriterLock(db_path)
    try:
        with user_errors():
            lock.acquire(command)
    except WriterLocked as exc:
        refuse_locked(str(exc))
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield
    finally:
        lock.release()


def notify_options(fn: Callable) -> Callable:
    """--notify URL (repeatable, or $PA_ARCHIVE_NOTIFY, space-separated) and --datasette-url."""
    fn = click.option(
        "--datasette-url",
        default=None,
        envvar="PA_ARCHIVE_DATASETTE_URL",
        show_envvar=True,
        metavar="URL",
        help="Where `pa-archive serve` runs: the alert links to its pages.",
    )(fn)
    return click.option(
        "--notify",
        "notify_urls",
        multiple=True,
        envvar="PA_ARCHIVE_NOTIFY",
        show_envvar=True,
        metavar="URL",
        help="After a run that changed a fact, a conflict, a block variant or removed an article, send ONE "
        "message to this Apprise URL (mailto://, slack://, tgram://, json://host/path ...; repeatable).",
    )(fn)


class Alerts:
    """The archive's facts before a run, compared after it: ``Alerts(db, urls).before()`` ... ``.after()``.

    Nothing is read when no URL is given. A delivery failure is returned, never raised."""

    def __init__(self, db_path: str | None, urls: tuple[str, ...], datasette_url: str | None) -> None:
        self.db_path, self.urls, self.datasette_url = db_path, list(urls), datasette_url
        self.state: Any = None

    def _read(self) -> Any:
        from pathlib import Path

        from dedupe import alerts
        from dedupe.archive import ReadOnlyArchive
        from dedupe.readonly import connect_read_only

        if not self.db_path or not Path(self.db_path).is_file():
            return alerts.FactState()
        conn = connect_read_only(self.db_path)
        try:
            return alerts.read_state(ReadOnlyArchive(conn))
        except sqlite3.DatabaseError:
            return alerts.FactState()
        finally:
            conn.close()

    def before(self) -> Alerts:
        if self.urls:
            self.state = self._read()
        return self

    def after(self, run: str = "") -> dict[str, Any] | None:
        """What was sent (and the failures), or None when no --notify was given."""
        if not self.urls:
            return None
        from pathlib import Path

        from dedupe import alerts

        database = Path(self.db_path).stem if self.db_path else "archive"
        return alerts.notify(self.urls, self.state, self._read(), run, self.datasette_url, database)
