"""pa-archive: the command line. Each command parses options, calls the library, formats.

The commands are in sections by subject (options, archive, rosters, crawl, web archives,
serve, bench) and registered on the one group at the end, as sqlite-utils keeps its commands
in one cli.py. The work is the library's (``dedupe``, ``crawler``): a command parses, calls, formats.
Heavy libraries (Scrapy, trafilatura, datasketch, Datasette) are imported inside the commands
that need them, so `pa-archive runs` or `--help` start in a fraction of a second.
Run `pa-archive COMMAND --help` for examples.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from dedupe import DEFAULT_DB, queries
from dedupe.analysis import diff as difftools
from dedupe.archive import Archive, ArchiveError
from dedupe.archive.base import DISK_FULL, is_disk_full, read_only_mode
from dedupe.archive.reading import ReadingArchive
from dedupe.document import RawSnapshot
from dedupe.readonly import uri_safe_path
from dedupe.sources import SourceError, expand, read_sources, shown_path

# --- options: Options and error handling shared by every pa-archive command.


class PathParam(click.Path):
    """A path option or argument that refuses an empty value with click's usage error (exit status 2):
    ``Path("")`` is the current folder, so ``import ""`` would import it and ``--db ""`` open it."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, (str, bytes)) and not value:
            self.fail("empty path", param, ctx)
        return super().convert(value, param, ctx)


PORT = click.IntRange(0, 65535)


class Positive(click.IntRange):
    """1 up to SQLite's largest INTEGER (2**63 - 1): a larger id or limit is click's usage error, not an
    OverflowError from the query; the help says "x>=1"."""

    def __init__(self) -> None:
        super().__init__(1, 2**63 - 1)

    def _describe_range(self) -> str:
        return "x>=1"


class Seconds(click.FloatRange):
    """A number of seconds, 0 up to a year: never negative, infinite or "nan" (time.sleep refuses them)."""

    YEAR = 365 * 86400

    def __init__(self) -> None:
        super().__init__(min=0)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if not 0 <= seconds <= self.YEAR:  # also "nan", which passes every comparison of the range
            self.fail(f"{value} is not a number of seconds from 0 to {self.YEAR} (a year).", param, ctx)
        return seconds


