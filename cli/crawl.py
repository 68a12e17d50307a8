"""The crawling commands: ``crawl``, ``runs``, ``replica`` and ``demo``.

Each parses options, calls ``crawler.process`` / ``crawler.runs`` / the replica, and formats
the result (``describe_run``, ``describe_changes``).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

import click

from cli.options import (
    WIDTH,
    Alerts,
    UsageFailure,
    db_option,
    emit_json,
    json_option,
    notify_options,
    refuse_locked,
    sentence,
    user_errors,
    wrapped,
)

# crawler.process and crawler.runs (Scrapy, Twisted) are imported inside the commands: `pa-archive --help` stays fast.


def _check_duration(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--revisit-after: a duration the crawl can use, or exit status 2 with one sentence."""
    if value is None:
        return None
    from crawler.revisit import parse_duration

    try:
        parse_duration(value, "--revisit-after")
    except ValueError as exc:
        raise UsageFailure(f"{exc}.") from None
    return value


def conflicts_by_language(conflicts: list[dict[str, Any]]) -> str:
    """ " (en 1, ru 1)": how many conflicts each language has (facts are compared within a language)."""
    counts: dict[str, int] = {}
    for conflict in conflicts:
        if conflict.get("language"):
            counts[conflict["language"]] = counts.get(conflict["language"], 0) + 1
    return f" ({', '.join(f'{lang} {n}' for lang, n in sorted(counts.items()))})" if counts else ""


def describe_run(run: dict[str, Any], width: int = WIDTH) -> list[str]:
    """A person's summary of one crawl_runs row, each line at most ``width`` columns."""
    stats = run.get("stats") or {}
    changes = stats.get("changes") or {}
    elapsed = stats.get("elapsed_seconds")
    took = f" in {elapsed:.1f} s" if isinstance(elapsed, (int, float)) else ""
    lines = wrapped(
        "",
        f"Crawl run {run['id']} {run['status']}{took}: {run['pages_fetched']} page(s) fetched - {run['new']} new, "
        f"{run['changed']} changed, {run['unchanged']} unchanged, {run['removed']} removed; {run['failed']} failed.",
        width,
    )
    if run.get("resumed_from"):
        resumed = stats.get("resumed_pages", stats.get("skipped_as_stored", 0))
        note = f"resumed run {run['resumed_from']}: the {resumed} page(s) it had stored were not fetched again"
        lines += wrapped("  ", note, width)
    if run.get("status") == "interrupted":
        if run.get("jobdir"):
            lines += wrapped(
                "  ", f"to go on where it stopped, run the same command again (--jobdir {run['jobdir']}).", width
            )
        else:
            lines += wrapped(
                "  ",
                "to go on, run the crawl again: it fetches what the archive lacks (with --jobdir DIR a stopped run "
                "resumes exactly where it stopped).",
                width,
            )
    if changes:
        counts = changes.get("counts") or {key: len(value) for key, value in changes.items()}
        lines += wrapped(
            "  ",
            f"articles: {counts.get('new_articles', 0)} new, {counts.get('changed_articles', 0)} with a new "
            f"version, {counts.get('removed_articles', 0)} removed; block versions: "
            f"{counts.get('new_block_versions', 0)} new; facts changed: {counts.get('changed_facts', 0)}; "
            f"conflicts: {counts.get('conflicts', 0)}{conflicts_by_language(changes.get('conflicts') or [])}",
            width,
        )
    alert = stats.get("notify") or {}
    if alert.get("sent"):
        lines += wrapped("  alert sent: ", str(alert.get("title")), width)
    for failure in alert.get("errors") or []:
        lines += wrapped("  ", str(failure), width)
    errors = run.get("errors") or []
    for error in errors[:10]:
        lines += wrapped("  failed: ", f"{error.get('url') or '(run)'}: {error.get('error')}", width)
    if len(errors) > 10:
        lines.append(f"  ... and {len(errors) - 10} more (pa-archive runs {run['id']} --json)")
    return lines


