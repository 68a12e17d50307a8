"""Serving an archive: the checks, the metadata file and Datasette's command line (``pa-archive serve``).

Datasette opens the file read-only (``mode=ro``, not ``immutable``): a crawl or import may
write to the archive meanwhile, and WAL lets readers and the one writer work at the same time.
An archive this process cannot write (a copy on a read-only share or mount) is opened as the read
commands open it (``dedupe.archive.base.read_only_mode``): ``mode=ro`` where SQLite can read it so, and
Datasette's ``immutable`` where its folder cannot hold the -shm a WAL reader makes and there is no -wal
to read, since there ``mode=ro`` fails with "attempt to write a readonly database".
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from datasette_pa_archive import metadata
from dedupe import migrations
from dedupe.archive.base import IMMUTABLE, READ_ONLY, ArchiveError, read_only_mode, unwritable
from dedupe.archive.derivation import derived_tables_lag
from dedupe.readonly import connect_read_only

# Long article texts are cut in table views (the row page shows them whole); one analyst's
# questions over a large archive may take longer than Datasette's default 1 s.
# Datasette's own sql_time_limit_ms (1 s) stays: every page reads the time-derived records, none needs more
# suggest_facets off: suggesting means trying a facet on every column of the table shown (a million snapshots:
# seconds per page view)
DEFAULT_SETTINGS = (("truncate_cells_html", "300"), ("suggest_facets", "off"))


class NotAnArchive(ValueError):
    """A path that is not a pa-archive archive (one sentence)."""


@dataclass(frozen=True)
class ServedArchive:
    """An archive checked for serving: how Datasette must open it and what to tell the user before it does.

    ``query`` is how SQLite reads it (``READ_ONLY``, Datasette's own ``mode=ro``, or ``IMMUTABLE``);
    ``unwritable`` says in a few words why this process cannot write it, None when it can; ``stale`` is true
    while its derived tables lag behind its snapshots."""

    path: Path
    tables: set[str]
    query: str
    unwritable: str | None
    stale: bool

    @property
    def immutable(self) -> bool:
        """True when Datasette must open it as an immutable database (``datasette -i``), not with ``mode=ro``."""
        return self.query == IMMUTABLE

    def note(self) -> str | None:
        """One sentence to say before serving, or None. An archive that cannot be written is served as its last
        writer left it (a reader might otherwise expect what a crawl adds elsewhere, or a refresh, to show);
        a writable one whose derived tables lag behind is refreshed by the next import or crawl."""
        if self.unwritable:
            lag = ", without deriving its newest snapshots" if self.stale else ""
            return f"{self.path} cannot be written ({self.unwritable}): it is served as its last writer left it{lag}."
        if self.stale:
            return (
                "the derived tables lag behind the latest snapshots; the next `pa-archive import` or crawl "
                "refreshes them."
            )
        return None


def served_archive(db_path: str | Path) -> ServedArchive:
    """Check the archive at ``db_path`` for serving, read without writing (an archive this process cannot write
    as the read commands read it: ``read_only_mode``); NotAnArchive (one sentence) if it cannot be served."""
    path = Path(db_path)
    if not path.is_file():
        raise NotAnArchive(f"{path} does not exist (run `pa-archive import` or `crawl` first)")
    try:
        mode = read_only_mode(path)
    except ArchiveError as exc:  # a -wal that cannot be read, a journal to roll back: where it can be written
        raise NotAnArchive(str(exc)) from None
    why = unwritable(path) if mode else None
    query = mode or READ_ONLY
    tables = check_archive(path, query, why)
    return ServedArchive(path, tables, query, why, is_stale(path, query))


def check_archive(db_path: str | Path, query: str = READ_ONLY, why: str | None = None) -> set[str]:
    """The archive's tables and views, read without writing (opened with ``query``); NotAnArchive if it is not
    one. ``why`` (why it cannot be written, for an archive read as it is) ends the sentence of a file SQLite
    cannot read as the read commands end theirs (``ReadingArchive``), and turns the advice for an older archive
    to where it can be written: there no command of this version can upgrade it."""
    path = Path(db_path)
    if not path.is_file():
        raise NotAnArchive(f"{path} does not exist (run `pa-archive import` or `crawl` first)")
    try:
        tables = metadata.archive_tables(path, query)
        if not {"_sqlite_migrations", "snapshots", "block_versions"} <= tables:
            raise NotAnArchive(f"{path} is a SQLite database but not a pa-archive archive")
        steps = pending_steps(path, query)
    except sqlite3.DatabaseError as exc:
        raise NotAnArchive(f"{path} is not a usable SQLite database ({exc}{'; ' + why if why else ''})") from None
    if steps and why:
        raise NotAnArchive(
            f"{path} was written by an older pa-archive and needs an upgrade ({len(steps)} schema step(s)) that "
            f"cannot be written: {why}; run a command of this version once where it can be written, then serve it"
        )
    if steps:
        raise NotAnArchive(
            f"{path} was written by an older pa-archive ({len(steps)} schema step(s) to give it: {', '.join(steps)}); "
            f"serving never writes, so upgrade it first with any command that opens it, e.g. "
            f"`pa-archive stats --db {path}`, then serve it"
        )
    return tables


def pending_steps(db_path: str | Path, query: str = READ_ONLY) -> list[str]:
    """The schema steps this version would give the archive (read without writing): the named queries and pages
    read the current schema (since m027 the tables behind the snapshots view), so an older file is not served."""
    conn = connect_read_only(db_path, query=query)
    try:
        return [step.name for step in migrations.migrations.pending(Database(conn))]
    finally:
        conn.close()


def is_stale(db_path: str | Path, query: str = READ_ONLY) -> bool:
    """True while the derived tables lag behind the snapshots (the next import or crawl refreshes them)."""
    conn = connect_read_only(db_path, query=query)
    try:
        return derived_tables_lag(conn)
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


def write_metadata(db_path: str | Path, tables: set[str], folder: str | Path) -> Path:
    """Metadata for this archive (named after its file, fitted to its tables) as a JSON file in ``folder``."""
    target = Path(folder) / "pa-archive-metadata.json"
    target.write_text(
        json.dumps(metadata.metadata(Path(db_path).stem, tables), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return target


def metadata_yaml(db_path: str | Path, tables: set[str]) -> str:
    """The metadata fitted to this archive as YAML, for ``datasette -m``."""
    return metadata.to_yaml(metadata.metadata(Path(db_path).stem, tables))


def datasette_argv(
    db_path: str | Path,
    metadata_path: str | Path,
    host: str = "127.0.0.1",
    port: int = 8001,
    extra: Sequence[str] = (),
    immutable: bool = False,
) -> list[str]:
    """``datasette serve`` arguments: the archive (read-only; ``immutable`` only for a ``ServedArchive`` that must
    be, ``-i``), metadata, host, port, then ``extra``. Datasette offers an immutable database for download
    (``/archive.db``), a mutable one not: ``allow_download`` is off then, so what an analyst (or anyone, with
    ``--host 0.0.0.0``) can take from the server does not depend on the file's permissions (``extra`` may turn
    it on)."""
    database = ["-i", str(db_path)] if immutable else [str(db_path)]
    argv = ["serve", *database, "--metadata", str(metadata_path), "--host", host, "--port", str(port)]
    for name, value in (*DEFAULT_SETTINGS, *((("allow_download", "off"),) if immutable else ())):
        argv += ["--setting", name, value]
    return argv + list(extra)


def register_plugin() -> None:
    """Register the plugin with Datasette unless its entry point already did (a checkout run without install)."""
    from datasette.plugins import pm

    import datasette_pa_archive

    if not pm.is_registered(datasette_pa_archive):
        pm.register(datasette_pa_archive, name="pa-archive")


def run_datasette(argv: Sequence[str]) -> None:
    """Run Datasette's own command line in this process, with the plugin registered."""
    from datasette import cli as datasette_cli

    register_plugin()
    datasette_cli.cli.main(args=list(argv), prog_name="datasette", standalone_mode=False)
