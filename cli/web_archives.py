"""The web-archive commands: ``export`` (WARC, CDXJ, WACZ), ``backfill`` (from a CDX server), ``timemap``."""

from __future__ import annotations

import contextlib
import sys

import click

from cli.archive import open_archive
from cli.options import (
    Alerts,
    date_option,
    db_option,
    emit_json,
    json_option,
    notify_options,
    progress,
    user_errors,
    writer_lock,
)


@click.command()
@click.option(
    "--warc",
    "warc_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The WARC/1.1 file to write (gzipped when it ends in .gz); a .cdxj index is written beside it.",
)
@click.option("--wacz", "wacz_path", type=click.Path(dir_okay=False), help="Also package the WARC as this WACZ.")
@click.option("--url-prefix", default="", help="Only URLs that start with this.")
@date_option("--since", end=False, help="Only observations from this date on")
@db_option
@json_option
def export(warc_path: str, wacz_path: str | None, url_prefix: str, since: str, db_path: str, as_json: bool) -> None:
    """Write the archive as WARC/1.1 (+ CDXJ, + WACZ) for pywb, ReplayWeb.page and other tools.

    One response record per content (its first observation), a revisit for each later
    observation of it and for each 304, and a metadata record per observation with what was
    derived from it (article version, block versions, facts). Imported files (file: URLs)
    and failed fetches have nothing to replay and are skipped.

    \b
    Example:
      pa-archive export --warc pacsto.warc.gz
      pa-archive export --warc en-2025.warc.gz --url-prefix https://pacsto.org/ --since 2025-01-01 --wacz en-2025.wacz
      wb-manager add my-coll pacsto.warc.gz && wayback      # replay it in pywb
    """
    from pathlib import Path

    from dedupe import warc_export

    since = since or ""
    out = Path(warc_path)
    if not out.name.endswith((".warc", ".warc.gz")):
        raise click.ClickException(f"{warc_path} must end in .warc or .warc.gz.")
    cdxj = out.with_name(out.name.removesuffix(".gz").removesuffix(".warc") + ".cdxj")
    try:
        warc_export.check_outputs(db_path, [out, cdxj, *([Path(wacz_path)] if wacz_path else [])])
    except warc_export.ExportError as exc:
        raise click.ClickException(str(exc)) from None
    with open_archive(db_path) as archive, user_errors():
        total = warc_export.count_snapshots(archive, url_prefix, since)
        with progress("Exporting", length=total) as bar:
            report = warc_export.export_warc(archive, out, url_prefix, since, progress=bar.update)
        warc_export.write_cdxj(out, cdxj)
        report.cdxj = str(cdxj)
        if wacz_path:
            try:
                warc_export.write_wacz(out, Path(wacz_path))
            except RuntimeError as exc:
                raise click.ClickException(str(exc)) from None
            report.wacz = wacz_path
    if as_json:
        emit_json(report.as_dict())
        return
    skipped = sum(report.skipped.values())
    click.echo(
        f"Wrote {out}: {report.responses} response(s), {report.revisits} revisit(s), {report.not_modified} "
        f"not-modified revisit(s), {report.removed} removal(s), {report.metadata} metadata record(s); "
        f"{skipped} observation(s) skipped."
    )
    click.echo(f"Index: {cdxj}" + (f"; WACZ: {wacz_path}" if wacz_path else ""))


