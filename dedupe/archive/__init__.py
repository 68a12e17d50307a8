"""archive.db: store observations, derive versioned articles, blocks and facts, answer queries.

``Archive`` is a facade over three parts, each in its own module:

* ``observations`` - storing what was fetched or imported (``add``, ``ingest``);
* ``derivation`` - keeping the derived tables in step (``refresh``, ``rebuild``, ``check``), by
  the incremental engine in ``incremental`` with ``reference`` as the full-rebuild reference;
* ``queries`` - references, history and the queries the CLI and Datasette share.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from .. import DEFAULT_DB, migrations, schema
from ..stemming import register_functions
from ..storage import Codec
from .base import REMOVED_STATUSES, ArchiveError
from .derivation import DerivedRecords
from .observations import AddResult, IngestReport, ObservationStore
from .queries import REF_HELP, ArchiveQueries, Ref

__all__ = [
    "REF_HELP",
    "REMOVED_STATUSES",
    "AddResult",
    "Archive",
    "ArchiveError",
    "IngestReport",
    "ReadOnlyArchive",
    "Ref",
]


class Archive(ObservationStore, DerivedRecords, ArchiveQueries):
    """One archive.db: open (creating and migrating it), add observations, refresh, query."""

    def __init__(self, path: str | Path = DEFAULT_DB, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise ArchiveError(f"{self.path} does not exist (run `pa-archive import` or `crawl` first)")
        try:
            self.db = Database(self.path)
            # refuse a database that is not an archive before changing anything in it (WAL mode included)
            if not schema.is_archive(self.db):
                self.db.close()
                raise ArchiveError(
                    f"{self.path} is a SQLite database but not a pa-archive archive "
                    "(an existing database is never adopted: choose another --db)"
                )
            if not self.db.table_names():
                schema.claim(self.db)
            self.db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit is not fsynced (a checkpoint is). A killed process loses nothing
            # committed; a power cut may lose the last commits but never corrupts the archive.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=30000")
            # 64 MB of page cache (SQLite's default is 2 MB): the derivation's indexes are read at random, and
            # once they outgrow the cache every lookup would go to the file
            self.db.execute("PRAGMA cache_size=-65536")
            self.db.execute("PRAGMA foreign_keys=ON")
            register_functions(self.db.conn)  # pa_stem: the stemmed search index's triggers call it
            migrations.migrate(self.db)
            self.codec = Codec(self.db)
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"{self.path} is not a usable SQLite database ({exc})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ReadOnlyArchive(Archive):
    """``Archive``'s read methods (resolve, text_of, history, version navigation) over a connection opened
    read-only elsewhere (Datasette's): nothing is migrated or written."""

    def __init__(self, conn: sqlite3.Connection) -> None:  # deliberately skips Archive.__init__
        self.path = Path("")
        self.db = Database(conn, recursive_triggers=False)
        register_functions(conn)  # pa_stem_query, pa_snippet: the search query calls them
        self.codec = Codec(self.db)  # reads pages.lines and contents (nothing is compressed here)