def db_option(fn: Callable) -> Callable:
    """--db PATH on every command (default ./archive.db, or $PA_ARCHIVE_DB)."""
    return click.option(
        "--db",
        "db_path",
        default=DEFAULT_DB,
        envvar="PA_ARCHIVE_DB",
        show_default=True,
        show_envvar=True,
        type=PathParam(dir_okay=False),
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


def report_problems(warnings: Iterable[str], errors: Iterable[str]) -> None:
    """After an import or a backfill: alerts that could not be delivered as warnings (never a failure
    of the command), then the inputs that could not be stored as errors, and exit status 1 if any."""
    for warning in warnings:
        click.echo(click.style("warning: ", fg="yellow") + warning, err=True)
    errors = list(errors)
    for error in errors:
        click.echo(click.style("error: ", fg="red") + error, err=True)
    if errors:
        sys.exit(1)


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

        from dedupe.analysis import alerts
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

        from dedupe.analysis import alerts

        database = Path(self.db_path).stem if self.db_path else "archive"
        return alerts.notify(self.urls, self.state, self._read(), run, self.datasette_url, database)


# --- archive: The archive's commands: import, conflicts, blocks, history, diff, search, stats, rebuild, check.


URLS_SHOWN = 3  # URLs printed per value or variant (--json has more)


CHANGES_SHOWN = 5


BLOCK_NAME_CHARS = 80  # blocks.name is the first line cut at this length


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis when it was longer."""
    text = str(text).replace("\n", " ").rstrip()
    return text if len(text) <= width else text[: width - 1] + "…"


def url_lines(urls: list[str], total: int, lead: str, shown: int = URLS_SHOWN) -> list[str]:
    """Up to ``shown`` URLs (a file's name for imported files), one a line, then ``+N more``."""
    pad = " " * len(lead)
    lines = [fit((pad if i else lead) + short_name(url), WIDTH) for i, url in enumerate(urls[:shown])]
    if total > len(lines):
        lines.append(" " * len(lead) + f"+{total - len(lines)} more")
    return lines


def when(moment: str | None, seconds: bool = False) -> str:
    """A stored time as a person reads it: '2024-05-01 10:00' (UTC), or '2024-05-01 10:00:07' with ``seconds``."""
    return (moment or "")[: 19 if seconds else 16].replace("T", " ")


class Clock:
    """Times printed together: to the minute, or all to the second when two different ones would read alike
    (observations seconds apart all read "16:14 .. 16:14")."""

    def __init__(self, moments: Iterable[str | None]) -> None:
        distinct = {m for m in moments if m}
        self.seconds = len({m[:16] for m in distinct}) < len(distinct)

    def __call__(self, moment: str | None) -> str:
        return when(moment, self.seconds)


def block_label(name: str | None) -> str:
    """A block's stored name (its first line, cut at 80 characters) ending at a word, with an ellipsis when cut."""
    if not name or len(name) < BLOCK_NAME_CHARS:
        return name or ""
    return name[: name.rfind(" ")].rstrip(" ,;:") + "…" if " " in name else name + "…"


def similarity(value: float) -> str:
    """An estimated similarity between two different versions: 0.996, never '1.00' (an edit too small to
    move the estimate reads '~1, a small edit')."""
    return "~1, a small edit" if value >= 0.9995 else f"{value:.3f}"


def short_name(url: str) -> str:
    """A file name for imported files, the URL for fetched pages: what a person recognises."""
    return url.rsplit("/", 1)[-1] if url.startswith("file:") else url


def announce_upgrade(db_path: str) -> Callable[[list[str]], None]:
    """What a command says before it upgrades an archive made by an older pa-archive: some steps
    rewrite large tables (minutes at a million observations), and a silent command looks hung."""
    from dedupe.migrations import upgrade_notice

    return lambda steps: click.echo(upgrade_notice(db_path, steps), err=True)


def say_note(text: str) -> None:
    """What the library notes about what a command reads (not an error) on stderr, so its output stays clean."""
    click.echo(f"note: {text}", err=True)


def open_archive(db_path: str, must_exist: bool = True, writes: bool = False, refresh: bool = True) -> Archive:
    """Open the archive or stop with one sentence; a stale archive is refreshed first. A command that only
    reads (not ``writes``) reads an archive it cannot write (a read-only folder, file or mount) as it is."""
    try:
        if not writes and Path(db_path).is_file() and (mode := read_only_mode(db_path)):
            return ReadingArchive(db_path, mode, on_note=say_note)  # type: ignore[return-value] - its reading part
        with user_errors():
            archive = Archive(db_path, create=not must_exist, on_upgrade=announce_upgrade(db_path))
            if refresh:
                archive.refresh()
        return archive
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None


SEEDS = Path(__file__).resolve().parent / "dedupe" / "seeds"  # shipped with the package


def _count_refused(refused: Counter[str]) -> Callable[[RawSnapshot | SourceError, Any], None]:
    """An ingest listener counting, per web archive file, the observations it read whose page was then refused:
    its summary's observations include them."""

    def listener(item: RawSnapshot | SourceError, result: Any) -> None:  # result: an AddResult, or None
        if isinstance(item, RawSnapshot) and item.locator and result is not None and result.status == "error":
            refused[item.locator.rpartition("@")[0]] += 1

    return listener


@click.command(name="import")
@click.argument("inputs", nargs=-1, type=PathParam(readable=False))  # an unreadable one: its error line
@click.option(
    "--seeds",
    "with_seeds",
    is_flag=True,
    help=f"Also import the five seed snapshots that ship with pa-archive ({SEEDS.name}/ in the package).",
)
@date_option(
    "--observed-at",
    end=False,
    help="When these pages were seen, UTC unless it says otherwise. Default: a file's modification time, a "
    "JSON Lines record's observed_at; web archives keep their own dates",
)
@db_option
@json_option
@notify_options
def import_(
    inputs: tuple[str, ...],
    with_seeds: bool,
    observed_at: str | None,
    db_path: str,
    as_json: bool,
    notify_urls: tuple[str, ...],
    datasette_url: str | None,
) -> None:
    """Import snapshots from files, folders, globs or JSON Lines.

    Text or HTML is told by content, not by name. JSON Lines files (.jsonl) hold one
    {"url", "observed_at", "text"|"html"} object a line. Web archives (WARC, WARC.gz, WARC.zst,
    ARC, ARC.gz, WACZ) give one snapshot per HTML response or revisit record; a CDX index is refused
    (import the files it lists). Importing the same input again
    adds nothing. A bad input (or a folder entry that cannot be read) is reported and skipped; the
    exit status is 1 if any failed. A dangling symbolic link, a pipe or device, a link to a folder and the
    archive's own files are noted as skipped, not failed.

    \b
    Example:
      pa-archive import --seeds                  # the five seed snapshots shipped with pa-archive
      pa-archive import 'dumps/*.html' other-scraper.jsonl --db news.db
      pa-archive import crawl.warc.gz collection.wacz
      pa-archive import new-pages/ --notify 'json://127.0.0.1:9000/hook'   # alert when a fact changed
      pa-archive import saved-page.html --observed-at 2019-06-01
    """
    if not inputs and not with_seeds:
        raise UsageFailure("name the files, folders, globs or JSON Lines to import, or give --seeds.")
    skipped: list[str] = []  # dangling symbolic links in the folders and globs: said, not errors
    sources = list(expand((*inputs, *([str(SEEDS)] if with_seeds else ())), skipped))  # paths: read one at a time
    sources = _without_the_archive(sources, db_path, skipped)
    for note in skipped:
        click.echo(click.style("skipped: ", fg="yellow") + note, err=True)
    if not any(isinstance(source, Path) for source in sources) and not Path(db_path).exists():
        for error in sources:  # nothing to import: no archive (nor lock file) is made for it
            shown = f"{shown_path(error.where)}: {error.message}" if isinstance(error, SourceError) else str(error)
            click.echo(click.style("error: ", fg="red") + shown, err=True)
        click.echo(f"Nothing imported; {db_path} was not created.", err=True)
        sys.exit(1)
    with writer_lock(db_path, "import"):  # released when the import ends, or by the kernel if it is killed
        archive = open_archive(db_path, must_exist=False, writes=True)
        alerts = Alerts(db_path, notify_urls, datasette_url).before()
        before = archive.stats().get("snapshots", 0)
        with (
            archive,
            user_errors(),
            interrupted_import(db_path, before),
            terminated_as_interrupted(),
            progress("Importing", iterable=sources) as files,
        ):  # click draws the bar only on a terminal
            refused: Counter[str] = Counter()  # web archive file -> its pages refused after they were read
            report = archive.ingest(
                read_sources(files, web_archives := [], observed_at), listener=_count_refused(refused)
            )
        for summary in web_archives:  # WARC, ARC, WACZ: what each held and what was skipped
            summary.refused = refused[summary.where]
            click.echo(str(summary), err=True)
        data = report.as_dict()
        alert = alerts.after(run="import")
        if alert is not None:
            data["notify"] = alert
        if as_json:
            with open_archive(db_path) as again:
                emit_json({**data, "stats": again.stats()})
        else:
            click.echo(
                f"Imported {report.added} snapshot(s) ({report.new_content} new content, "
                f"{report.duplicates} already archived); "
                f"{_version_change(data['new_article_versions'], 'article')}, "
                f"{_version_change(data['new_block_versions'], 'block')}."
            )
    report_problems((alert or {}).get("errors") or [], report.errors)


def _without_the_archive(
    sources: list[Path | SourceError], db_path: str, skipped: list[str]
) -> list[Path | SourceError]:
    """The inputs but the archive's own files (the database, its -wal, -shm and -journal, its .lock), each said
    as skipped: a folder holding the archive (``import pages/ --db pages/archive.db``) must not import the lock
    file's note, written while the import runs, as a page."""
    own = {os.path.realpath(f"{db_path}{suffix}") for suffix in ("", "-wal", "-shm", "-journal", ".lock")}
    kept: list[Path | SourceError] = []
    for source in sources:
        if isinstance(source, Path) and os.path.realpath(source) in own:
            skipped.append(f"{shown_path(source)}: a file of the archive being imported into (not imported)")
        else:
            kept.append(source)
    return kept


def _version_change(change: int, kind: str) -> str:
    """'+3 article version(s)'; fewer than before is said as such ('-1 article version(s)' read as a loss): versions
    are derived, and new pages can show two to be one (the same text seen under another URL) or a block to be a
    page's furniture, so the archive regroups them; no snapshot is lost."""
    if change >= 0:
        return f"+{change} {kind} version(s)"
    return f"{-change} {kind} version(s) fewer (the new pages regrouped them; no snapshot was lost)"


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a service manager stopping the job) while an import runs."""


@contextlib.contextmanager
def terminated_as_interrupted() -> Iterator[None]:
    """SIGTERM raises ``Terminated`` while the block runs: the import ends as after Ctrl-C (its transaction rolled
    back, what was stored said), exit status 143; it was ended without a word."""

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread (an embedding program): its own handling stays
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def interrupted_import(db_path: str, before: int) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) during an import: say what was kept and what to do (click printed only "Aborted!")."""
    try:
        yield
    except KeyboardInterrupt as exc:
        try:
            with Archive(db_path, create=False) as archive:
                stored = archive.stats().get("snapshots", 0) - before
        except Exception:  # noqa: BLE001 - the message must come whatever the archive's state
            stored = None
        kept = f"{stored} snapshot(s) stored before it are kept" if stored is not None else "what was stored is kept"
        click.echo(
            f"\nImport interrupted: {kept}; run the same command again to import the rest "
            "(what is archived is never added twice).",
            err=True,
        )
        sys.exit(143 if isinstance(exc, Terminated) else 130)


@click.command()
@click.option(
    "--no-evidence",
    "evidence",
    flag_value=False,
    default=True,
    help="Values, counts and dates only: no URLs, block variants or changes (fast on a very large archive).",
)
@db_option
@json_option
def conflicts(evidence: bool, db_path: str, as_json: bool) -> None:
    """Facts that disagree between snapshots (and values missing in some).

    A conflict is one delegation's field (seats, plenipotentiary, website) stated with
    different non-empty values. An empty website line is a missing value, and the same
    numbers in other words are a rewording: neither is a conflict.

    \b
    Example:
      pa-archive conflicts
      pa-archive conflicts --json | jq '.[].delegation'
      pa-archive conflicts --no-evidence      # a million snapshots: milliseconds
    """
    with open_archive(db_path) as archive:
        found, missing = archive.conflicts(evidence), archive.missing_values(evidence)
    if as_json:
        emit_json(found)
        return
    if not found:
        click.echo("No conflicting facts.")
    when = Clock(  # this listing's times: to the second if two would read alike
        [t for r in found for v in r["values"] for t in (v["first_seen"], v["last_seen"])]
        + [c["at"] for r in found for c in r.get("changes", [])]
        + [t for r in missing for t in (r["first_seen"], r["last_seen"])]
    )
    for record in found:
        click.echo(
            click.style(f"{record['delegation']} {record['field']}", bold=True) + f"  ({record['language']} pages)"
        )
        pad = min(28, max(len(str(v["value"])) for v in record["values"]))
        for value in record["values"]:
            click.echo(
                f"  {fit(str(value['value']), pad):<{pad}} {value['snapshots']:>4} snapshot(s)  "
                f"{when(value['first_seen'])} .. {when(value['last_seen'])}"
            )
            if value.get("block_versions"):
                click.echo(fit(f"      in {', '.join(value['block_versions'])}", WIDTH))
            for line in url_lines(value.get("urls", []), value.get("urls_total", 0), "      at "):
                click.echo(line)
        for change in record.get("changes", [])[:CHANGES_SHOWN]:
            click.echo(f"  {fit(change['from'], 20)} -> {fit(change['to'], 20)} on {when(change['at'])}:")
            click.echo(f"    pa-archive diff {change['a']} {change['b']} --words")
        if len(record.get("changes", [])) > CHANGES_SHOWN:
            click.echo(f"  ... {len(record['changes']) - CHANGES_SHOWN} more change(s): --json lists them")
    if missing:
        click.echo("\nMissing values (line present, value empty; not conflicts):")
        for row in missing:
            names = [short_name(n) for n in row.get("seen_in", [])]
            click.echo(
                fit(
                    f"  {row['delegation']} {row['field']} ({row['language']}): empty in {row['snapshots']} "
                    "snapshot(s)",
                    WIDTH,
                )
            )
            click.echo(f"      {when(row['first_seen'])} .. {when(row['last_seen'])}")
            for line in url_lines(names, row.get("seen_in_total", len(names)), "      at "):
                click.echo(line)


@click.command()
@date_option("--as-of", "as_of", end=True, help="A date (2024-05-01: the end of that day, UTC) or a time")
@click.option("--delegation", metavar="NAME", default="", help="One delegation, in any case (kyrgyzstan).")
@click.option("--periods", is_flag=True, help="Each value's periods through time instead (7 -> 6 -> 7: three).")
@db_option
@json_option
def facts(as_of: str | None, delegation: str, periods: bool, db_path: str, as_json: bool) -> None:
    """What the site stated on a date: the delegations' seats, plenipotentiaries, websites.

    Each page counts by its latest observation at or before DATE (default: now). Where the
    pages of that moment state different values, every value is shown with its page count,
    flagged as a contradiction of the site with itself. --periods lists instead the runs of
    one value through time, with their first and last snapshot and date.

    \b
    Example:
      pa-archive facts --as-of 2024-05-01
      pa-archive facts --delegation kyrgyzstan --json
      pa-archive facts --delegation Kyrgyzstan --periods
    """
    with open_archive(db_path) as archive:
        try:
            result = archive.fact_periods(delegation) if periods else archive.facts_as_of(as_of, delegation)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        emit_json(result)
    elif periods:
        _print_periods(result)
    else:
        _print_facts(result)


def _print_facts(result: dict) -> None:
    """One header per delegation; its facts grouped by language, the fields in one column, the values in the next.

    The data are ``facts_as_of``'s (one record per language, delegation and field); only the layout is here."""
    click.echo(f"The site as of {when(result['as_of'], seconds=True)} UTC, by each page's latest observation:")
    if not result["facts"]:
        click.echo("  nothing: no page with the delegation block was observed by then.")
        return
    field_width = min(34, max(len(f["field"]) for f in result["facts"]))
    column = 6 + field_width + 1  # "  en  " + the field + a space
    grouped: dict[str, dict[str, list[dict]]] = {}
    for fact in result["facts"]:
        grouped.setdefault(fact["delegation"], {}).setdefault(fact["language"] or "?", []).append(fact)
    for delegation, languages in grouped.items():
        click.echo(click.style(delegation, bold=True))
        for language, facts in sorted(languages.items()):
            tag = f"  {language:<3} "
            for fact in facts:
                lead = tag + f"{fit(fact['field'], field_width):<{field_width}} "
                tag = " " * len(tag)
                several = len(fact["values"]) > 1
                for value in fact["values"]:
                    count = f" ({value['pages']} page{'s' if value['pages'] != 1 else ''})" if several else ""
                    click.echo(lead + fit(value["value"] or "(empty)", WIDTH - column - len(count)) + count)
                    lead = " " * column
                if fact["contradiction"]:
                    click.echo(click.style(lead + "! the site contradicts itself", fg="red"))


def _print_periods(rows: list[dict]) -> None:
    """One line per period under a heading per fact, written at once: a fact that flip-flops page by page
    in one crawl has thousands of periods, and a write per line would cost more than the query."""
    if not rows:
        click.echo("No facts yet.")
        return
    when = Clock(t for row in rows for t in (row["first_seen"], row["last_seen"]))
    heading = None
    lines = []
    for row in rows:
        if (row["delegation"], row["field"], row["language"]) != heading:
            heading = (row["delegation"], row["field"], row["language"])
            lines.append(click.style(f"{row['delegation']} {row['field']} ({row['language']} pages)", bold=True))
        lines.append(
            f"  {fit(row['value'] or '(empty)', 24):<24} {when(row['first_seen'])} .. {when(row['last_seen'])}"
            f"  s{row['first_snapshot_id']}..s{row['last_snapshot_id']}"
        )
    click.echo("\n".join(lines))


@click.command()
@click.argument("block", required=False)
@click.option("--all", "show_all", is_flag=True, help="Show page furniture (menus, footers: blocks without facts) too.")
@db_option
@json_option
def blocks(block: str | None, show_all: bool, db_path: str, as_json: bool) -> None:
    """Repeated page furniture (the delegation block): each variant and when it was seen.

    Each version lists the pages it was seen on (distinct, the first few) and what changed from
    the one before, line by line, named by its facts: conflict, missing, filled, reworded,
    changed, added or removed. The delegation block comes first; blocks that state no fact
    (menus, footers) are furniture, listed in one line each unless --all or named.

    \b
    Example:
      pa-archive blocks
      pa-archive blocks b6
      pa-archive blocks --all --json
      pa-archive diff bv-<first> bv-<second> --words
    """
    with open_archive(db_path) as archive:
        try:
            block_id = _block_id(archive, block) if block else None
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
        versions = archive.block_versions(block_id)
    if as_json:
        emit_json(versions if show_all or block else [v for v in versions if not v["furniture"]])
        return
    if not versions:
        click.echo("No blocks yet: a block is recognised once it repeats across articles.")
    when = Clock(t for v in versions for t in (v["first_seen"], v["last_seen"]))
    by_block: dict[int, list[dict]] = {}
    for v in versions:
        by_block.setdefault(v["block_id"], []).append(v)
    for number, members in by_block.items():
        head = members[0]
        if head["furniture"] and not (show_all or block):
            click.echo(
                fit(f"block b{number} (furniture, {len(members)} version(s)): {block_label(head['block'])}", WIDTH)
            )
            continue
        label = " (furniture: states no fact)" if head["furniture"] else ""
        click.echo(click.style(fit(f"block b{number}{label}: {block_label(head['block'])}", WIDTH), bold=True))
        for v in members:
            click.echo(f"  v{v['version']} {v['version_id']}  {v['line_count']} lines, {v['snapshots']} snapshot(s)")
            click.echo(f"     {when(v['first_seen'])} .. {when(v['last_seen'])}")
            for line in url_lines(v["seen_in"], v["seen_in_total"], "     seen on "):
                click.echo(line)
            for change in v["changes"]:
                colour = {"conflict": "red", "missing": "yellow", "reworded": "cyan"}.get(change["kind"])
                detail = change["detail"] or change["new_text"] or change["old_text"] or ""
                lines = wrapped(f"     {change['kind']:>9}  ", detail, unit="; ")
                lines[0] = "     " + click.style(f"{change['kind']:>9}", fg=colour) + lines[0][14:]
                for line in lines:
                    click.echo(line)
    if any(v["furniture"] for v in versions) and not (show_all or block):
        click.echo("(furniture: blocks that state no fact; `pa-archive blocks --all` or `blocks bN` shows them)")


def _block_id(archive: Archive, name: str) -> int:
    """The block ``name`` (b6, or one of its versions) stands for."""
    ref = archive.resolve(name)
    if ref.kind == "block":
        return int(ref.id)
    if ref.kind == "block_version":
        return archive.block_of_version(ref.id)
    raise ArchiveError(f"{name} is not a block: name one as b1 (see `pa-archive blocks`)")


@click.command()
@click.argument("ref")
@db_option
@json_option
def history(ref: str, db_path: str, as_json: bool) -> None:
    """Every version of one article or block, oldest first.

    REF is a snapshot id, a URL or file path, an article (a3), a block (b1) or a version id.

    \b
    Example:
      pa-archive history a1
      pa-archive history https://pacsto.org/events/erlan-koshanov-kazahstan-budet-delat-vse-vozmozhnoe
      pa-archive history 001_34847c4070c3c854.txt      # an imported file, by its name
    """
    with open_archive(db_path) as archive:
        try:
            result = archive.history(archive.resolve(ref))
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        emit_json(result)
        return
    when = Clock(
        [s.get("observed_at") for s in result.get("snapshots", [])]
        + [t for v in result.get("versions", []) for t in (v.get("first_seen"), v.get("last_seen"))]
    )
    if result["kind"] == "url":
        click.echo(click.style(result["url"], bold=True))
        for s in result["snapshots"]:
            click.echo(
                f"  s{s['snapshot_id']}  {when(s['observed_at'])}  HTTP {s['http_status'] or '-'}  {s['status']}"
            )
            if s.get("article_version_id"):
                title = s.get("title") or "(untitled)"
                click.echo(fit(f"      a{s['article_id']} v{s['version']} {s['article_version_id']}  {title}", WIDTH))
        return
    head = result[result["kind"]]
    name = head.get("title") or block_label(head.get("name")) or "(untitled)"
    prefix = "a" if result["kind"] == "article" else "b"
    status = f"  [{head['status']}]" if head.get("status") == "removed" else ""
    for line in wrapped(f"{result['kind']} {prefix}{head['id']}: ", f"{name}{status}"):
        click.echo(click.style(line, bold=True))
    for v in result["versions"]:
        vid = v.get("id") or v.get("version_id")
        sim = v.get("similarity_to_previous")
        extra = f"  similarity to previous {similarity(sim)}" if sim is not None else ""
        click.echo(f"  v{v['version']} {vid}  {v['snapshots']} snapshot(s){extra}")
        click.echo(f"     {when(v['first_seen'])} .. {when(v['last_seen'])}")
        if v.get("title") and v["title"] != head.get("title"):
            click.echo(fit(f"     title: {v['title']}", WIDTH))
        urls = v.get("seen_as") or v.get("seen_in") or []
        for line in url_lines(urls, v.get("seen_in_total", len(urls)), "     seen as "):
            click.echo(line)
        for change in v.get("changes", []):
            for line in wrapped(
                f"     {change['kind']}: ", change["detail"] or change["new_text"] or change["old_text"]
            ):
                click.echo(line)


@click.command(name="diff")
@click.argument("a")
@click.argument("b")
@click.option("--words", "word_marks", is_flag=True, help="Word-level marks (with --side-by-side too).")
@click.option("--side-by-side", "side", is_flag=True, help="Two columns, wrapped to the terminal (80 when piped).")
@click.option("--unified", "unified", is_flag=True, help="Unified line diff (the default).")
@db_option
@json_option
def diff_(a: str, b: str, word_marks: bool, side: bool, unified: bool, db_path: str, as_json: bool) -> None:
    """Compare two snapshots, article versions or block versions.

    A and B are each a snapshot id (12 or s12), an article version (av-...) or a block
    version (bv-...), or an article (a30) or block (b6) for its latest version; see
    `pa-archive blocks` and `pa-archive history`. Colour is used on a terminal only.

    \b
    Example:
      pa-archive diff 1 2
      pa-archive diff bv-9f1c bv-0a7e --words
      pa-archive diff av-12ab av-34cd --side-by-side --words
      pa-archive diff bv-0a7e b2          # a variant against the block's latest
    """
    if unified and (word_marks or side):
        raise click.UsageError("--unified cannot be combined with --words or --side-by-side.")
    with open_archive(db_path) as archive:
        try:
            ra, rb = archive.resolve_version(a), archive.resolve_version(b)
            ta, tb = archive.text_of(ra), archive.text_of(rb)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    colour = sys.stdout.isatty()
    try:
        if as_json:
            emit_json(difftools.structured(ta, tb, ra.label, rb.label))
        elif side:
            click.echo(difftools.side_by_side(ta, tb, ra.label, rb.label, marks=word_marks))
        elif word_marks:
            click.echo(difftools.words(ta, tb, color=colour) or "(identical)")
        else:
            click.echo(difftools.unified(ta, tb, ra.label, rb.label, color=colour) or "(identical)")
    except difftools.DiffTooLarge as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@click.argument("query")
@db_option
@json_option
def search(query: str, db_path: str, as_json: bool) -> None:
    """Full-text search over article titles and texts (SQLite FTS5 syntax).

    \b
    Example:
      pa-archive search peacekeeping
      pa-archive search '"Collective Security Council" OR referendum'
    """
    with open_archive(db_path) as archive:
        try:
            rows = archive.search(query)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("No article matches.")
    for row in rows:
        click.echo(click.style(f"a{row['article_id']} {row['version_id']}  {row['title'] or '(untitled)'}", bold=True))
        click.echo(f"   {row['snippet']}")


@click.command()
@db_option
@json_option
def stats(db_path: str, as_json: bool) -> None:
    """Counts of snapshots, articles, versions, blocks and conflicts.

    The snapshots are every observation, of which failed fetches (stored without content, in
    their URL's history) and pages found removed (404/410) are counted apart too
    (failed_fetches, removed_pages in --json).

    \b
    Example:
      pa-archive stats --json
    """
    with open_archive(db_path) as archive:
        numbers = archive.stats()
        outcomes = dict(archive.db.execute(queries.SNAPSHOT_OUTCOMES_SQL).fetchall())
    numbers = {
        **numbers,
        "failed_fetches": outcomes.get("error", 0),  # among the snapshots
        "removed_pages": outcomes.get("removed", 0),
    }
    if as_json:
        emit_json(numbers)
        return
    for name, value in numbers.items():
        if name in ("failed_fetches", "removed_pages"):
            continue
        if name == "snapshots" and (numbers["failed_fetches"] or numbers["removed_pages"]):
            value = (
                f"{value} (of which {numbers['failed_fetches']} failed fetch(es), "
                f"{numbers['removed_pages']} page(s) found removed)"
            )
        click.echo(f"{name:>18}  {value}")


@click.command()
@db_option
@json_option
def rebuild(db_path: str, as_json: bool) -> None:
    """Derive every article, block and fact again from the observations.

    Refreshes are incremental: each derives only what new snapshots touch. A rebuild starts
    over from the stored observations (pages analysed by an older extractor are analysed
    again first) and holds the write lock while it runs; nothing fetched is lost.

    \b
    Example:
      pa-archive rebuild --db archive.db
    """
    with open_archive(db_path, writes=True) as archive, writer_lock(db_path, "rebuild"), user_errors():
        archive.rebuild()
        counts = archive.stats()
    if as_json:
        emit_json(counts)
    else:
        click.echo(
            f"Rebuilt: {counts['articles']} article(s), {counts['article_versions']} version(s), "
            f"{counts['blocks']} block(s), {counts['block_versions']} block version(s), "
            f"{counts['conflicts']} conflict(s)."
        )


@click.command()
@db_option
@json_option
def compact(db_path: str, as_json: bool) -> None:
    """Give the disk back the space the archive no longer uses.

    SQLite reuses freed pages (after an upgrade that converted a table, or a rebuild) but never
    shrinks the file by itself. Compacting rewrites it without them (SQLite's VACUUM): it needs
    about the archive's size in free space beside it, holds the writer lock (a crawl or import started
    meanwhile is refused, exit 75), and a kill leaves the archive as it was. Minutes on a large archive.
    First, the pages' lines an older version stored with the raw pages' dictionary are recompressed
    with the archive's dictionary of lines (about a quarter smaller), and each new version of a page an
    older version stored whole is stored as what changed from its URL's earlier content (a tenth of the
    size on the benchmark's changed pages), and the full-text index, which crawls and imports write
    in batches, is merged into one segment (a few percent smaller). An archive made with 4 KB pages
    is rewritten with 8 KB ones (article texts pack better: 4% smaller at a million observations),
    unless another program has it open (a Datasette): then it keeps its pages and is only compacted.

    \b
    Example:
      pa-archive compact --db archive.db
    """
    with open_archive(db_path, writes=True) as archive, writer_lock(db_path, "compact"), user_errors():
        try:  # every content has its page of lines
            new_versions = archive.new_version_snapshots()
            with contextlib.ExitStack() as lines_bar, contextlib.ExitStack() as versions_bar:
                bar = lines_bar.enter_context(progress("Recompressing lines", length=archive.counts()["contents"]))
                shown: list = []

                def versions(looked_at: int) -> None:  # the second phase: the first bar ends, its own starts
                    if not shown:
                        lines_bar.close()
                        shown.append(versions_bar.enter_context(progress("Storing versions", length=new_versions)))
                    shown[0].update(looked_at)

                before, after = archive.compact(progress=bar.update, versions=versions)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        emit_json({"bytes_before": before, "bytes_after": after})
    else:
        click.echo(f"Compacted {db_path}: {before / 1e6:,.1f} MB -> {after / 1e6:,.1f} MB.")


@click.command()
@db_option
@json_option
def check(db_path: str, as_json: bool) -> None:
    """Compare the incrementally derived tables with a full rebuild.

    First, every observation must name a URL and a content (if any) the archive holds. The
    reference derivation (everything from the observations, in memory) is written into
    a temporary copy of the archive, never into the archive itself. Exit status 1 and the
    differing rows when any table differs. It takes time, memory and disk (the copy) in proportion
    to the archive: about 11 minutes at a million observations, its phases drawn on a terminal.

    \b
    Example:
      pa-archive check && echo "derived tables match a rebuild"
    """
    from dedupe.archive.derivation import CHECK_PHASES

    with open_archive(db_path) as archive, user_errors(), progress("check", length=len(CHECK_PHASES)) as bar:
        bar.item_show_func = lambda phase: phase  # the phase under way: deriving the reference is most of it

        def on_phase(phase: str) -> None:
            bar.update(1, phase)

        try:
            differences = archive.check(on_phase=on_phase)
        except ArchiveError as exc:  # an archive read as it is, whose check would have to refresh it first
            raise click.ClickException(str(exc)) from None
    if as_json:
        emit_json({"equal": not differences, "differences": differences})
    elif not differences:
        click.echo("Every derived table equals a full rebuild.")
    else:
        for table, lines in differences.items():
            click.echo(click.style(table, bold=True) + ": " + lines[0])
            for line in lines[1:]:
                click.echo("  " + line)
    if differences:
        sys.exit(1)


# --- rosters: `pa-archive roster` and `pa-archive parity`: delegations as people, and the two sites against each other.


NAME_COLUMN = 28


CHAMBER_COLUMN = 28


def _seats(seats: dict[str, str]) -> str:
    """'11 (council_of_the_republic 4, house_of_representatives 7)' from a roster's seats."""
    chambers = [f"{k.removeprefix('seats.')} {v}" for k, v in sorted(seats.items()) if k.startswith("seats.")]
    total = seats.get("seats_total", "?")
    return f"{total} ({', '.join(chambers)})" if chambers else str(total)


@click.command()
@click.argument("delegation", required=False, default="")
@date_option("--as-of", "as_of", end=True, help="A date (2024-05-01: the end of that day, UTC) or a time")
@click.option("--changes", is_flag=True, help="Who joined and left when (and plenipotentiary, seats changes) instead.")
@click.option(
    "--people", is_flag=True, help="Every person listed, with all spellings and possible same persons, instead."
)
@db_option
@json_option
def roster(delegation: str, as_of: str | None, changes: bool, people: bool, db_path: str, as_json: bool) -> None:
    """Who sits in each delegation (country pages), per site, and since when.

    Each page counts by its latest observation at or before DATE (default: now). A member
    joined when first observed listed and left when first observed not listed on a later
    roster of the same delegation and site. Names are one person across scripts and forms
    ("Когут Виктор" is "Viktor Kogut"). --changes lists every change with its dates and
    the snapshots to compare; --people every person with the spellings seen, and names that
    may be the same person (never merged).

    \b
    Example:
      pa-archive roster
      pa-archive roster kyrgyzstan --as-of 2025-11-01
      pa-archive roster --changes
      pa-archive roster belarus --changes --json
      pa-archive roster --people
    """
    from dedupe.analysis import delegations

    with open_archive(db_path) as archive:
        try:
            if people:
                result: Any = [
                    p
                    for p in delegations.people(archive)
                    if not delegation or delegations.delegation_name(archive, delegation) in p["delegations"]
                ]
            elif changes:
                result = {
                    "changes": delegations.roster_changes(archive, delegation),
                    "memberships": delegations.memberships(archive, delegation),
                }
            else:
                result = delegations.rosters_as_of(archive, as_of, delegation)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        emit_json(result)
    elif people:
        _print_people(result)
    elif changes:
        _print_changes(result["changes"])
    else:
        _print_rosters(result)


def _print_rosters(result: dict[str, Any]) -> None:
    click.echo(f"Rosters as of {when(result['as_of'])} UTC (each country page's latest observation):")
    if not result["rosters"]:
        click.echo("  none: no page listing a delegation's members was observed by then.")
    for r in result["rosters"]:
        click.echo(
            click.style(
                fit(f"{r['delegation']} ({r['language']}): {len(r['members'])} members, roster v{r['version']}", WIDTH),
                bold=True,
            )
        )
        click.echo(fit(f"  seats {_seats(r['seats'])}", WIDTH))
        click.echo(fit(f"  plenipotentiary {r['plenipotentiary'] or '(none)'}", WIDTH))
        click.echo(fit(f"  s{r['snapshot_id']} at {when(r['observed_at'])}: {r['url']}", WIDTH))
        for m in r["members"]:
            since = f"since {when(m['joined'])[:10]}" if m["joined"] else ""
            click.echo(
                f"  {fit(m['name'], NAME_COLUMN - 2):<{NAME_COLUMN - 2}} "
                f"{fit(m['chamber'] or '-', CHAMBER_COLUMN - 1):<{CHAMBER_COLUMN - 1}} {since}".rstrip()
            )
            if m["position"]:
                click.echo(fit(f"      {m['position']}", WIDTH))


def _print_people(records: list[dict[str, Any]]) -> None:
    if not records:
        click.echo("No one is listed on a roster yet.")
        return
    names = {r["key"]: r["name"] for r in records}
    click.echo(f"{len(records)} people (one per identity across scripts; spellings seen):")
    for r in records:
        click.echo(fit(f"{r['name']} ({', '.join(r['delegations'])}; {', '.join(r['languages'])})", WIDTH))
        click.echo(fit(f"  {' · '.join(r['spellings'])}", WIDTH))
        for key in r["possible_matches"]:
            click.echo(click.style(fit(f"  ? may be the same person as {names.get(key, key)}", WIDTH), fg="yellow"))


def _print_changes(rows: list[dict[str, Any]]) -> None:
    if not rows:
        click.echo("No roster changes: every delegation's roster is as first observed.")
        return
    click.echo("Roster changes, oldest first (joined: first observed listed; left: first observed not listed):")
    heading = None
    for row in rows:
        key = (row["delegation"], row["language"], row["snapshot_id"])
        if key != heading:
            heading = key
            click.echo(click.style(f"{when(row['observed_at'])}  {row['delegation']} ({row['language']})", bold=True))
            click.echo(fit(f"  at {row['url']} (s{row['snapshot_id']})", WIDTH))
            if row["previous_snapshot_id"]:
                click.echo(f"  pa-archive diff s{row['previous_snapshot_id']} s{row['snapshot_id']} --words")
        if row["kind"] == "joined":
            text = f"joined  {row['new_value']}"
        elif row["kind"] == "left":
            text = f"left    {row['old_value']}"
        else:
            text = f"{row['subject']}: {row['old_value'] or '(none)'} -> {row['new_value'] or '(none)'}"
        click.echo(fit(f"  {text}", WIDTH))


@click.command()
@date_option("--as-of", "as_of", end=True, help="A date (2024-05-01: the end of that day, UTC) or a time")
@click.option("--delegation", metavar="NAME", default="", help="One delegation, in any case (belarus).")
@click.option("--all", "show_all", is_flag=True, help="Show the fields both sites agree on too.")
@db_option
@json_option
def parity(as_of: str | None, delegation: str, show_all: bool, db_path: str, as_json: bool) -> None:
    """Do pacsto.org (en) and paodkb.org (ru) say the same thing? Per delegation and field.

    Each site's pages count by their latest observation at or before DATE (default: now):
    the delegation block's facts and the country pages' rosters. Seats compare as numbers,
    plenipotentiaries and members as people (any script, any order, patronymics ignored).
    Without --all only the differences are printed; --json lists every field as
    {"delegation", "field", "en": {"values", "urls", ...}, "ru": {...}, "agree"}.

    \b
    Example:
      pa-archive parity
      pa-archive parity --as-of 2025-11-01 --all
      pa-archive parity --delegation belarus --json
    """
    from dedupe.analysis.parity import parity as compare

    with open_archive(db_path) as archive:
        try:
            result = compare(archive, as_of, delegation)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        emit_json(result["fields"])
        return
    fields = result["fields"] if show_all else [f for f in result["fields"] if not f["agree"]]
    agreeing = sum(1 for f in result["fields"] if f["agree"])
    click.echo(f"English (en) vs Russian (ru) as of {when(result['as_of'])} UTC:")
    if not result["fields"]:
        click.echo("  nothing to compare: no delegation is stated by both sites yet.")
        return
    click.echo(
        f"  {agreeing} field(s) agree, {len(result['fields']) - agreeing} differ or are stated by one site only."
    )
    for f in fields:
        mark = "agree" if f["agree"] else click.style(f["status"], fg="red")
        click.echo(click.style(f"{f['delegation']} {f['field']}: ", bold=True) + mark)
        if f["field"] == "members":
            for lang in ("en", "ru"):
                sources = "; ".join(_source(s) for s in f[lang]["sources"])
                click.echo(fit(f"  {lang}: {len(f[lang]['values'])} members ({sources or 'not stated'})", WIDTH))
            if "only_en" in f:
                click.echo(fit(f"  only en: {', '.join(f['only_en']) or '-'}", WIDTH))
                click.echo(fit(f"  only ru: {', '.join(f['only_ru']) or '-'}", WIDTH))
            continue
        column = min(24, max((len(str(s["value"])) for lang in ("en", "ru") for s in f[lang]["sources"]), default=1))
        for lang in ("en", "ru"):
            by_value: dict[str, list[str]] = {}
            for s in f[lang]["sources"]:
                by_value.setdefault(str(s["value"]), []).append(_source(s))
            if not by_value:
                click.echo(f"  {lang}: (not stated)")
            for i, (value, sources) in enumerate(sorted(by_value.items())):
                lead = f"  {lang}: " if i == 0 else " " * 6
                click.echo(fit(f"{lead}{fit(value, column):<{column}}  {'; '.join(sources)}", WIDTH))


def _source(source: dict[str, Any]) -> str:
    """'block bv-… (39 pages)' or 'country page rv-…': where one side's value comes from."""
    if source["from"] == "block":
        return f"block {source['block_versions'][0]} ({source['pages']} pages)"
    return f"country page {source['roster_version'][:15]}"


# --- crawl: The crawling commands: ``crawl``, ``runs``, ``replica`` and ``demo``.


def _check_duration(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--revisit-after: a duration the crawl can use, or exit status 2 with one sentence."""
    if value is None:
        return None
    from crawler.revisit import parse_duration

    try:
        parse_duration(value, "--revisit-after")
    except ValueError as exc:
        raise UsageFailure(f"{exc}.") from None
    return value


def conflicts_by_language(conflicts: list[dict[str, Any]]) -> str:
    """ " (en 1, ru 1)": how many conflicts each language has (facts are compared within a language)."""
    counts: dict[str, int] = {}
    for conflict in conflicts:
        if conflict.get("language"):
            counts[conflict["language"]] = counts.get(conflict["language"], 0) + 1
    return f" ({', '.join(f'{lang} {n}' for lang, n in sorted(counts.items()))})" if counts else ""


def describe_run(run: dict[str, Any], width: int = WIDTH) -> list[str]:
    """A person's summary of one crawl_runs row, each line at most ``width`` columns."""
    stats = run.get("stats") or {}
    changes = stats.get("changes") or {}
    elapsed = stats.get("elapsed_seconds")
    took = f" in {elapsed:.1f} s" if isinstance(elapsed, (int, float)) else ""
    lines = wrapped(
        "",
        f"Crawl run {run['id']} {run['status']}{took}: {run['pages_fetched']} page(s) fetched - {run['new']} new, "
        f"{run['changed']} changed, {run['unchanged']} unchanged, {run['removed']} removed; {run['failed']} failed"
        + (f" ({stats['not_stored']} of them fetched but not stored)." if stats.get("not_stored") else "."),
        width,
    )
    if run.get("resumed_from"):
        resumed = stats.get("resumed_pages", stats.get("skipped_as_stored", 0))
        note = f"resumed run {run['resumed_from']}: the {resumed} page(s) it had stored were not fetched again"
        lines += wrapped("  ", note, width)
    if run.get("live"):
        pid = f" (pid {run['pid']})" if run.get("pid") else ""
        lines += wrapped("  ", f"still running{pid}: the counts are what it has stored so far.", width)
    elif run.get("recorded_status") == "running":
        pid = f" (pid {run['pid']})" if run.get("pid") else ""
        lines += wrapped(
            "  ",
            f"killed: its process{pid} has ended and no crawl holds the archive's lock; the counts are what it "
            "stored, and the next crawl records it as interrupted.",
            width,
        )
    if run.get("status") == "interrupted":
        if run.get("jobdir"):
            lines += wrapped(
                "  ", f"to go on where it stopped, run the same command again (--jobdir {run['jobdir']}).", width
            )
        else:
            lines += wrapped(
                "  ",
                "to go on, run the crawl again: it fetches what the archive lacks (with --jobdir DIR a stopped run "
                "resumes exactly where it stopped).",
                width,
            )
    if changes:
        counts = changes.get("counts") or {key: len(value) for key, value in changes.items()}
        lines += wrapped(
            "  ",
            f"articles: {counts.get('new_articles', 0)} new, {counts.get('changed_articles', 0)} with a new "
            f"version, {counts.get('removed_articles', 0)} removed; block versions: "
            f"{counts.get('new_block_versions', 0)} new; facts changed: {counts.get('changed_facts', 0)}; "
            f"conflicts: {counts.get('conflicts', 0)}{conflicts_by_language(changes.get('conflicts') or [])}",
            width,
        )
    alert = stats.get("notify") or {}
    if alert.get("sent"):
        lines += wrapped("  alert sent: ", str(alert.get("title")), width)
    for failure in alert.get("errors") or []:
        lines += wrapped("  ", str(failure), width)
    errors = run.get("errors") or []
    for error in errors[:10]:
        lines += wrapped("  failed: ", f"{error.get('url') or '(run)'}: {error.get('error')}", width)
    if len(errors) > 10:
        lines.append(f"  ... and {len(errors) - 10} more (pa-archive runs {run['id']} --json)")
    return lines


@click.command()
@click.option(
    "--start-url",
    "start_urls",
    multiple=True,
    metavar="URL",
    help="Where to start (repeat for both sites); its host is the only one crawled. Default: $PA_START_URLS "
    "(a JSON list: '[\"https://paodkb.org/events\"]'), else https://pacsto.org/events.",
)
@db_option
@click.option(
    "--jobdir",
    type=PathParam(file_okay=False),
    default=None,
    envvar="PA_JOBDIR",
    show_envvar=True,
    help="Keep the crawl's state here: a run that was stopped or killed resumes from it.",
)
@json_option
@click.option(
    "-s",
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="A setting of the crawl or of Scrapy, e.g. -s DOWNLOAD_DELAY=2 -s CONCURRENT_REQUESTS_PER_DOMAIN=1. "
    "Each can also be set by an environment variable PA_<NAME> (PA_DOWNLOAD_DELAY=2, PA_ROBOTSTXT_OBEY=false; "
    "JSON values parsed); -s wins over it, and the flags over both. The settings: README, 'Settings and "
    "environment'.",
)
@click.option(
    "--log-level",
    default="WARNING",
    envvar="PA_LOG_LEVEL",
    show_envvar=True,
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False),
    help="Scrapy's log level (in the log file, or on stderr with --verbose); -s LOG_LEVEL=... wins.",
)
@click.option(
    "--wait",
    "wait",
    type=Seconds(),
    default=0,
    metavar="SECONDS",
    help="If another writer holds the archive, wait up to this long for it, saying so on stderr (default: exit "
    "at once with status 75). The run's time starts when it has the archive.",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Scrapy's log on stderr. Default: in <archive>-crawl.log beside the archive (failures are summed up "
    "as one sentence each either way).",
)
@click.option(
    "--progress/--no-progress", default=True, show_default=True, help="A progress line on stderr while crawling."
)
@click.option(
    "--revisit-after",
    "revisit_after",
    default=None,
    metavar="DURATION",
    callback=_check_duration,
    help="Request an archived page again once its last observation is older than this: 7d, 12h, 90m "
    "or seconds; 0 revisits every page. Default: the REVISIT_AFTER setting ($PA_REVISIT_AFTER), 7d.",
)
@notify_options
def crawl(
    start_urls: tuple[str, ...],
    db_path: str,
    jobdir: str | None,
    as_json: bool,
    overrides: tuple[str, ...],
    log_level: str,
    wait: float,
    verbose: bool,
    progress: bool,
    revisit_after: str | None,
    notify_urls: tuple[str, ...],
    datasette_url: str | None,
) -> None:
    """Crawl the site into the archive: new articles, the listings, and what is due again.

    Each run reads the news list's first page (new articles, the delegation block) and the
    list down to the first page whose articles are all archived, fetches every page the
    archive does not have, and requests an archived page again once its last observation is
    older than --revisit-after (7 days by default): an edited or removed article is seen
    within that time. Requests are conditional on what the archive holds (a 304 is recorded
    as "seen again"), a vanished article (404/410) is recorded as removed, and every run is a
    row of crawl_runs (see `pa-archive runs`). One run at a time per archive: a second one
    exits with status 75. The exit status is 1 when the run failed or was interrupted.

    \b
    Example:
      pa-archive crawl
      pa-archive crawl --start-url https://pacsto.org/events --start-url https://paodkb.org/events
      pa-archive crawl --start-url http://127.0.0.1:8000/events --db test.db -s DOWNLOAD_DELAY=0
      pa-archive crawl --jobdir crawls/pacsto --json     # resumable; JSON summary
      pa-archive crawl --revisit-after 0                 # a full revisit: every archived page again
      pa-archive crawl --notify 'mailto://me:app-password@gmail.com' --datasette-url http://127.0.0.1:8001
    """
    from crawler.process import CrawlSetupError, check_db_folder, crawl_settings, run_crawl
    from dedupe import DEFAULT_DB
    from dedupe.archive import ArchiveError
    from dedupe.archive.lock import WriterLocked, waiting_for

    ctx = click.get_current_context()
    if ctx.get_parameter_source("db_path") == click.core.ParameterSource.DEFAULT and any(
        o.partition("=")[0].strip() == "ARCHIVE_DB" for o in overrides
    ):
        db_path = None  # -s ARCHIVE_DB=... given, --db not
    try:
        settings = crawl_settings(
            db_path, jobdir, overrides, log_level, progress and not as_json, revisit_after, verbose=verbose
        )
        check_db_folder(settings.get("ARCHIVE_DB"))
        check_jobdir(settings.get("JOBDIR"))
        archive_db = settings.get("ARCHIVE_DB") or DEFAULT_DB
        alerts = Alerts(archive_db, notify_urls, datasette_url).before()
        with user_errors():
            run = run_crawl(
                settings, list(start_urls), wait, on_wait=lambda: click.echo(waiting_for(archive_db, wait), err=True)
            )
            result = run.result()
            report = alerts.after(run=f"crawl run {result['id']}")
            if report is not None:  # kept in the run's stats (`pa-archive runs`) and shown in its summary
                from dedupe.archive.crawl_runs import record_notification

                record_notification(archive_db, result["id"], report)
                result.setdefault("stats", {})["notify"] = report
    except CrawlSetupError as exc:
        raise UsageFailure(str(exc)) from None
    except WriterLocked as exc:
        refuse_locked(str(exc))
    except ArchiveError as exc:
        raise click.ClickException(sentence(exc)) from None
    if as_json:
        emit_json(result)
    else:
        for line in describe_run(result) + describe_changes((result.get("stats") or {}).get("changes") or {}):
            click.echo(line)
        if result.get("status") == "failed" and settings.get("LOG_FILE") and os.path.exists(settings["LOG_FILE"]):
            click.echo(f"  Scrapy's log: {settings.get('LOG_FILE')} (or run again with --verbose)")
    if run.stopped_now:  # the reactor was crashed, not stopped: its threads must not hold the exit
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    if result.get("status") != "finished":
        sys.exit(1)


def check_jobdir(jobdir: str | None) -> None:
    """Refuse a --jobdir the crawl cannot keep its state in, before anything is locked, fetched or recorded
    (a read-only one failed as 'Read-only file system (ro/state)', after the run's row was written)."""
    if not jobdir:
        return
    from crawler.process import CrawlSetupError

    folder = Path(jobdir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # root too is refused by a read-only file system
            pass
    except OSError as exc:
        named = Path(str(exc.filename)) if exc.filename else None
        where = f" ({named})" if named and named != folder and named.parent != folder else ""  # not our probe
        raise CrawlSetupError(
            f"cannot keep the crawl's state in --jobdir {jobdir}: {exc.strerror or exc}{where}; nothing was fetched "
            "(choose a folder that can be written, or leave --jobdir out)."
        ) from None


@click.command()
@click.argument("run_id", required=False, type=Positive(), metavar="[RUN]")
@db_option
@json_option
@click.option(
    "--limit", default=20, show_default=True, type=Positive(), metavar="N", help="How many runs, newest first."
)
def runs(run_id: int | None, db_path: str, as_json: bool, limit: int) -> None:
    """Crawl runs, newest first: status, pages, what changed, failures; RUN: one run in full.

    \b
    Example:
      pa-archive runs
      pa-archive runs 3                       # what run 3 changed: facts, conflicts, variants, articles
      pa-archive runs --json --limit 1 | jq '.[0].status'
    """
    from dedupe.archive.lock import holder as lock_holder

    try:
        with user_errors(), open_archive(db_path, refresh=False) as archive:
            found = archive.runs.recent(limit) if run_id is None else [archive.runs.get(run_id)]
            holder = lock_holder(db_path)  # a 'running' row whose process holds no lock was killed
            rows = [archive.runs.as_now(row, holder) for row in found if row]
    except ArchiveError as exc:
        raise click.ClickException(sentence(exc)) from None
    if run_id is not None and not rows:
        raise UsageFailure(f"there is no crawl run {run_id} in {db_path}: `pa-archive runs` lists them.")
    if as_json:
        emit_json(rows[0] if run_id is not None else rows)
        return
    if not rows:
        click.echo("No crawl runs yet: run `pa-archive crawl`.")
    for row in rows:
        changes = (row.get("stats") or {}).get("changes") or {}
        if run_id is not None:
            click.echo(click.style(f"{row['started_at']} .. {row['finished_at'] or '?'}", bold=True))
            for line in describe_run(row) + describe_changes(changes, limit=20):
                click.echo(line)
            continue
        click.echo(click.style(f"{row['started_at']} .. {row['finished_at'] or '?'}", bold=True))
        for line in describe_run(row, WIDTH - 2) + describe_changes(changes, first=True, limit=2, width=WIDTH - 2):
            click.echo("  " + line)


@click.command()
@click.option(
    "--epoch",
    type=click.IntRange(1, 3),
    default=1,
    show_default=True,
    help="The site's state: 1, 2 (block and one article changed), 3 (one removed, two added).",
)
@click.option("--port", type=PORT, default=8000, show_default=True, help="0 picks a free port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
@click.option(
    "--faults",
    default="",
    help="Comma-separated: flaky500, slow, truncated, wrong_charset, redirect_loop, offsite_redirect, calendar_trap.",
)
@click.option(
    "--lang", type=click.Choice(["en", "ru"]), default="en", show_default=True, help="en = pacsto.org, ru = paodkb.org."
)
@click.option(
    "--markup",
    type=click.Choice(["header", "aside"]),
    default="header",
    show_default=True,
    help="How the delegation block is marked up.",
)
@click.option(
    "--slow-seconds",
    type=Seconds(),
    metavar="SECONDS",
    default=5.0,
    show_default=True,
    help="Delay of the 'slow' fault page.",
)
def replica(epoch: int, port: int, host: str, faults: str, lang: str, markup: str, slow_seconds: float) -> None:
    """Serve a local replica of the site to crawl (loopback only) until Ctrl-C.

    Send SIGUSR1 to move it to the next epoch, as the real site changes between runs.

    \b
    Example:
      pa-archive replica --epoch 1 --port 8000 &
      pa-archive crawl --start-url http://127.0.0.1:8000/events --db replica.db -s DOWNLOAD_DELAY=0
      pa-archive replica --lang ru --markup aside --faults slow,flaky500 --port 8001
    """
    from replica import ReplicaServer

    try:
        server = ReplicaServer(
            epoch=epoch, lang=lang, block_markup=markup, faults=faults, host=host, port=port, slow_seconds=slow_seconds
        ).start()
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None

    def next_epoch(*_: Any) -> None:
        server.set_epoch(server.epoch % 3 + 1)
        click.echo(f"now serving epoch {server.epoch}", err=True)

    signal.signal(signal.SIGUSR1, next_epoch)
    # SIGINT stops it even when it was started with SIGINT ignored, as a script's background job (`&`) is:
    # Python then keeps it ignored, and the server would outlive `kill -INT`
    signal.signal(signal.SIGINT, signal.default_int_handler)
    click.echo(server.url)
    click.echo(
        f"Serving the {lang} replica at epoch {epoch} ({markup} markup"
        f"{', faults: ' + faults if faults else ''}). Crawl it with:\n"
        f"  pa-archive crawl --start-url {server.url}/events -s DOWNLOAD_DELAY=0\nCtrl-C stops it.",
        err=True,
    )
    server.serve_forever()


@click.command()
@click.option(
    "--db",
    "db_path",
    default="demo-archive.db",
    show_default=True,
    type=PathParam(dir_okay=False),
    help="Where the demo builds its fresh archive: a new file, or one an earlier demo made (replaced).",
)
@click.option("--force", is_flag=True, help="Replace --db even if it is not an archive the demo made.")
@click.option(
    "--markup",
    type=click.Choice(["header", "aside"]),
    default="header",
    show_default=True,
    help="How the replica marks up the delegation block.",
)
def demo(db_path: str, force: bool, markup: str) -> None:
    """Crawl a local replica of both sites at three moments and show what changed.

    Starts the replica (English and Russian) on 127.0.0.1, crawls it at epochs 1, 2 and 3 as
    a schedule would (epoch 2: the block's Kyrgyz seats go from 7 to 6, website lines empty,
    one article edited; epoch 3: "12 senators", one article removed, two added), stops it,
    and prints each run's new, changed and removed articles, block variants and conflicts, then
    the delegations' roster changes and where the English and Russian sites disagree.
    The three moments are weeks apart on the site but seconds apart here, so each crawl runs
    with --revisit-after 0: every archived page is due, as it would be after REVISIT_AFTER
    (7 days by default) on a real schedule.

    \b
    Example:
      pa-archive demo && pa-archive conflicts --db demo-archive.db
    """
    from crawler.process import CrawlFailed, CrawlSetupError, crawl_subprocess, prepare_demo_archive

    try:
        prepare_demo_archive(db_path, force)  # first: a refused --db costs nothing
    except CrawlSetupError as exc:
        raise UsageFailure(str(exc)) from None

    from dedupe.archive import Archive
    from replica import ReplicaServer

    started = time.monotonic()
    ctx = click.get_current_context()
    with (
        ReplicaServer(epoch=1, lang="en", block_markup=markup) as en,
        ReplicaServer(epoch=1, lang="ru", block_markup=markup) as ru,
    ):
        click.echo(f"Replica of pacsto.org at {en.url}, of paodkb.org at {ru.url}.")
        click.echo(
            "Its three moments are weeks apart on the site but seconds apart here: each crawl runs with "
            "--revisit-after 0,\nso every archived page is due again, as it would be after a week "
            "(REVISIT_AFTER, 7d) on a real schedule."
        )
        for epoch in (1, 2, 3):
            en.set_epoch(epoch)
            ru.set_epoch(epoch)
            click.echo(
                click.style(
                    f"\n$ pa-archive crawl --start-url {en.url}/events --start-url {ru.url}/events"
                    f" --revisit-after 0   # the site at epoch {epoch}",
                    bold=True,
                )
            )
            try:
                result = crawl_subprocess(db_path, [f"{en.url}/events", f"{ru.url}/events"], "--revisit-after", "0")
            except CrawlFailed as exc:
                raise click.ClickException(str(exc)) from None
            for line in describe_run(result):
                click.echo(line)
            for line in describe_changes((result.get("stats") or {}).get("changes") or {}, first=epoch == 1):
                click.echo(line)
    click.echo(click.style("\n$ pa-archive conflicts", bold=True))
    ctx.invoke(conflicts, db_path=db_path, as_json=False)
    with Archive(db_path, create=False) as archive:
        change = archive.first_conflict_change()
    if change:
        before, after = change["previous_version_id"], change["block_version_id"]
        click.echo(click.style(f"\n$ pa-archive diff {before} {after} --words", bold=True))
        ctx.invoke(diff_, a=before, b=after, word_marks=True, side=False, unified=False, db_path=db_path, as_json=False)

    click.echo(click.style("\n$ pa-archive roster --changes   # who joined and left each delegation, when", bold=True))
    ctx.invoke(roster, delegation="", as_of=None, changes=True, db_path=db_path, as_json=False)
    click.echo(click.style("\n$ pa-archive parity   # where the English and Russian sites disagree now", bold=True))
    ctx.invoke(parity, as_of=None, delegation="", show_all=False, db_path=db_path, as_json=False)
    click.echo(
        f"\nDone in {time.monotonic() - started:.0f} s. The archive is {db_path}; try "
        f"`pa-archive runs --db {db_path}` or `pa-archive blocks --db {db_path}`."
    )


def describe_changes(changes: dict[str, Any], first: bool = False, limit: int = 5, width: int = WIDTH) -> list[str]:
    """What one run changed in the archive, for a person."""
    lines = []
    counts = changes.get("counts") or {}
    facts = changes.get("changed_facts") or []
    for fact in facts[:limit]:
        old, new = fact.get("old") or "(empty)", fact.get("new") or "(empty)"
        lines += wrapped(
            "  fact changed: ", f"{fact['delegation']} {fact['field']} ({fact['language']}): {old} -> {new}", width
        )
    if counts.get("changed_facts", len(facts)) > min(limit, len(facts)):
        lines.append(f"  ... {counts.get('changed_facts', len(facts)) - min(limit, len(facts))} more changed facts")
    for key, label in (
        ("new_articles", "new article"),
        ("changed_articles", "changed article"),
        ("removed_articles", "removed article"),
    ):
        items = changes.get(key) or []
        shown = items[: 2 if first else limit]
        for item in shown:
            title = (item.get("title") or "(untitled)") + (
                f"  (now v{item['versions']})" if key == "changed_articles" else ""
            )
            lines += wrapped(f"  {label}: ", title, width)
            lines.append("      " + fitted(str(item["url"]), width - 6))
        total = counts.get(key, len(items))
        if total > len(shown):
            lines.append(f"  ... {total - len(shown)} more {label}s")
    factual = {"conflict", "missing", "filled", "reworded"}
    versions = sorted(
        changes.get("new_block_versions") or [],  # variants whose facts changed first
        key=lambda v: not any(c["kind"] in factual for c in v.get("changes", [])),
    )
    for version in versions[:limit]:
        lines.append(f"  block variant: {version['version_id']} (block b{version['block_id']} v{version['version']})")
        for change in version.get("changes", [])[:limit]:
            detail = change.get("detail") or change.get("new_text") or change.get("old_text") or ""
            lines += wrapped(f"      {change['kind']:>9}: ", detail, width, unit="; ")
    total = counts.get("new_block_versions", len(versions))
    if total > limit:
        lines.append(f"  ... {total - limit} more block variants (pa-archive blocks)")
    for conflict in changes.get("new_conflicts") or []:
        values = " vs ".join(str(v["value"]) for v in conflict.get("values", []))
        language = f" ({conflict['language']})" if conflict.get("language") else ""
        lines += wrapped("  new conflict: ", f"{conflict['delegation']} {conflict['field']}{language}: {values}", width)
    lines += describe_contradictions(changes.get("contradictions") or [], width)
    return lines


def fitted(url: str, width: int) -> str:
    """A URL on one line of ``width``: whole when it fits, else its path, cut with an ellipsis if need be (a URL
    has no spaces to wrap at; ``runs RUN --json`` has it whole)."""
    if len(url) <= width:
        return url
    from urllib.parse import urlsplit

    path = urlsplit(url).path or url
    return path if len(path) <= width else path[: width - 1] + "…"


def describe_contradictions(contradictions: list[dict[str, Any]], width: int = WIDTH) -> list[str]:
    """Facts the run's own pages stated differently: the site contradicting itself at one moment."""
    lines = []
    for item in contradictions:
        values = " vs ".join(f"{v['value']} ({v['pages']} page(s))" for v in item["values"])
        name = f"{item['delegation']} {item['field']} ({item['language']})"
        lines += wrapped("  the site contradicts itself in this run: ", name, width)
        lines += wrapped("      ", values, width)
    return lines


# --- web archives: ``export`` (WARC, CDXJ, WACZ), ``backfill`` (from a CDX server), ``timemap``.


@click.command()
@click.option(
    "--warc",
    "warc_path",
    required=True,
    type=PathParam(dir_okay=False),
    help="The WARC/1.1 file to write (gzipped when it ends in .gz); a .cdxj index is written beside it.",
)
@click.option("--wacz", "wacz_path", type=PathParam(dir_okay=False), help="Also package the WARC as this WACZ.")
@click.option("--url-prefix", default="", help="Only URLs that start with this.")
@date_option("--since", end=False, help="Only observations from this date on")
@db_option
@json_option
def export(warc_path: str, wacz_path: str | None, url_prefix: str, since: str, db_path: str, as_json: bool) -> None:
    """Write the archive as WARC/1.1 (+ CDXJ, + WACZ) for pywb, ReplayWeb.page and other tools.

    One response record per content (its first observation), a revisit for each later
    observation of it and for each 304, and a metadata record per observation with what was
    derived from it (article version, block versions, facts). Imported files (file: URLs)
    and failed fetches have nothing to replay and are skipped.

    \b
    Example:
      pa-archive export --warc pacsto.warc.gz
      pa-archive export --warc en-2025.warc.gz --url-prefix https://pacsto.org/ --since 2025-01-01 --wacz en-2025.wacz
      wb-manager add my-coll pacsto.warc.gz && wayback      # replay it in pywb
    """
    from pathlib import Path

    from dedupe.webarchive import warc_export

    since = since or ""
    out = Path(warc_path)
    if not out.name.endswith((".warc", ".warc.gz")):
        raise click.ClickException(f"{warc_path} must end in .warc or .warc.gz.")
    cdxj = out.with_name(out.name.removesuffix(".gz").removesuffix(".warc") + ".cdxj")
    try:
        warc_export.check_outputs(db_path, [out, cdxj, *([Path(wacz_path)] if wacz_path else [])])
    except warc_export.ExportError as exc:
        raise click.ClickException(str(exc)) from None
    with open_archive(db_path) as archive, user_errors():
        total = warc_export.count_snapshots(archive, url_prefix, since)
        with progress("Exporting", length=total) as bar:
            report = warc_export.export_warc(archive, out, url_prefix, since, progress=bar.update)
        warc_export.write_cdxj(out, cdxj)
        report.cdxj = str(cdxj)
        if wacz_path:
            try:
                warc_export.write_wacz(out, Path(wacz_path))
            except RuntimeError as exc:
                raise click.ClickException(str(exc)) from None
            report.wacz = wacz_path
    if as_json:
        emit_json(report.as_dict())
        return
    skipped = sum(report.skipped.values())
    click.echo(
        f"Wrote {out}: {report.responses} response(s), {report.revisits} revisit(s), {report.not_modified} "
        f"not-modified revisit(s), {report.removed} removal(s), {report.metadata} metadata record(s); "
        f"{skipped} observation(s) skipped."
    )
    click.echo(f"Index: {cdxj}" + (f"; WACZ: {wacz_path}" if wacz_path else ""))


@click.command()
@click.option(
    "--cdx-api", default=None, help="The CDX API (…/cdx/search/cdx on the Wayback Machine, …/<coll>/cdx on pywb)."
)
@click.option(
    "--warc-prefix",
    default=None,
    help="Common Crawl layout: the CDX rows name WARC files (filename, offset, length) under this URL, "
    "fetched by Range requests (e.g. https://data.commoncrawl.org/).",
)
@click.option(
    "--timemap",
    default=None,
    help="A Memento TimeMap prefix: <prefix><url> lists the mementos (e.g. https://arquivo.pt/wayback/timemap/link/).",
)
@click.option("--url", "patterns", required=True, multiple=True, help="A URL, or a prefix ending in * (repeatable).")
@date_option("--from", "since", end=False, help="Captures from this date on")
@date_option("--to", "until", end=True, help="Captures up to this date (2016: the end of 2016)")
@click.option("--replay-prefix", default=None, help="Where captures replay, if not told by the CDX API's address.")
@click.option(
    "--delay",
    type=Seconds(),
    metavar="SECONDS",
    default=None,
    help="Seconds between requests [default: 1 for web.archive.org, else 0].",
)
@click.option("--dry-run", is_flag=True, help="List the captures per year; fetch nothing.")
@db_option
@json_option
@notify_options
def backfill(
    cdx_api: str | None,
    warc_prefix: str | None,
    timemap: str | None,
    patterns: tuple[str, ...],
    since: str,
    until: str,
    replay_prefix: str | None,
    delay: float | None,
    dry_run: bool,
    db_path: str,
    as_json: bool,
    notify_urls: tuple[str, ...],
    datasette_url: str | None,
) -> None:
    """Fill the archive with the dated history web archives hold (CDX servers, Common Crawl, Memento TimeMaps).

    Lists the 200 captures (a digest's repeats collapsed), fetches each one's original bytes
    (the id_ replay) one request at a time, and stores it dated by the capture's timestamp,
    through the same path as a crawl. Captures already backfilled are never fetched again, so
    an interrupted backfill resumes. Prints a summary per year.

    \b
    Example:
      pa-archive backfill --cdx-api https://web.archive.org/cdx/search/cdx --url 'pacsto.org/events*' \\
        --from 2014 --dry-run
      pa-archive backfill --cdx-api https://web.archive.org/cdx/search/cdx --url pacsto.org/events --from 2014 --to 2016
      pa-archive backfill --cdx-api http://127.0.0.1:8080/my-coll/cdx --url 'https://pacsto.org/*'
      pa-archive backfill --cdx-api https://index.commoncrawl.org/CC-MAIN-2024-10-index \\
        --warc-prefix https://data.commoncrawl.org/ --url 'pacsto.org/events*'
      pa-archive backfill --timemap https://arquivo.pt/wayback/timemap/link/ --url https://pacsto.org/events
    """
    from dedupe.timestamps import digits14
    from dedupe.webarchive import backfill as bf

    since, until = digits14(since) if since else "", digits14(until) if until else ""  # the CDX API's form
    if not cdx_api and not timemap:
        raise click.ClickException("give --cdx-api (a CDX server) or --timemap (a Memento TimeMap prefix), or both.")
    try:
        prefix = warc_prefix or replay_prefix or (bf.replay_prefix_for(cdx_api) if cdx_api else "")
    except ValueError as exc:
        raise click.ClickException(
            f"{exc}: give --replay-prefix (or --warc-prefix for a Common Crawl index)."
        ) from None
    client = bf.Client(delay=bf.default_delay(cdx_api or timemap or "") if delay is None else delay)
    sources = {"cdx_api": cdx_api, "records": bool(warc_prefix), "timemap": timemap}
    # the archive's writer lock, as crawl and import take it: a backfill never interleaves with them
    with contextlib.nullcontext() if dry_run else writer_lock(db_path, "backfill"):
        archive = open_archive(db_path, must_exist=False, writes=True)
        alerts = Alerts(db_path, () if dry_run else notify_urls, datasette_url).before()
        result, captures = _run_backfill(archive, client, sources, patterns, since, until, prefix, dry_run)
    alert = alerts.after(run="backfill")
    if as_json:
        emit_json({"dry_run": dry_run, **result.as_dict(), **({"notify": alert} if alert else {})})
    else:
        click.echo(
            f"{len(captures)} capture(s) listed; {client.requests} request(s)" + (" (dry run)" if dry_run else "")
        )
        header = "year  captures  not HTML  archived before" + (
            "" if dry_run else "  fetched  failed  new contents  new block versions  conflicts"
        )
        click.echo(header)
        for y in result.years:
            line = f"{y.year}  {y.captures:>8}  {y.not_html:>8}  {y.archived_before:>15}"
            if not dry_run:
                line += (
                    f"  {y.fetched:>7}  {y.failed:>6}  {y.new_contents:>12}  {y.new_block_versions:>18}"
                    f"  {y.conflicts:>9}"
                )
            click.echo(line)
    report_problems((alert or {}).get("errors") or [], result.errors)


def _run_backfill(archive, client, sources, patterns, since, until, prefix, dry_run):
    """List the captures (CDX index, TimeMap, or both: a moment several archives hold is one capture),
    then fetch and store them (or only count them, for --dry-run)."""
    from dedupe.webarchive import backfill as bf

    with archive, user_errors():
        try:
            captures = []
            for p in patterns:
                if sources["cdx_api"]:
                    captures += bf.list_captures(
                        client, sources["cdx_api"], p, since, until, records=sources["records"]
                    )
                if sources["timemap"]:
                    captures += [
                        c
                        for c in bf.timemap_captures(client, sources["timemap"], p)
                        if (not since or c.timestamp >= since) and (not until or c.timestamp[: len(until)] <= until)
                    ]
        except bf.BackfillError as exc:
            raise click.ClickException(str(exc)) from None
        captures = list({(c.original, c.timestamp): c for c in reversed(captures)}.values())[::-1]
        if dry_run:
            years = list(bf.plan(captures, bf.archived_captures(archive)).values())
            result = bf.BackfillResult(years=years, requests=client.requests)
        else:
            with progress("Backfilling", length=len(captures)) as bar:
                result = bf.backfill(archive, client, prefix, captures, progress=bar.update)
    return result, captures


@click.command()
@click.argument("url")
@click.option(
    "--replay-prefix", default=None, help="Memento URIs in this pywb/Wayback collection instead of Datasette."
)
@click.option("--datasette", default="http://127.0.0.1:8001", show_default=True, help="Where `pa-archive serve` runs.")
@click.option(
    "--calendar", "as_calendar", is_flag=True, help="Captures by year and month, with the version each one saw."
)
@db_option
@json_option
def timemap(
    url: str, replay_prefix: str | None, datasette: str, as_calendar: bool, db_path: str, as_json: bool
) -> None:
    """The archive's copies of URL as a Memento TimeMap (RFC 7089 link format, or JSON).

    Each observation with a content is a memento (a 304 re-links the stored copy); removals
    and failed fetches are not. Memento URIs are the snapshot's Datasette page by default.

    \b
    Example:
      pa-archive timemap https://pacsto.org/events
      pa-archive timemap https://pacsto.org/events --json | jq '.[].datetime'
      pa-archive timemap https://pacsto.org/events --replay-prefix http://127.0.0.1:8080/my-coll
      pa-archive timemap https://pacsto.org/events --calendar
    """
    from pathlib import Path

    from dedupe.webarchive import memento

    with open_archive(db_path) as archive:
        rows = memento.mementos(archive, url, datasette, Path(db_path).stem, replay_prefix)
    if not rows:
        raise click.ClickException(f"the archive has no copy of {url}.")
    if as_calendar:
        years = memento.calendar(rows)
        if as_json:
            emit_json(years)
            return
        for year, months in years.items():
            click.echo(click.style(year, bold=True) + "  " + "  ".join(f"{m}: {len(c)}" for m, c in months.items()))
            for entries in months.values():
                for e in entries:
                    changed = f"  (changed from {e['previous_version'][:18]})" if e["changed"] else ""
                    click.echo(f"  {e['observed_at']}  s{e['snapshot_id']}  {e['version'][:18]}{changed}")
    elif as_json:
        emit_json(rows)
    else:
        click.echo(memento.link_format(url, rows), nl=False)


# --- serve: ``pa-archive serve``: the archive in Datasette, read-only, with the project's metadata and plugin.


def serving_module():
    """``datasette_pa_archive.serving``, or one sentence when Datasette is not installed."""
    try:
        from datasette_pa_archive import serving
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("datasette", "markupsafe", "jinja2", "yaml"):
            raise click.ClickException("Datasette is not installed: pip install 'pa-archive[datasette]'") from None
        raise
    return serving


def port_problem(host: str, port: int) -> str | None:
    """One sentence when ``host:port`` cannot be listened on (in use, not an address of this machine), checked
    before anything is printed: uvicorn said "Serving ..." first, then "address already in use", exit 3."""
    import socket

    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError:
        return f"cannot serve on {host}: it is not an address of this machine."
    family, kind, proto, _, address = infos[0]
    try:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            sock.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (
                f"port {port} on {host} is already in use (another `pa-archive serve`?): "
                f"stop it, or give another port, e.g. --port {port + 1}."
            )
        return f"cannot serve on {host}:{port}: {exc.strerror or exc}."
    return None


@click.command(context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]})
@db_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 makes the archive reachable from other machines.",
)
@click.option("--port", default=8001, show_default=True, type=PORT, help="Port to listen on.")
@click.option(
    "--print-metadata",
    is_flag=True,
    help="Print the Datasette metadata (YAML) fitted to this archive and exit, for `datasette -m`.",
)
@click.argument("datasette_args", nargs=-1, type=click.UNPROCESSED)
def serve(db_path: str, host: str, port: int, print_metadata: bool, datasette_args: tuple[str, ...]) -> None:
    """Browse the archive in Datasette: canned questions, search, diffs and a seats timeline.

    Datasette reads the archive and never writes to it, so it can run while a crawl or
    an import adds snapshots. Open http://127.0.0.1:8001/ and start with "Conflicting
    facts" or the seats timeline. An archive it cannot write (a copy on a read-only
    share or mount) is served as its last writer left it. Arguments after -- go to
    `datasette serve`.

    \b
    Example:
      pa-archive serve --db archive.db
      pa-archive serve --port 8002 -- --setting sql_time_limit_ms 5000
      pa-archive serve --print-metadata > metadata.yml && datasette archive.db -m metadata.yml
    """
    serving = serving_module()
    try:
        archive = serving.served_archive(db_path)
    except serving.NotAnArchive as exc:
        raise click.ClickException(str(exc)) from None
    if print_metadata:
        click.echo(serving.metadata_yaml(db_path, archive.tables), nl=False)
        return
    if note := archive.note():
        say_note(note)
    extra = [a for a in datasette_args if a != "--"]
    if "--get" not in extra:
        problem = port_problem(host, port)
        if problem:
            raise click.ClickException(problem)
    with tempfile.TemporaryDirectory(prefix="pa-archive-serve-") as folder:
        served = uri_safe_path(db_path, folder)  # Datasette pastes the path into file:...?mode=ro unescaped
        metadata_path = serving.write_metadata(served, archive.tables, folder)
        if "--get" not in extra:
            click.echo(f"Serving {db_path} read-only at http://{host}:{port}/ (Ctrl-C stops)", err=True)
        argv = serving.datasette_argv(served, metadata_path, host, port, extra, immutable=archive.immutable)
        serving.run_datasette(argv)


