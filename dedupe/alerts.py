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
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

# one state and one delta for a run's summary and its alert (dedupe.changes); the old names stay importable
from .changes import ArchiveState as FactState
from .changes import RunDelta as FactChanges
from .changes import conflict_values, importance, read_state  # noqa: F401
from .changes import delta as changes_between

__all__ = ["FactChanges", "FactState", "Message", "changes_between", "deliver", "message", "notify", "read_state"]

MAX_LISTED = 20  # items of one kind in a message; the rest are counted
FACTUAL_KINDS = ("conflict", "missing", "filled")


@dataclass(frozen=True)
class Message:
    title: str
    body: str


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
                f"  {c['delegation']} {c['field']} ({c['language']}): {' vs '.join(conflict_values(c))}"
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