@click.command()
@click.option(
    "--cdx-api", default=None, help="The CDX API (…/cdx/search/cdx on the Wayback Machine, …/<coll>/cdx on pywb)."
)
@click.option(
    "--warc-prefix",
    default=None,
    help="Common Crawl layout: the CDX rows name WARC files (filename, offset, length) under this URL, "
    "fetched by Range requests (e.g. https://data.commoncrawl.org/).",
)
@click.option(
    "--timemap",
    default=None,
    help="A Memento TimeMap prefix: <prefix><url> lists the mementos (e.g. https://arquivo.pt/wayback/timemap/link/).",
)
@click.option("--url", "patterns", required=True, multiple=True, help="A URL, or a prefix ending in * (repeatable).")
@date_option("--from", "since", end=False, help="Captures from this date on")
@date_option("--to", "until", end=True, help="Captures up to this date (2016: the end of 2016)")
@click.option("--replay-prefix", default=None, help="Where captures replay, if not told by the CDX API's address.")
@click.option(
    "--delay", type=float, default=None, help="Seconds between requests [default: 1 for web.archive.org, else 0]."
)
@click.option("--dry-run", is_flag=True, help="List the captures per year; fetch nothing.")
@db_option
@json_option
@notify_options
def backfill(
    cdx_api: str | None,
    warc_prefix: str | None,
    timemap: str | None,
    patterns: tuple[str, ...],
    since: str,
    until: str,
    replay_prefix: str | None,
    delay: float | None,
    dry_run: bool,
    db_path: str,
    as_json: bool,
    notify_urls: tuple[str, ...],
    datasette_url: str | None,
) -> None:
    """Fill the archive with the dated history web archives hold (CDX servers, Common Crawl, Memento TimeMaps).

    Lists the 200 captures (a digest's repeats collapsed), fetches each one's original bytes
    (the id_ replay) one request at a time, and stores it dated by the capture's timestamp,
    through the same path as a crawl. Captures already backfilled are never fetched again, so
    an interrupted backfill resumes. Prints a summary per year.

    \b
    Example:
      pa-archive backfill --cdx-api https://web.archive.org/cdx/search/cdx --url 'pacsto.org/events*' \\
        --from 2014 --dry-run
      pa-archive backfill --cdx-api https://web.archive.org/cdx/search/cdx --url pacsto.org/events --from 2014 --to 2016
      pa-archive backfill --cdx-api http://127.0.0.1:8080/my-coll/cdx --url 'https://pacsto.org/*'
      pa-archive backfill --cdx-api https://index.commoncrawl.org/CC-MAIN-2024-10-index \\
        --warc-prefix https://data.commoncrawl.org/ --url 'pacsto.org/events*'
      pa-archive backfill --timemap https://arquivo.pt/wayback/timemap/link/ --url https://pacsto.org/events
    """
    from dedupe import backfill as bf
    from dedupe.timestamps import digits14

    since, until = digits14(since) if since else "", digits14(until) if until else ""  # the CDX API's form
    if not cdx_api and not timemap:
        raise click.ClickException("give --cdx-api (a CDX server) or --timemap (a Memento TimeMap prefix), or both.")
    try:
        prefix = warc_prefix or replay_prefix or (bf.replay_prefix_for(cdx_api) if cdx_api else "")
    except ValueError as exc:
        raise click.ClickException(
            f"{exc}: give --replay-prefix (or --warc-prefix for a Common Crawl index)."
        ) from None
    client = bf.Client(delay=bf.default_delay(cdx_api or timemap or "") if delay is None else delay)
    sources = {"cdx_api": cdx_api, "records": bool(warc_prefix), "timemap": timemap}
    # the archive's writer lock, as crawl and import take it: a backfill never interleaves with them
    with contextlib.nullcontext() if dry_run else writer_lock(db_path, "backfill"):
        archive = open_archive(db_path, must_exist=False)
        alerts = Alerts(db_path, () if dry_run else notify_urls, datasette_url).before()
        result, captures = _run_backfill(archive, client, sources, patterns, since, until, prefix, dry_run)
    alert = alerts.after(run="backfill")
    if as_json:
        emit_json({"dry_run": dry_run, **result.as_dict(), **({"notify": alert} if alert else {})})
    else:
        click.echo(
            f"{len(captures)} capture(s) listed; {client.requests} request(s)" + (" (dry run)" if dry_run else "")
        )
        header = "year  captures  not HTML  archived before" + (
            "" if dry_run else "  fetched  failed  new contents  new block versions  conflicts"
        )
        click.echo(header)
        for y in result.years:
            line = f"{y.year}  {y.captures:>8}  {y.not_html:>8}  {y.archived_before:>15}"
            if not dry_run:
                line += (
                    f"  {y.fetched:>7}  {y.failed:>6}  {y.new_contents:>12}  {y.new_block_versions:>18}"
                    f"  {y.conflicts:>9}"
                )
            click.echo(line)
    for failure in (alert or {}).get("errors") or []:  # reported, never a failed backfill
        click.echo(click.style("warning: ", fg="yellow") + failure, err=True)
    for error in result.errors:
        click.echo(click.style("error: ", fg="red") + error, err=True)
    if result.errors:
        sys.exit(1)