@click.command()
@click.option(
    "--start-url",
    "start_urls",
    multiple=True,
    metavar="URL",
    help="Where to start (repeat for both sites); its host is the only one crawled. "
    "Default: https://pacsto.org/events.",
)
@db_option
@click.option(
    "--jobdir",
    type=click.Path(file_okay=False),
    default=None,
    envvar="PA_JOBDIR",
    show_envvar=True,
    help="Keep the crawl's state here: a run that was stopped or killed resumes from it.",
)
@json_option
@click.option(
    "-s",
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="A Scrapy setting, e.g. -s DOWNLOAD_DELAY=2 -s CONCURRENT_REQUESTS_PER_DOMAIN=1.",
)
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Scrapy's log level (in the log file, or on stderr with --verbose).",
)
@click.option(
    "--wait",
    "wait",
    type=float,
    default=0,
    metavar="SECONDS",
    help="If another run holds the archive, wait up to this long for it (default: exit at once).",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Scrapy's log on stderr. Default: in <archive>-crawl.log beside the archive (failures are summed up "
    "as one sentence each either way).",
)
@click.option("--progress/--no-progress", default=True, help="A progress line on stderr while crawling.")
@click.option(
    "--revisit-after",
    "revisit_after",
    default=None,
    metavar="DURATION",
    callback=_check_duration,
    help="Request an archived page again once its last observation is older than this: 7d, 12h, 90m "
    "or seconds; 0 revisits every page. Default: the REVISIT_AFTER setting ($PA_REVISIT_AFTER), 7d.",
)
@notify_options
def crawl(
    start_urls: tuple[str, ...],
    db_path: str,
    jobdir: str | None,
    as_json: bool,
    overrides: tuple[str, ...],
    log_level: str,
    wait: float,
    verbose: bool,
    progress: bool,
    revisit_after: str | None,
    notify_urls: tuple[str, ...],
    datasette_url: str | None,
) -> None:
    """Crawl the site into the archive: new articles, the listings, and what is due again.

    Each run reads the news list's first page (new articles, the delegation block) and the
    list down to the first page whose articles are all archived, fetches every page the
    archive does not have, and requests an archived page again once its last observation is
    older than --revisit-after (7 days by default): an edited or removed article is seen
    within that time. Requests are conditional on what the archive holds (a 304 is recorded
    as "seen again"), a vanished article (404/410) is recorded as removed, and every run is a
    row of crawl_runs (see `pa-archive runs`). One run at a time per archive: a second one
    exits with status 75. The exit status is 1 when the run failed or was interrupted.

    \b
    Example:
      pa-archive crawl
      pa-archive crawl --start-url https://pacsto.org/events --start-url https://paodkb.org/events
      pa-archive crawl --start-url http://127.0.0.1:8000/events --db test.db -s DOWNLOAD_DELAY=0
      pa-archive crawl --jobdir crawls/pacsto --json     # resumable; JSON summary
      pa-archive crawl --revisit-after 0                 # a full revisit: every archived page again
      pa-archive crawl --notify 'mailto://me:app-password@gmail.com' --datasette-url http://127.0.0.1:8001
    """
    from crawler.process import CrawlSetupError, check_db_folder, crawl_settings, run_crawl
    from dedupe import DEFAULT_DB
    from dedupe.archive import ArchiveError
    from dedupe.archive.lock import WriterLocked

    ctx = click.get_current_context()
    if ctx.get_parameter_source("db_path") == click.core.ParameterSource.DEFAULT and any(
        o.partition("=")[0].strip() == "ARCHIVE_DB" for o in overrides
    ):
        db_path = None  # -s ARCHIVE_DB=... given, --db not
    try:
        settings = crawl_settings(
            db_path, jobdir, overrides, log_level, progress and not as_json, revisit_after, verbose=verbose
        )
        check_db_folder(settings.get("ARCHIVE_DB"))
        archive_db = settings.get("ARCHIVE_DB") or DEFAULT_DB
        alerts = Alerts(archive_db, notify_urls, datasette_url).before()
        with user_errors():
            run = run_crawl(settings, list(start_urls), wait)
            result = run.result()
            report = alerts.after(run=f"crawl run {result['id']}")
            if report is not None:  # kept in the run's stats (`pa-archive runs`) and shown in its summary
                from dedupe.archive.crawl_runs import record_notification

                record_notification(archive_db, result["id"], report)
                result.setdefault("stats", {})["notify"] = report
    except CrawlSetupError as exc:
        raise UsageFailure(str(exc)) from None
    except WriterLocked as exc:
        refuse_locked(str(exc))
    except ArchiveError as exc:
        raise click.ClickException(sentence(exc)) from None
    if as_json:
        emit_json(result)
    else:
        for line in describe_run(result) + describe_changes((result.get("stats") or {}).get("changes") or {}):
            click.echo(line)
        if result.get("status") == "failed" and settings.get("LOG_FILE") and os.path.exists(settings["LOG_FILE"]):
            click.echo(f"  Scrapy's log: {settings.get('LOG_FILE')} (or run again with --verbose)")
    if run.stopped_now:  # the reactor was crashed, not stopped: its threads must not hold the exit
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    if result.get("status") != "finished":
        sys.exit(1)


