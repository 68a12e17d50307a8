"""pa-archive: extraction, boilerplate detection, facts, MinHash and the versioned archive."""