def _run_backfill(archive, client, sources, patterns, since, until, prefix, dry_run):
    """List the captures (CDX index, TimeMap, or both: a moment several archives hold is one capture),
    then fetch and store them (or only count them, for --dry-run)."""
    from dedupe import backfill as bf

    with archive, user_errors():
        try:
            captures = []
            for p in patterns:
                if sources["cdx_api"]:
                    captures += bf.list_captures(
                        client, sources["cdx_api"], p, since, until, records=sources["records"]
                    )
                if sources["timemap"]:
                    captures += [
                        c
                        for c in bf.timemap_captures(client, sources["timemap"], p)
                        if (not since or c.timestamp >= since) and (not until or c.timestamp[: len(until)] <= until)
                    ]
        except bf.BackfillError as exc:
            raise click.ClickException(str(exc)) from None
        captures = list({(c.original, c.timestamp): c for c in reversed(captures)}.values())[::-1]
        if dry_run:
            years = list(bf.plan(captures, bf.archived_captures(archive)).values())
            result = bf.BackfillResult(years=years, requests=client.requests)
        else:
            with progress("Backfilling", length=len(captures)) as bar:
                result = bf.backfill(archive, client, prefix, captures, progress=bar.update)
    return result, captures


@click.command()
@click.argument("url")
@click.option(
    "--replay-prefix", default=None, help="Memento URIs in this pywb/Wayback collection instead of Datasette."
)
@click.option("--datasette", default="http://127.0.0.1:8001", show_default=True, help="Where `pa-archive serve` runs.")
@click.option(
    "--calendar", "as_calendar", is_flag=True, help="Captures by year and month, with the version each one saw."
)
@db_option
@json_option
def timemap(
    url: str, replay_prefix: str | None, datasette: str, as_calendar: bool, db_path: str, as_json: bool
) -> None:
    """The archive's copies of URL as a Memento TimeMap (RFC 7089 link format, or JSON).

    Each observation with a content is a memento (a 304 re-links the stored copy); removals
    and failed fetches are not. Memento URIs are the snapshot's Datasette page by default.

    \b
    Example:
      pa-archive timemap https://pacsto.org/events
      pa-archive timemap https://pacsto.org/events --json | jq '.[].datetime'
      pa-archive timemap https://pacsto.org/events --replay-prefix http://127.0.0.1:8080/my-coll
      pa-archive timemap https://pacsto.org/events --calendar
    """
    from pathlib import Path

    from dedupe import memento

    with open_archive(db_path) as archive:
        rows = memento.mementos(archive, url, datasette, Path(db_path).stem, replay_prefix)
    if not rows:
        raise click.ClickException(f"the archive has no copy of {url}.")
    if as_calendar:
        years = memento.calendar(rows)
        if as_json:
            emit_json(years)
            return
        for year, months in years.items():
            click.echo(click.style(year, bold=True) + "  " + "  ".join(f"{m}: {len(c)}" for m, c in months.items()))
            for entries in months.values():
                for e in entries:
                    changed = f"  (changed from {e['previous_version'][:18]})" if e["changed"] else ""
                    click.echo(f"  {e['observed_at']}  s{e['snapshot_id']}  {e['version'][:18]}{changed}")
    elif as_json:
        emit_json(rows)
    else:
        click.echo(memento.link_format(url, rows), nl=False)


COMMANDS = (export, backfill, timemap)
