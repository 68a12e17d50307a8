"""Every named SQL query of the archive: the CLI, the crawler and Datasette share these.

Bound ``:params`` or ``?`` only, never table names built with format strings. Migrations (the
tables these read) live in ``dedupe.schema``; the incremental engine's own SQL stays private to
``dedupe.archive.incremental``.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- archive_state

ARCHIVE_STATE_VALUE_SQL = "SELECT value FROM archive_state WHERE key = ?"
ARCHIVE_STATE_SET_SQL = "INSERT OR REPLACE INTO archive_state(key, value) VALUES (?, ?)"
