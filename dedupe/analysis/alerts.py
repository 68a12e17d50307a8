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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

# one state and one delta for a run's summary and its alert (dedupe.analysis.changes); the old names stay importable
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


class _Links:
    """Datasette links under a message's lines; none when Datasette's address is not known."""

    def __init__(self, base: str | None, database: str) -> None:
        self.base, self.database = base, database

    def __call__(self, path: str, **params: str) -> str:
        if not self.base:
            return ""
        params = {k: v for k, v in params.items() if v}
        return f"\n    {self.base}{path}" + ("?" + urlencode(params) if params else "")


# One listed item: its line in the body and its part of the title (None: the section is counted instead).
Describe = Callable[[dict[str, Any], _Links], tuple[str, str | None]]


def _changed_fact(c: dict[str, Any], links: _Links) -> tuple[str, str | None]:
    text = f"{c['delegation']} {c['field']} ({c['language']}): {_shown(c['old'])} → {_shown(c['new'])}"
    link = links("/-/diff", a=c["old_block_version"], b=c["new_block_version"], database=links.database)
    return f"  {text}{link}", f"{c['delegation']} {c['field']} {_shown(c['old'])} → {_shown(c['new'])}"


def _new_conflict(c: dict[str, Any], links: _Links) -> tuple[str, str | None]:
    values = " vs ".join(conflict_values(c))
    line = f"  {c['delegation']} {c['field']} ({c['language']}): {values}" + links(
        "/-/conflicts", database=links.database
    )
    return line, f"conflict {c['delegation']} {c['field']}"


def _new_block_version(v: dict[str, Any], links: _Links) -> tuple[str, str | None]:
    facts = [c["detail"] for c in v["changes"] if c["kind"] in FACTUAL_KINDS and c.get("detail")]
    line = (
        f"  {v['id']}: block b{v['block_id']} v{v['version']} ({v['block'][:40]})"
        + (f": {'; '.join(facts[:5])}" if facts else "")
        + (links("/-/diff", b=v["id"], database=links.database) if v["version"] > 1 else "")
    )
    return line, None


def _removed_article(a: dict[str, Any], links: _Links) -> tuple[str, str | None]:
    return f"  {a['title'] or '(untitled)'} [{a['url']}]", None


def _roster_line(c: dict[str, Any], links: _Links) -> tuple[str, str | None]:
    what = _roster_change(c)
    line = f"  {c['delegation']} ({c['language']}) {c['observed_at'][:10]}: {what}"
    return line + links("/-/roster", delegation=c["delegation"]), f"{c['delegation']}: {what}"


def _parity_difference(d: dict[str, Any], links: _Links) -> tuple[str, str | None]:
    if "only_en" in d:
        shown = f"only en: {', '.join(d['only_en']) or '-'}; only ru: {', '.join(d['only_ru']) or '-'}"
    else:
        shown = f"en {_values(d['en'])} vs ru {_values(d['ru'])}"
    line = f"  {d['delegation']} {d['field']}: {shown}" + links("/-/parity", database=links.database)
    return line, f"en/ru differ on {d['delegation']} {d['field']}"


@dataclass(frozen=True)
class _Section:
    """One kind of change in a message: its heading, a line per item (at most MAX_LISTED), the rest counted.

    ``counted`` is the section's part of the title when its items have none ("3 article(s) removed");
    ``counted_if_first`` gives it only when no section before put anything in the title."""

    attribute: str  # the list of ``FactChanges`` it shows
    heading: str
    more: str  # "... and 5 more <more>"
    describe: Describe
    counted: str | None = None
    counted_if_first: bool = False

    def write(self, changes: FactChanges, links: _Links, lines: list[str], headline: list[str]) -> None:
        items = getattr(changes, self.attribute)
        if not items:
            return
        lines.append(self.heading)
        for item in items[:MAX_LISTED]:
            line, title = self.describe(item, links)
            lines.append(line)
            if title:
                headline.append(title)
        _more(lines, items, self.more)
        if self.counted and not (self.counted_if_first and headline):
            headline.append(self.counted.format(len(items)))


# In the order a message lists them (and its title names them).
SECTIONS = (
    _Section("changed_facts", "Facts changed:", "changed facts", _changed_fact),
    _Section("new_conflicts", "New conflicts (pages disagree):", "new conflicts", _new_conflict),
    _Section(
        "new_block_versions",
        "New block variants:",
        "new block variants",
        _new_block_version,
        counted="{} new block variant(s)",
        counted_if_first=True,
    ),
    _Section(
        "removed_articles", "Articles removed:", "removed articles", _removed_article, counted="{} article(s) removed"
    ),
    _Section("roster_changes", "Roster changes:", "roster changes", _roster_line),
    _Section("parity_differences", "English and Russian sites now differ:", "differences", _parity_difference),
)


def message(
    changes: FactChanges, run: str = "", datasette_url: str | None = None, database: str = "archive"
) -> Message | None:
    """One message for what changed (None when nothing did); links into Datasette when its address is given."""
    if not changes:
        return None
    base = datasette_url.rstrip("/") if datasette_url else None
    links = _Links(base, database)
    lines: list[str] = []
    headline: list[str] = []
    for section in SECTIONS:
        section.write(changes, links, lines, headline)
    if changes.first_stated:
        lines.append(f"{changes.first_stated} fact(s) stated for the first time.")
    if base:
        conflicts = links("/-/conflicts", database=database).strip()  # with ?database=, as the other links
        lines.append(f"All changes: {base}/{database}/fact_changes · conflicts: {conflicts}")
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


class _Warnings(logging.Handler):
    """The warnings Apprise logs while it sends (why a delivery failed: "A Connection error occurred sending JSON
    notification to 127.0.0.1.", an HTTP status), kept for the sentence of a failed notification."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(" ".join(record.getMessage().split())[:300])
        except Exception:  # noqa: BLE001 - a record that cannot be formatted says nothing
            pass


@contextmanager
def _apprise_warnings() -> Iterator[list[str]]:
    """Meanwhile, what Apprise warns of (its own words; the caller scrubs secrets from them)."""
    handler = _Warnings()
    logger = logging.getLogger("apprise")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


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
                with _apprise_warnings() as said:
                    delivered = sender.notify(title=msg.title, body=msg.body)
                if not delivered:
                    reason = scrub(said[-1], secrets) if said else "it was not delivered"
                    errors.append(f"notification to {shown} failed: {reason}")
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
