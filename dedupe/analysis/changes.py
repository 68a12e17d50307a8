"""What one run (a crawl, an import, a backfill) changed in the archive: one type for every reader.

A crawl's summary (``crawl_runs.stats.changes``, printed by ``crawl`` and ``runs``) and an alert
(``dedupe.analysis.alerts``) answer the same question, so they read the same ``ArchiveState`` before and
after the run and compare it with the same ``delta``: new, changed and removed articles, new block
variants with their line changes, facts whose current value changed, conflicts. Two comparisons
that drifted apart would tell an analyst two stories about one run.

Articles are known by their first version's id and block variants by theirs: public article and
block ids are ranks, renumbered by a refresh, while version ids are content hashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import alert_queries, queries

MAX_LISTED = 100  # items of one kind kept in a run's stats; the rest are counted
FactKey = tuple[str, str, str]  # (language, delegation, field): facts are compared within one language


@dataclass(frozen=True)
class ArchiveState:
    """What a person compares between two moments of an archive."""

    facts: dict[FactKey, str] = field(default_factory=dict)  # the value the variant seen last states
    fact_versions: dict[FactKey, str] = field(default_factory=dict)  # the block version stating it
    conflicts: dict[FactKey, dict[str, Any]] = field(default_factory=dict)  # {delegation, field, language, values}
    block_versions: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> row with its line changes
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)  # first version id -> row
    # (delegation, language, snapshot, kind, subject) -> row: members who joined or left, ...
    roster_changes: dict[tuple, dict[str, Any]] = field(default_factory=dict)
    parity_differences: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (delegation, field)


def read_state(archive: Any) -> ArchiveState:
    """The state of an archive (``Archive`` or ``ReadOnlyArchive``; None for one that does not exist yet)."""
    if archive is None:
        return ArchiveState()
    facts, versions = {}, {}
    for r in archive.query(alert_queries.ALERT_CURRENT_FACTS_SQL):
        key = (r["language"] or "", r["delegation"], r["field"])
        facts[key], versions[key] = r["value"], r["block_version_id"]
    conflicts = {(c.get("language") or "", c["delegation"], c["field"]): c for c in archive.conflicts(evidence=False)}
    block_rows = archive.query(alert_queries.ALERT_BLOCK_VERSIONS_SQL)
    blocks = {r["id"]: {**r, "version_id": r["id"], "changes": []} for r in block_rows}
    for r in archive.query(alert_queries.ALERT_LINE_CHANGES_SQL):
        if r["block_version_id"] in blocks:
            blocks[r["block_version_id"]]["changes"].append(
                {k: r[k] for k in ("kind", "old_text", "new_text", "detail", "previous_version_id")}
            )
    articles = {r["first_version"]: r for r in archive.query(alert_queries.CRAWL_ARTICLES_STATE_SQL)}
    rosters, parity = _roster_state(archive)
    return ArchiveState(facts, versions, conflicts, blocks, articles, rosters, parity)


def _roster_state(archive: Any) -> tuple[dict, dict]:
    """Roster changes and the English/Russian differences of now (none in an archive older than rosters)."""
    tables = {r["name"] for r in archive.query(queries.TABLES_AND_VIEWS_SQL)}
    if "roster_changes" not in tables:
        return {}, {}
    from .parity import differences

    changes = {
        (r["delegation"], r["language"], r["snapshot_id"], r["kind"], r["subject"]): r
        for r in archive.query(alert_queries.ALERT_ROSTER_CHANGES_SQL)
    }
    parity = {(d["delegation"], d["field"]): d for d in differences(archive)}
    return changes, parity


def _parity_item(record: dict[str, Any]) -> dict[str, Any]:
    """What a message names of one English/Russian difference."""
    item = {
        "delegation": record["delegation"],
        "field": record["field"],
        "status": record["status"],
        "en": record["en"]["values"],
        "ru": record["ru"]["values"],
    }
    if "only_en" in record:
        item["only_en"], item["only_ru"] = record["only_en"], record["only_ru"]
    return item


@dataclass
class RunDelta:
    """What changed between two states. False when nothing an alert is about changed (a new article alone
    is not news for an analyst of the delegation block; it is still listed in a run's summary)."""

    new_articles: list[dict[str, Any]] = field(default_factory=list)
    changed_articles: list[dict[str, Any]] = field(default_factory=list)
    removed_articles: list[dict[str, Any]] = field(default_factory=list)
    new_block_versions: list[dict[str, Any]] = field(default_factory=list)
    changed_facts: list[dict[str, Any]] = field(default_factory=list)
    first_stated: int = 0  # facts with no value before (a first run states them all): counted, not listed
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # every conflict after the run
    new_conflicts: list[dict[str, Any]] = field(default_factory=list)
    contradictions: list[dict[str, Any]] = field(default_factory=list)  # the run's own pages disagreeing
    roster_changes: list[dict[str, Any]] = field(default_factory=list)  # members joined or left, ...
    parity_differences: list[dict[str, Any]] = field(default_factory=list)  # new English/Russian differences

    LISTS = (
        "new_articles",
        "changed_articles",
        "removed_articles",
        "new_block_versions",
        "changed_facts",
        "conflicts",
        "new_conflicts",
        "contradictions",
        "roster_changes",
        "parity_differences",
    )

    def __bool__(self) -> bool:
        return bool(
            self.changed_facts
            or self.new_conflicts
            or self.new_block_versions
            or self.removed_articles
            or self.roster_changes
            or self.parity_differences
        )

    def as_dict(self, limit: int = MAX_LISTED) -> dict[str, Any]:
        """The JSON kept in ``crawl_runs.stats.changes``: counts of everything, lists cut to ``limit``."""
        counts = {key: len(getattr(self, key)) for key in self.LISTS}
        counts["first_stated"] = self.first_stated
        return {"counts": counts, "first_stated": self.first_stated} | {
            key: getattr(self, key)[:limit] for key in self.LISTS
        }


BRIEF = ("id", "title", "url", "versions", "status")


def delta(before: ArchiveState, after: ArchiveState) -> RunDelta:
    """New, changed and removed articles, new block variants, changed facts and conflicts."""
    found = RunDelta()
    old = before.articles
    for key, article in after.articles.items():
        brief = {k: article.get(k) for k in BRIEF}
        if key not in old:
            found.new_articles.append(brief)
        elif (article.get("versions") or 0) > (old[key].get("versions") or 0):
            found.changed_articles.append(brief)
        if article.get("status") == "removed" and old.get(key, {}).get("status") != "removed":
            found.removed_articles.append(brief)
    for key, value in sorted(after.facts.items()):
        if key not in before.facts:
            found.first_stated += 1
        elif before.facts[key] != value:
            language, delegation, name = key
            found.changed_facts.append(
                {
                    "language": language,
                    "delegation": delegation,
                    "field": name,
                    "old": before.facts[key],
                    "new": value,
                    "old_block_version": before.fact_versions.get(key),
                    "new_block_version": after.fact_versions.get(key),
                }
            )
    found.changed_facts.sort(key=lambda c: (importance(c["field"]), c["delegation"], c["field"], c["language"]))
    found.conflicts = [after.conflicts[key] for key in sorted(after.conflicts)]
    found.new_conflicts = [after.conflicts[key] for key in sorted(after.conflicts) if key not in before.conflicts]
    found.new_block_versions = sorted(
        (v for vid, v in after.block_versions.items() if vid not in before.block_versions),
        key=lambda v: (v.get("first_seen") or "", v.get("block_id") or 0, v["id"]),
    )
    found.roster_changes = [
        c
        for key, c in sorted(after.roster_changes.items(), key=lambda item: (item[1]["observed_at"], repr(item[0])))
        if key not in before.roster_changes
    ]
    found.parity_differences = [
        _parity_item(d) for key, d in sorted(after.parity_differences.items()) if key not in before.parity_differences
    ]
    return found


def importance(name: str) -> int:
    """Seats first, then plenipotentiaries, then websites: the order changed facts are named in."""
    return 0 if name.startswith("seats") else 1 if name == "plenipotentiary" else 2


def conflict_values(conflict: dict[str, Any]) -> list[str]:
    """The competing values of a conflict record, as text."""
    return [str(v["value"]) if isinstance(v, dict) else str(v) for v in conflict.get("values", [])]