# --- bench: ``pa-archive bench``: ``python -m bench.run`` from the checkout this is installed from
# (bench/ is not installed).


BENCH_OUT = "pa-archive-bench.json"  # where `pa-archive bench` writes its JSON: the current folder


@click.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args: tuple[str, ...]) -> None:
    """Measure where the time goes: crawl, re-crawl, import, MinHash, scale, storage.

    Builds a synthetic copy of the site on 127.0.0.1 and prints one table (and JSON with
    --json); every ratio is against a baseline measured in the same run. Every number is also
    written as JSON to pa-archive-bench.json in the current folder (--out FILE elsewhere; the
    default below, in the checkout, is `python -m bench.run`'s). Options are those of
    `python -m bench.run`, listed below.

    \b
    Example:
      pa-archive bench                                  # 1k pages, dedupe at 100k snapshots
      pa-archive bench --pages 200 --scale 10000 --json
    """
    checkout = Path(__file__).resolve().parent
    if not (checkout / "bench" / "run.py").is_file():
        raise click.ClickException(
            "pa-archive bench runs from a checkout of the project (git clone it and run "
            "pa-archive bench there): the benchmarks in bench/ are not installed."
        )
    if "-h" in args or "--help" in args:
        click.echo(click.get_current_context().get_help())
        click.echo("\nOptions of the benchmark:")
        sys.stdout.flush()
    if not any(a == "--out" or a.startswith("--out=") for a in args):
        args = (*args, "--out", BENCH_OUT)  # the current folder, not the checkout pa-archive runs from
    path = os.pathsep.join(p for p in (str(checkout), os.environ.get("PYTHONPATH", "")) if p)
    done = subprocess.run([sys.executable, "-m", "bench.run", *args], env={**os.environ, "PYTHONPATH": path})
    sys.exit(done.returncode)