@click.command()
@click.argument("run_id", required=False, type=click.IntRange(1), metavar="[RUN]")
@db_option
@json_option
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1), help="How many runs, newest first.")
def runs(run_id: int | None, db_path: str, as_json: bool, limit: int) -> None:
    """Crawl runs, newest first: status, pages, what changed, failures; RUN: one run in full.

    \b
    Example:
      pa-archive runs
      pa-archive runs 3                       # what run 3 changed: facts, conflicts, variants, articles
      pa-archive runs --json --limit 1 | jq '.[0].status'
    """
    from dedupe.archive import Archive, ArchiveError

    try:
        with user_errors(), Archive(db_path, create=False) as archive:
            found = archive.runs.recent(limit) if run_id is None else [archive.runs.get(run_id)]
            rows = [row for row in found if row]
    except ArchiveError as exc:
        raise click.ClickException(sentence(exc)) from None
    if run_id is not None and not rows:
        raise UsageFailure(f"there is no crawl run {run_id} in {db_path}: `pa-archive runs` lists them.")
    if as_json:
        emit_json(rows[0] if run_id is not None else rows)
        return
    if not rows:
        click.echo("No crawl runs yet: run `pa-archive crawl`.")
    for row in rows:
        changes = (row.get("stats") or {}).get("changes") or {}
        if run_id is not None:
            click.echo(click.style(f"{row['started_at']} .. {row['finished_at'] or '?'}", bold=True))
            for line in describe_run(row) + describe_changes(changes, limit=20):
                click.echo(line)
            continue
        click.echo(click.style(f"{row['started_at']} .. {row['finished_at'] or '?'}", bold=True))
        for line in describe_run(row, WIDTH - 2) + describe_changes(changes, first=True, limit=2, width=WIDTH - 2):
            click.echo("  " + line)


