"""Alerts on facts, not on any text change: what a run changed, as one message, sent through Apprise.

Why: an analyst wants to hear that Kyrgyzstan's seats went 7 -> 6, not that a page's footer
moved. The archive's state is read before and after a run (crawl, import, backfill): the current
value of each fact (the one the block variant seen last states), the conflicts, the block variants
and the removed articles. A run that changed none of them sends nothing; one that did sends ONE
message saying what changed, with Datasette links when the archive's Datasette address is known.

Delivery is Apprise's (any of its URLs: ``mailto://``, ``slack://``, ``matrix://``, ``tgram://``,
``json://host/path`` ...), in ``deliver`` only. A failed delivery is returned as one sentence per
URL, never raised: an alert must not fail the run it reports on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from dedupe import queries

MAX_LISTED = 20  # items of one kind in a message; the rest are counted
FACTUAL_KINDS = ("conflict", "missing", "filled")


@dataclass(frozen=True)
class FactState:
    """What alerts compare between two moments of an archive."""

    facts: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (language, delegation, field) -> value
    fact_versions: dict[tuple[str, str, str], str] = field(default_factory=dict)  # -> block version stating it
    conflicts: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)  # -> competing values
    block_versions: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> row, with its line changes
    removed_articles: dict[str, dict[str, Any]] = field(default_factory=dict)  # first version id -> row
    roster_changes: dict[tuple, dict[str, Any]] = field(default_factory=dict)  # (delegation, language, snapshot,
    # kind, subject) -> row
    parity_differences: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (delegation, field)


@dataclass
class FactChanges:
    """What changed between two states; empty when nothing an alert is about changed."""

    changed_facts: list[dict[str, Any]] = field(default_factory=list)
    first_stated: int = 0  # facts with no value before (a first run states them all): counted, not listed
    new_conflicts: list[dict[str, Any]] = field(default_factory=list)
    new_block_versions: list[dict[str, Any]] = field(default_factory=list)
    removed_articles: list[dict[str, Any]] = field(default_factory=list)
    roster_changes: list[dict[str, Any]] = field(default_factory=list)  # members joined or left, ...
    parity_differences: list[dict[str, Any]] = field(default_factory=list)  # new English/Russian differences

    def __bool__(self) -> bool:
        return bool(
            self.changed_facts
            or self.new_conflicts
            or self.new_block_versions
            or self.removed_articles
            or self.roster_changes
            or self.parity_differences
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed_facts": self.changed_facts,
            "first_stated": self.first_stated,
            "new_conflicts": self.new_conflicts,
            "new_block_versions": self.new_block_versions,
            "removed_articles": self.removed_articles,
            "roster_changes": self.roster_changes,
            "parity_differences": self.parity_differences,
        }


@dataclass(frozen=True)
class Message:
    title: str
    body: str


def read_state(archive: Any) -> FactState:
    """The state of an archive (``Archive`` or ``ReadOnlyArchive``; None for one that does not exist yet)."""
    if archive is None:
        return FactState()
    facts, versions = {}, {}
    for r in archive.query(queries.ALERT_CURRENT_FACTS_SQL):
        key = (r["language"] or "", r["delegation"], r["field"])
        facts[key], versions[key] = r["value"], r["block_version_id"]
    conflicts: dict[tuple[str, str, str], list[str]] = {}
    for r in archive.query(queries.CONFLICTS_SQL):
        conflicts.setdefault((r["language"] or "", r["delegation"], r["field"]), []).append(r["value"])
    blocks = {r["id"]: {**r, "changes": []} for r in archive.query(queries.ALERT_BLOCK_VERSIONS_SQL)}
    for r in archive.query(queries.ALERT_LINE_CHANGES_SQL):
        if r["block_version_id"] in blocks:
            blocks[r["block_version_id"]]["changes"].append(r)
    removed = {r["first_version"]: r for r in archive.query(queries.ALERT_REMOVED_ARTICLES_SQL)}
    rosters, parity = _roster_state(archive)
    return FactState(facts, versions, conflicts, blocks, removed, rosters, parity)


def _roster_state(archive: Any) -> tuple[dict, dict]:
    """Roster changes and the English/Russian differences of now (none in an archive older than rosters)."""
    tables = {r["name"] for r in archive.query(queries.TABLES_AND_VIEWS_SQL)}
    if "roster_changes" not in tables:
        return {}, {}
    from .parity import differences

    changes = {
        (r["delegation"], r["language"], r["snapshot_id"], r["kind"], r["subject"]): r
        for r in archive.query(queries.ALERT_ROSTER_CHANGES_SQL)
    }
    parity = {(d["delegation"], d["field"]): d for d in differences(archive)}
    return changes, parity


def changes_between(before: FactState, after: FactState) -> FactChanges:
    """Changed facts, new conflicts, new block variants and newly removed articles."""
    found = FactChanges()
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
    for key, values in sorted(after.conflicts.items()):
        if key not in before.conflicts:
            language, delegation, name = key
            found.new_conflicts.append(
                {"language": language, "delegation": delegation, "field": name, "values": values}
            )
    found.changed_facts.sort(key=lambda c: (importance(c["field"]), c["delegation"], c["field"], c["language"]))
    found.new_block_versions = [
        v for vid, v in sorted(after.block_versions.items()) if vid not in before.block_versions
    ]
    found.removed_articles = [
        a for key, a in sorted(after.removed_articles.items()) if key not in before.removed_articles
    ]
    found.roster_changes = [
        c
        for key, c in sorted(after.roster_changes.items(), key=lambda item: (item[1]["observed_at"], repr(item[0])))
        if key not in before.roster_changes
    ]
    found.parity_differences = [
        _parity_item(d) for key, d in sorted(after.parity_differences.items()) if key not in before.parity_differences
    ]
    return found


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


def importance(name: str) -> int:
    """Seats first, then plenipotentiaries, then websites: the order a message names changed facts in."""
    return 0 if name.startswith("seats") else 1 if name == "plenipotentiary" else 2


def _shown(value: str) -> str:
    return value if value else "(empty)"


def message(
    changes: FactChanges, run: str = "", datasette_url: str | None = None, database: str = "archive"
) -> Message | None:
    """One message for what changed (None when nothing did); links into Datasette when its address is given."""
    if not changes:
        return None
    base = datasette_url.rstrip("/") if datasette_url else None

    def link(path: str, **params: str) -> str:
        if not base:
            return ""
        params = {k: v for k, v in params.items() if v}
        return f"\n    {base}{path}" + ("?" + urlencode(params) if params else "")

    lines: list[str] = []
    headline: list[str] = []
    if changes.changed_facts:
        lines.append("Facts changed:")
        for c in changes.changed_facts[:MAX_LISTED]:
            text = f"{c['delegation']} {c['field']} ({c['language']}): {_shown(c['old'])} → {_shown(c['new'])}"
            headline.append(f"{c['delegation']} {c['field']} {_shown(c['old'])} → {_shown(c['new'])}")
            lines.append(
                f"  {text}" + link("/-/diff", a=c["old_block_version"], b=c["new_block_version"], database=database)
            )
        _more(lines, changes.changed_facts, "changed facts")
    if changes.new_conflicts:
        lines.append("New conflicts (pages disagree):")
        for c in changes.new_conflicts[:MAX_LISTED]:
            headline.append(f"conflict {c['delegation']} {c['field']}")
            lines.append(
                f"  {c['delegation']} {c['field']} ({c['language']}): {' vs '.join(c['values'])}"
                + link("/-/conflicts", database=database)
            )
        _more(lines, changes.new_conflicts, "new conflicts")
    if changes.new_block_versions:
        lines.append("New block variants:")
        for v in changes.new_block_versions[:MAX_LISTED]:
            facts = [c["detail"] for c in v["changes"] if c["kind"] in FACTUAL_KINDS and c.get("detail")]
            lines.append(
                f"  {v['id']}: block b{v['block_id']} v{v['version']} ({v['block'][:40]})"
                + (f": {'; '.join(facts[:5])}" if facts else "")
                + (link("/-/diff", b=v["id"], database=database) if v["version"] > 1 else "")
            )
        _more(lines, changes.new_block_versions, "new block variants")
        if not headline:
            headline.append(f"{len(changes.new_block_versions)} new block variant(s)")
    if changes.removed_articles:
        lines.append("Articles removed:")
        for a in changes.removed_articles[:MAX_LISTED]:
            lines.append(f"  {a['title'] or '(untitled)'} [{a['url']}]")
        _more(lines, changes.removed_articles, "removed articles")
        headline.append(f"{len(changes.removed_articles)} article(s) removed")
    if changes.roster_changes:
        lines.append("Roster changes:")
        for c in changes.roster_changes[:MAX_LISTED]:
            what = _roster_change(c)
            headline.append(f"{c['delegation']}: {what}")
            lines.append(
                f"  {c['delegation']} ({c['language']}) {c['observed_at'][:10]}: {what}"
                + link("/-/roster", delegation=c["delegation"])
            )
        _more(lines, changes.roster_changes, "roster changes")
    if changes.parity_differences:
        lines.append("English and Russian sites now differ:")
        for d in changes.parity_differences[:MAX_LISTED]:
            headline.append(f"en/ru differ on {d['delegation']} {d['field']}")
            if "only_en" in d:
                shown = f"only en: {', '.join(d['only_en']) or '-'}; only ru: {', '.join(d['only_ru']) or '-'}"
            else:
                shown = f"en {_values(d['en'])} vs ru {_values(d['ru'])}"
            lines.append(f"  {d['delegation']} {d['field']}: {shown}" + link("/-/parity", database=database))
        _more(lines, changes.parity_differences, "differences")
    if changes.first_stated:
        lines.append(f"{changes.first_stated} fact(s) stated for the first time.")
    if base:
        lines.append(f"All changes: {base}/{database}/fact_changes · conflicts: {base}/-/conflicts")
    title = "pa-archive" + (f" {run}" if run else "") + ": " + "; ".join(headline[:3])
    if len(headline) > 3:
        title += f" (+{len(headline) - 3} more)"
    return Message(title=title, body="\n".join(lines))


def _roster_change(change: dict[str, Any]) -> str:
    if change["kind"] == "joined":
        return f"{change['new_value']} joined"
    if change["kind"] == "left":
        return f"{change['old_value']} left"
    return f"{change['subject']} {_shown(change['old_value'])} → {_shown(change['new_value'])}"


def _values(values: list[Any]) -> str:
    return ", ".join(map(str, values)) or "(not stated)"


def _more(lines: list[str], items: list[Any], what: str) -> None:
    if len(items) > MAX_LISTED:
        lines.append(f"  ... and {len(items) - MAX_LISTED} more {what}")


def redact(url: str) -> str:
    """An Apprise URL without its secrets (user, password, tokens in the path), for reports."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "(not a URL)"
    host = re.split(r"[/?#]", rest.rpartition("@")[2], maxsplit=1)[0]
    return f"{scheme}://{host}/…"


def deliver(urls: list[str], msg: Message) -> list[str]:
    """Send ``msg`` to every Apprise URL; one sentence per URL that failed (never raises)."""
    import apprise

    errors = []
    for url in urls:
        try:
            sender = apprise.Apprise()
            if not sender.add(url):
                errors.append(f"notification to {redact(url)} failed: not an Apprise URL Apprise can use")
                continue
            if not sender.notify(title=msg.title, body=msg.body):
                errors.append(f"notification to {redact(url)} failed: it was not delivered")
        except Exception as exc:  # an alert must not fail the run it reports on
            errors.append(f"notification to {redact(url)} failed: {exc}")
    return errors


def notify(
    urls: list[str],
    before: FactState,
    after: FactState,
    run: str = "",
    datasette_url: str | None = None,
    database: str = "archive",
) -> dict[str, Any]:
    """Compare, build the message and send it: what a run's summary reports (sent, title, errors)."""
    changes = changes_between(before, after)
    msg = message(changes, run, datasette_url, database)
    if msg is None or not urls:
        return {"sent": False, "title": msg.title if msg else None, "errors": []}
    errors = deliver(urls, msg)
    return {"sent": len(errors) < len(urls), "title": msg.title, "errors": errors}