# --- the group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pa-archive")
def cli() -> None:
    """Archive the CSTO Parliamentary Assembly's website with its history.

    Snapshots (imported files or crawled pages) are split into articles and the
    repeated page furniture (the delegation block), stored once per version in
    archive.db, with the facts each block version states and where they conflict.

    \b
    Quick tour:
      pa-archive demo                      # a local replica crawled at three moments: what changed
      pa-archive import snapshots/         # files, folders, globs, JSON Lines
      pa-archive blocks                    # delegation block variants, when seen
      pa-archive conflicts                 # facts that disagree between snapshots
      pa-archive history a1                # every version of article 1
      pa-archive diff bv-1a2b bv-3c4d --words
      pa-archive roster --changes          # who joined and left each delegation, when
      pa-archive parity                    # where the English and Russian sites disagree
    """


for _command in (
    import_,
    conflicts,
    facts,
    blocks,
    history,
    diff_,
    search,
    stats,
    rebuild,
    compact,
    check,
    roster,
    parity,
    crawl,
    runs,
    replica,
    demo,
    export,
    backfill,
    timemap,
    serve,
    bench,
):
    cli.add_command(_command)


if __name__ == "__main__":  # python -m cli COMMAND: where the script is not on PATH
    cli(prog_name="pa-archive")
