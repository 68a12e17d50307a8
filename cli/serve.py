"""`pa-archive serve`: the archive in Datasette, read-only, with the project's metadata and plugin.

``datasette_argv`` builds the Datasette command line; ``run_datasette`` runs it in this
process with ``dedupe.datasette_plugin`` registered. Datasette opens the file read-only
(``mode=ro``, not ``immutable``): a crawl or import may write to the archive meanwhile,
and WAL lets readers and the one writer work at the same time.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import click

from dedupe import datasette_metadata
from cli.options import db_option
from dedupe.readonly import connect_read_only, uri_safe_path

# Long article texts are cut in table views (the row page shows them whole); one analyst's
# questions over a large archive may take longer than Datasette's default 1 s.
DEFAULT_SETTINGS = (("truncate_cells_html", "300"), ("sql_time_limit_ms", "10000"))


def check_archive(db_path: str | Path) -> set[str]:
    """The archive's tables and views, read without writing; ClickException if it is not one."""
    path = Path(db_path)
    if not path.is_file():
        raise click.ClickException(f"{path} does not exist (run `pa-archive import` or `crawl` first)")
    try:
        tables = datasette_metadata.archive_tables(path)
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(f"{path} is not a usable SQLite database ({exc})") from None
    if not {"_sqlite_migrations", "snapshots", "block_versions"} <= tables:
        raise click.ClickException(f"{path} is a SQLite database but not a pa-archive archive")
    return tables


def is_stale(db_path: str | Path) -> bool:
    """True while the derived tables lag behind the snapshots (the next import or crawl refreshes them)."""
    from dedupe.archive.derivation import derived_tables_lag

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
    target.write_text(json.dumps(datasette_metadata.metadata(Path(db_path).stem, tables), ensure_ascii=False, indent=2),
                      encoding="utf-8")
    return target


def datasette_argv(db_path: str | Path, metadata_path: str | Path, host: str = "127.0.0.1", port: int = 8001,
                   extra: Sequence[str] = ()) -> list[str]:
    """``datasette serve`` arguments: the archive (read-only, not immutable), metadata, host, port, then ``extra``."""
    argv = ["serve", str(db_path), "--metadata", str(metadata_path), "--host", host, "--port", str(port)]
    for name, value in DEFAULT_SETTINGS:
        argv += ["--setting", name, value]
    return argv + list(extra)


def register_plugin() -> None:
    """Register dedupe.datasette_plugin with Datasette unless its entry point already did."""
    from datasette.plugins import pm

    from dedupe import datasette_plugin

    if not pm.is_registered(datasette_plugin):
        pm.register(datasette_plugin, name="pa-archive")


def run_datasette(argv: Sequence[str]) -> None:
    """Run Datasette's own command line in this process, with the plugin registered."""
    try:
        from datasette import cli as datasette_cli
    except ImportError:
        raise click.ClickException("Datasette is not installed: pip install 'pa-archive[datasette]'") from None
    register_plugin()
    datasette_cli.cli.main(args=list(argv), prog_name="datasette", standalone_mode=False)


@click.command(context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]})
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 makes the archive reachable from other machines.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--print-metadata", is_flag=True,
              help="Print the Datasette metadata (YAML) fitted to this archive and exit, for `datasette -m`.")
@click.argument("datasette_args", nargs=-1, type=click.UNPROCESSED)
def serve(db_path: str, host: str, port: int, print_metadata: bool, datasette_args: tuple[str, ...]) -> None:
    """Browse the archive in Datasette: canned questions, search, diffs and a seats timeline.

    Datasette reads the archive and never writes to it, so it can run while a crawl or
    an import adds snapshots. Open http://127.0.0.1:8001/ and start with "Conflicting
    facts" or the seats timeline. Arguments after -- go to `datasette serve`.

    \b
    Example:
      pa-archive serve --db archive.db
      pa-archive serve --port 8002 -- --setting sql_time_limit_ms 5000
      pa-archive serve --print-metadata > metadata.yml && datasette archive.db -m metadata.yml
    """
    tables = check_archive(db_path)
    if print_metadata:
        click.echo(datasette_metadata.to_yaml(datasette_metadata.metadata(Path(db_path).stem, tables)), nl=False)
        return
    if is_stale(db_path):
        click.echo("note: the derived tables lag behind the latest snapshots; the next `pa-archive import` "
                   "or crawl refreshes them.", err=True)
    extra = [a for a in datasette_args if a != "--"]
    with tempfile.TemporaryDirectory(prefix="pa-archive-serve-") as folder:
        served = uri_safe_path(db_path, folder)  # Datasette pastes the path into file:...?mode=ro unescaped
        metadata_path = write_metadata(served, tables, folder)
        if "--get" not in extra:
            click.echo(f"Serving {db_path} read-only at http://{host}:{port}/ (Ctrl-C stops)", err=True)
        run_datasette(datasette_argv(served, metadata_path, host, port, extra))


COMMANDS = (serve,)
