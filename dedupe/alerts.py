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

import functools
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

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
    """An Apprise URL without its secrets, for reports: Apprise's own privacy form of it (tokens,
    passwords and keys masked as each plugin knows them), cut after the host, because a privacy
    URL still shows payload and header overrides (``-token=``, ``+Authorization=``), a path
    may hold a webhook's key and a user name is an account. A URL Apprise cannot read keeps only
    its scheme."""
    scheme, sep, _ = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,31}", scheme):
        return "(not a URL)"
    private = _privacy_url(url)
    if private is None:
        return f"{scheme}://…"
    scheme, _, rest = private.partition("://")
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]  # no user either: an account is private
    return f"{scheme}://{host}/…"


@functools.lru_cache(maxsize=64)
def _privacy_url(url: str) -> str | None:
    """Apprise's ``url(privacy=True)`` of the plugin it makes of ``url`` (None: not an Apprise URL)."""
    import apprise

    with _secrets_kept_out_of_logs(_tokens(url)):  # Apprise logs a URL it cannot parse, whole
        try:
            plugin = apprise.Apprise.instantiate(url)
            return plugin.url(privacy=True) if plugin else None
        except Exception:  # a plugin that fails on its own URL: nothing of it is shown
            return None


_TOKEN = re.compile(r"[/:@?&=#,;\s]+")
MIN_SECRET = 4  # shorter tokens are not scrubbed from log lines (they would take every such word with them)


def _tokens(text: str) -> set[str]:
    """The URL's parts between delimiters, as written and percent-decoded (MIN_SECRET characters or more)."""
    return {t for t in _TOKEN.split(text + " " + unquote(text)) if len(t) >= MIN_SECRET}


def secrets_of(url: str) -> set[str]:
    """The parts of an Apprise URL that must not be shown: every token of the URL that Apprise's
    privacy form does not show, and the values of payload and header overrides (``-name=value``,
    ``+name=value``, ``:name=value``), which the privacy form shows in full."""
    private = _privacy_url(url)
    shown = _tokens(private) if private else set()
    found = _tokens(url) - shown
    for pair in urlsplit(url).query.split("&"):  # not parse_qsl: it reads the header prefix "+" as a space
        name, _, value = pair.partition("=")
        if unquote(name)[:1] in "+-:" and value:
            found |= _tokens(value) | {value, unquote(value)}
    return found


def scrub(text: str, secrets: set[str]) -> str:
    """``text`` with every secret replaced by an ellipsis (longest first, so no part of one stays)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "…")
    return text


class _ScrubSecrets(logging.Filter):
    """Rewrites a log record whose message carries a secret (Apprise logs the URLs it loads, its
    payloads and headers at DEBUG; urllib3 logs request paths, where Telegram's token sits)."""

    def __init__(self, secrets: set[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot format itself is dropped rather than shown raw
            return False
        clean = scrub(text, self.secrets)
        if clean != text:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        return True


@contextmanager
def _secrets_kept_out_of_logs(secrets: set[str]) -> Iterator[None]:
    """Meanwhile, every log handler (wherever a record ends up, whichever logger made it, at any
    level: ``--log-level DEBUG`` included) and Apprise's own logger drop ``secrets`` from records."""
    guard = _ScrubSecrets(secrets)
    loggers = [
        logging.root,
        *(v for v in list(logging.Logger.manager.loggerDict.values()) if isinstance(v, logging.Logger)),
    ]
    handlers = {id(h): h for lg in loggers for h in lg.handlers}
    targets = [logging.getLogger("apprise"), *handlers.values()]
    for target in targets:
        target.addFilter(guard)
    try:
        yield
    finally:
        for target in targets:
            target.removeFilter(guard)


def deliver(urls: list[str], msg: Message) -> list[str]:
    """Send ``msg`` to every Apprise URL; one sentence per URL that failed (never raises). Neither
    the sentences nor any log line written meanwhile carry the URLs' secrets."""
    import apprise

    errors = []
    for url in urls:
        shown = redact(url)
        secrets = secrets_of(url)
        with _secrets_kept_out_of_logs(secrets):
            try:
                sender = apprise.Apprise()
                if not sender.add(url):
                    errors.append(f"notification to {shown} failed: not an Apprise URL Apprise can use")
                    continue
                if not sender.notify(title=msg.title, body=msg.body):
                    errors.append(f"notification to {shown} failed: it was not delivered")
            except Exception as exc:  # an alert must not fail the run it reports on
                errors.append(f"notification to {shown} failed: {scrub(str(exc), secrets)}")
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
