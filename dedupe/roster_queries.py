"""The named SQL of rosters and parity: delegations as people (``dedupe.analysis.delegations``,
``dedupe.analysis.parity``, ``pa-archive roster`` / ``parity``, Datasette's /-/roster and /-/parity).

Bound ``:params`` or ``?`` only. The tables they read are made by ``dedupe.migrations`` (m014) and kept
by ``dedupe.archive.rosters``; the archive's other named queries are in ``dedupe.queries``.
"""

from __future__ import annotations

ROSTER_DELEGATIONS_SQL = "SELECT DISTINCT delegation FROM roster_versions ORDER BY delegation"

# The rosters stated at a moment: the latest observation at or before :until of each URL that ever stated a
# roster (a failed fetch says nothing; a removed page states none), with the roster version it states.
ROSTERS_AS_OF_SQL = """
WITH roster_urls AS (
  SELECT DISTINCT s.url FROM content_rosters cr CROSS JOIN snapshots s ON s.content_sha256 = cr.content_sha256
), latest AS (
  SELECT (SELECT s.id FROM snapshots s WHERE s.url = u.url AND s.observed_at <= :until AND s.status != 'error'
          ORDER BY s.observed_at DESC, s.id DESC LIMIT 1) AS id
  FROM roster_urls u
)
SELECT rv.delegation, rv.language, rv.id AS roster_version_id, rv.version, rv.seats, rv.plenipotentiary,
       rv.members, s.url, s.observed_at, s.id AS snapshot_id
FROM latest l
JOIN snapshots s ON s.id = l.id
JOIN content_rosters cr ON cr.content_sha256 = s.content_sha256
JOIN roster_versions rv ON rv.id = cr.roster_version_id
WHERE :delegation = '' OR rv.delegation = :delegation COLLATE NOCASE
ORDER BY rv.delegation, rv.language, s.url
"""

# The members of some roster versions (:ids, a JSON list), in roster order.
ROSTER_MEMBERS_SQL = """
SELECT roster_version_id, ord, name, full_name, person_key, position, chamber
FROM roster_members WHERE roster_version_id IN (SELECT value FROM json_each(:ids))
ORDER BY roster_version_id, ord
"""

ROSTER_MEMBERSHIPS_SQL = """
SELECT delegation, language, person_key, period, name, joined, joined_snapshot_id, last_listed,
       last_listed_snapshot_id, left, left_snapshot_id
FROM roster_memberships
WHERE :delegation = '' OR delegation = :delegation COLLATE NOCASE
ORDER BY delegation, language, joined, name
"""

# What changed between consecutive rosters (joined, left, plenipotentiary, seats), with the pages observed.
ROSTER_CHANGES_SQL = """
SELECT rc.delegation, rc.language, rc.snapshot_id, rc.observed_at, rc.roster_version_id, rc.previous_version_id,
       rc.kind, rc.subject, rc.old_value, rc.new_value, s.url,
       (SELECT p.id FROM snapshots p JOIN content_rosters cr ON cr.content_sha256 = p.content_sha256
        WHERE cr.roster_version_id = rc.previous_version_id AND p.url = s.url
        ORDER BY p.observed_at DESC, p.id DESC LIMIT 1) AS previous_snapshot_id
FROM roster_changes rc JOIN snapshots s ON s.id = rc.snapshot_id
WHERE :delegation = '' OR rc.delegation = :delegation COLLATE NOCASE
ORDER BY rc.observed_at, rc.delegation, rc.language, rc.snapshot_id,
         CASE rc.kind WHEN 'left' THEN 0 WHEN 'joined' THEN 1 WHEN 'plenipotentiary' THEN 2 ELSE 3 END, rc.subject
"""

# Every spelling of every listed person (identities across scripts are built from these by dedupe.people).
ROSTER_NAMES_SQL = """
SELECT DISTINCT rv.delegation, rv.language, rm.person_key, rm.name, rm.full_name
FROM roster_members rm JOIN roster_versions rv ON rv.id = rm.roster_version_id
ORDER BY rv.delegation, rm.person_key, rv.language, rm.name
"""
