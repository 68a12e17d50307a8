"""pa-archive: extraction, boilerplate detection, facts, MinHash and the versioned archive."""

DEFAULT_DB = "archive.db"  # the archive's default path, also $PA_ARCHIVE_DB