@click.command()
@click.option(
    "--epoch",
    type=click.IntRange(1, 3),
    default=1,
    show_default=True,
    help="The site's state: 1, 2 (block and one article changed), 3 (one removed, two added).",
)
@click.option("--port", type=int, default=8000, show_default=True, help="0 picks a free port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
@click.option(
    "--faults",
    default="",
    help="Comma-separated: flaky500, slow, truncated, wrong_charset, redirect_loop, offsite_redirect, calendar_trap.",
)
@click.option(
    "--lang", type=click.Choice(["en", "ru"]), default="en", show_default=True, help="en = pacsto.org, ru = paodkb.org."
)
@click.option(
    "--markup",
    type=click.Choice(["header", "aside"]),
    default="header",
    show_default=True,
    help="How the delegation block is marked up.",
)
@click.option("--slow-seconds", type=float, default=5.0, show_default=True, help="Delay of the 'slow' fault page.")
def replica(epoch: int, port: int, host: str, faults: str, lang: str, markup: str, slow_seconds: float) -> None:
    """Serve a local replica of the site to crawl (loopback only) until Ctrl-C.

    Send SIGUSR1 to move it to the next epoch, as the real site changes between runs.

    \b
    Example:
      pa-archive replica --epoch 1 --port 8000 &
      pa-archive crawl --start-url http://127.0.0.1:8000/events --db replica.db -s DOWNLOAD_DELAY=0
      pa-archive replica --lang ru --markup aside --faults slow,flaky500 --port 8001
    """
    from crawler.replica import ReplicaServer

    try:
        server = ReplicaServer(
            epoch=epoch, lang=lang, block_markup=markup, faults=faults, host=host, port=port, slow_seconds=slow_seconds
        ).start()
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None

    def next_epoch(*_: Any) -> None:
        server.set_epoch(server.epoch % 3 + 1)
        click.echo(f"now serving epoch {server.epoch}", err=True)

    signal.signal(signal.SIGUSR1, next_epoch)
    click.echo(server.url)
    click.echo(
        f"Serving the {lang} replica at epoch {epoch} ({markup} markup"
        f"{', faults: ' + faults if faults else ''}). Crawl it with:\n"
        f"  pa-archive crawl --start-url {server.url}/events -s DOWNLOAD_DELAY=0\nCtrl-C stops it.",
        err=True,
    )
    server.serve_forever()


@click.command()
@click.option(
    "--db",
    "db_path",
    default="demo-archive.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where the demo builds its fresh archive: a new file, or one an earlier demo made (replaced).",
)
@click.option("--force", is_flag=True, help="Replace --db even if it is not an archive the demo made.")
@click.option(
    "--markup",
    type=click.Choice(["header", "aside"]),
    default="header",
    show_default=True,
    help="How the replica marks up the delegation block.",
)
def demo(db_path: str, force: bool, markup: str) -> None:
    """Crawl a local replica of both sites at three moments and show what changed.

    Starts the replica (English and Russian) on 127.0.0.1, crawls it at epochs 1, 2 and 3 as
    a schedule would (epoch 2: the block's Kyrgyz seats go from 7 to 6, website lines empty,
    one article edited; epoch 3: "12 senators", one article removed, two added), stops it,
    and prints each run's new, changed and removed articles, block variants and conflicts, then
    the delegations' roster changes and where the English and Russian sites disagree.
    The three moments are weeks apart on the site but seconds apart here, so each crawl runs
    with --revisit-after 0: every archived page is due, as it would be after REVISIT_AFTER
    (7 days by default) on a real schedule.

    \b
    Example:
      pa-archive demo && pa-archive conflicts --db demo-archive.db
    """
    from crawler.process import CrawlFailed, CrawlSetupError, crawl_subprocess, prepare_demo_archive

    try:
        prepare_demo_archive(db_path, force)  # first: a refused --db costs nothing
    except CrawlSetupError as exc:
        raise UsageFailure(str(exc)) from None

    from cli.archive import conflicts as conflicts_command
    from cli.archive import diff_ as diff_command
    from crawler.replica import ReplicaServer
    from dedupe.archive import Archive

    started = time.monotonic()
    ctx = click.get_current_context()
    with (
        ReplicaServer(epoch=1, lang="en", block_markup=markup) as en,
        ReplicaServer(epoch=1, lang="ru", block_markup=markup) as ru,
    ):
        click.echo(f"Replica of pacsto.org at {en.url}, of paodkb.org at {ru.url}.")
        click.echo(
            "Its three moments are weeks apart on the site but seconds apart here: each crawl runs with "
            "--revisit-after 0,\nso every archived page is due again, as it would be after a week "
            "(REVISIT_AFTER, 7d) on a real schedule."
        )
        for epoch in (1, 2, 3):
            en.set_epoch(epoch)
            ru.set_epoch(epoch)
            click.echo(
                click.style(
                    f"\n$ pa-archive crawl --start-url {en.url}/events --start-url {ru.url}/events"
                    f" --revisit-after 0   # the site at epoch {epoch}",
                    bold=True,
                )
            )
            try:
                result = crawl_subprocess(db_path, [f"{en.url}/events", f"{ru.url}/events"], "--revisit-after", "0")
            except CrawlFailed as exc:
                raise click.ClickException(str(exc)) from None
            for line in describe_run(result):
                click.echo(line)
            for line in describe_changes((result.get("stats") or {}).get("changes") or {}, first=epoch == 1):
                click.echo(line)
    click.echo(click.style("\n$ pa-archive conflicts", bold=True))
    ctx.invoke(conflicts_command, db_path=db_path, as_json=False)
    with Archive(db_path, create=False) as archive:
        change = archive.first_conflict_change()
    if change:
        before, after = change["previous_version_id"], change["block_version_id"]
        click.echo(click.style(f"\n$ pa-archive diff {before} {after} --words", bold=True))
        ctx.invoke(
            diff_command, a=before, b=after, word_marks=True, side=False, unified=False, db_path=db_path, as_json=False
        )
    from cli.rosters import parity as parity_command
    from cli.rosters import roster as roster_command

    click.echo(click.style("\n$ pa-archive roster --changes   # who joined and left each delegation, when", bold=True))
    ctx.invoke(roster_command, delegation="", as_of=None, changes=True, db_path=db_path, as_json=False)
    click.echo(click.style("\n$ pa-archive parity   # where the English and Russian sites disagree now", bold=True))
    ctx.invoke(parity_command, as_of=None, delegation="", show_all=False, db_path=db_path, as_json=False)
    click.echo(
        f"\nDone in {time.monotonic() - started:.0f} s. The archive is {db_path}; try "
        f"`pa-archive runs --db {db_path}` or `pa-archive blocks --db {db_path}`."
    )


def describe_changes(changes: dict[str, Any], first: bool = False, limit: int = 5, width: int = WIDTH) -> list[str]:
    """What one run changed in the archive, for a person."""
    lines = []
    counts = changes.get("counts") or {}
    facts = changes.get("changed_facts") or []
    for fact in facts[:limit]:
        old, new = fact.get("old") or "(empty)", fact.get("new") or "(empty)"
        lines += wrapped(
            "  fact changed: ", f"{fact['delegation']} {fact['field']} ({fact['language']}): {old} -> {new}", width
        )
    if counts.get("changed_facts", len(facts)) > min(limit, len(facts)):
        lines.append(f"  ... {counts.get('changed_facts', len(facts)) - min(limit, len(facts))} more changed facts")
    for key, label in (
        ("new_articles", "new article"),
        ("changed_articles", "changed article"),
        ("removed_articles", "removed article"),
    ):
        items = changes.get(key) or []
        shown = items[: 2 if first else limit]
        for item in shown:
            title = (item.get("title") or "(untitled)") + (
                f"  (now v{item['versions']})" if key == "changed_articles" else ""
            )
            lines += wrapped(f"  {label}: ", title, width)
            lines.append("      " + fitted(str(item["url"]), width - 6))
        total = counts.get(key, len(items))
        if total > len(shown):
            lines.append(f"  ... {total - len(shown)} more {label}s")
    factual = {"conflict", "missing", "filled", "reworded"}
    versions = sorted(
        changes.get("new_block_versions") or [],  # variants whose facts changed first
        key=lambda v: not any(c["kind"] in factual for c in v.get("changes", [])),
    )
    for version in versions[:limit]:
        lines.append(f"  block variant: {version['version_id']} (block b{version['block_id']} v{version['version']})")
        for change in version.get("changes", [])[:limit]:
            detail = change.get("detail") or change.get("new_text") or change.get("old_text") or ""
            lines += wrapped(f"      {change['kind']:>9}: ", detail, width, unit="; ")
    total = counts.get("new_block_versions", len(versions))
    if total > limit:
        lines.append(f"  ... {total - limit} more block variants (pa-archive blocks)")
    for conflict in changes.get("new_conflicts") or []:
        values = " vs ".join(str(v["value"]) for v in conflict.get("values", []))
        language = f" ({conflict['language']})" if conflict.get("language") else ""
        lines += wrapped("  new conflict: ", f"{conflict['delegation']} {conflict['field']}{language}: {values}", width)
    lines += describe_contradictions(changes.get("contradictions") or [], width)
    return lines


def fitted(url: str, width: int) -> str:
    """A URL on one line of ``width``: whole when it fits, else its path, cut with an ellipsis if need be (a URL
    has no spaces to wrap at; ``runs RUN --json`` has it whole)."""
    if len(url) <= width:
        return url
    from urllib.parse import urlsplit

    path = urlsplit(url).path or url
    return path if len(path) <= width else path[: width - 1] + "…"


def describe_contradictions(contradictions: list[dict[str, Any]], width: int = WIDTH) -> list[str]:
    """Facts the run's own pages stated differently: the site contradicting itself at one moment."""
    lines = []
    for item in contradictions:
        values = " vs ".join(f"{v['value']} ({v['pages']} page(s))" for v in item["values"])
        name = f"{item['delegation']} {item['field']} ({item['language']})"
        lines += wrapped("  the site contradicts itself in this run: ", name, width)
        lines += wrapped("      ", values, width)
    return lines


COMMANDS = (crawl, runs, replica, demo)
