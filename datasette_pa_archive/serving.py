"""Serving an archive: the checks, the metadata file and Datasette's command line (``pa-archive serve``).

Datasette opens the file read-only (``mode=ro``, not ``immutable``): a crawl or import may
write to the archive meanwhile, and WAL lets readers and the one writer work at the same time.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from sqlite_utils import Database

from datasette_pa_archive import metadata
from dedupe import migrations
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


def check_archive(db_path: str | Path) -> set[str]:
    """The archive's tables and views, read without writing; NotAnArchive if it is not one."""
    path = Path(db_path)
    if not path.is_file():
        raise NotAnArchive(f"{path} does not exist (run `pa-archive import` or `crawl` first)")
    try:
        tables = metadata.archive_tables(path)
    except sqlite3.DatabaseError as exc:
        raise NotAnArchive(f"{path} is not a usable SQLite database ({exc})") from None
    if not {"_sqlite_migrations", "snapshots", "block_versions"} <= tables:
        raise NotAnArchive(f"{path} is a SQLite database but not a pa-archive archive")
    steps = pending_steps(path)
    if steps:
        raise NotAnArchive(
            f"{path} was written by an older pa-archive ({len(steps)} schema step(s) to give it: {', '.join(steps)}); "
            f"serving never writes, so upgrade it first with any command that opens it, e.g. "
            f"`pa-archive stats --db {path}`, then serve it"
        )
    return tables


def pending_steps(db_path: str | Path) -> list[str]:
    """The schema steps this version would give the archive (read without writing): the named queries and pages
    read the current schema (since m027 the tables behind the snapshots view), so an older file is not served."""
    conn = connect_read_only(db_path)
    try:
        return [step.name for step in migrations.migrations.pending(Database(conn))]
    finally:
        conn.close()


def is_stale(db_path: str | Path) -> bool:
    """True while the derived tables lag behind the snapshots (the next import or crawl refreshes them)."""
    conn = connect_read_only(db_path)
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
    db_path: str | Path, metadata_path: str | Path, host: str = "127.0.0.1", port: int = 8001, extra: Sequence[str] = ()
) -> list[str]:
    """``datasette serve`` arguments: the archive (read-only, not immutable), metadata, host, port, then ``extra``."""
    argv = ["serve", str(db_path), "--metadata", str(metadata_path), "--host", host, "--port", str(port)]
    for name, value in DEFAULT_SETTINGS:
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
