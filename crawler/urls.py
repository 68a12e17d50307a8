"""Small helpers for the site's URLs, shared by the spider and the replica."""

from __future__ import annotations


def first_int(values: list[str] | None) -> int | None:
    """The first value of a parsed query parameter (``parse_qs``) as an int, or None."""
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None
