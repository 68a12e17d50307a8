"""pa-archive: the command line. Each command parses options, calls the library, formats.

Run `pa-archive COMMAND --help` for examples.
"""

from __future__ import annotations

import sys

import click

from dedupe import diff as difftools
from dedupe.archive import Archive, ArchiveError
from dedupe.cli_options import db_option, emit_json, json_option, user_errors
from dedupe.sources import expand, read_sources


def open_archive(db_path: str, must_exist: bool = True) -> Archive:
    """Open the archive or stop with one sentence; a stale archive is refreshed first."""
    try:
        with user_errors():
            archive = Archive(db_path, create=not must_exist)
            archive.refresh()
        return archive
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pa-archive")
def cli() -> None:
    """Archive the CSTO Parliamentary Assembly's website with its history.

    Snapshots (imported files or crawled pages) are split into articles and the
    repeated page furniture (the delegation block), stored once per version in
    archive.db, with the facts each block version states and where they conflict.

    \b
    Quick tour:
      pa-archive demo                      # a local replica crawled at three moments: what changed
      pa-archive import snapshots/         # files, folders, globs, JSON Lines
      pa-archive blocks                    # delegation block variants, when seen
      pa-archive conflicts                 # facts that disagree between snapshots
      pa-archive history a1                # every version of article 1
      pa-archive diff bv-1a2b bv-3c4d --words
    """


@cli.command(name="import")
@click.argument("inputs", nargs=-1, required=True)
@db_option
@json_option
def import_(inputs: tuple[str, ...], db_path: str, as_json: bool) -> None:
    """Import snapshots from files, folders, globs or JSON Lines.

    Text or HTML is told by content, not by name. JSON Lines files (.jsonl) hold one
    {"url", "observed_at", "text"|"html"} object a line. Web archives (WARC, WARC.gz,
    ARC, WACZ) give one snapshot per HTML response or revisit record. Importing the same input again
    adds nothing. A bad input is reported and skipped; the exit status is 1 if any failed.

    \b
    Example:
      pa-archive import ../shared/seeds/
      pa-archive import 'dumps/*.html' other-scraper.jsonl --db news.db
      pa-archive import crawl.warc.gz collection.wacz
    """
    lock = _writer_lock(db_path, "import")  # released when the import ends, or by the kernel if it is killed
    try:
        archive = open_archive(db_path, must_exist=False)
        sources = list(expand(inputs))  # paths only: bodies are read one file at a time
        with archive, user_errors(), click.progressbar(
            sources, label="Importing", file=sys.stderr, show_pos=True, hidden=not sys.stderr.isatty()
        ) as files:  # click draws the bar only on a terminal
            report = archive.ingest(read_sources(files, web_archives := []))
        for summary in web_archives:  # WARC, ARC, WACZ: what each held and what was skipped
            click.echo(str(summary), err=True)
        data = report.as_dict()
        if as_json:
            with open_archive(db_path) as again:
                emit_json({**data, "stats": again.stats()})
        else:
            click.echo(
                f"Imported {report.added} snapshot(s) ({report.new_content} new content, {report.duplicates} already archived); "
                f"{data['new_article_versions']:+d} article version(s), {data['new_block_versions']:+d} block version(s)."
            )
    finally:
        lock.release()
    for error in report.errors:
        click.echo(click.style("error: ", fg="red") + error, err=True)
    if report.errors:
        sys.exit(1)


def _writer_lock(db_path: str, command: str):
    """The archive's writer lock (the one a crawl holds): an import never interleaves with a crawl's
    run. Held by another: one sentence and exit 75 (EX_TEMPFAIL), as a second crawl does."""
    import os
    from datetime import datetime, timezone

    from crawler.runs import EXIT_LOCKED, RunLock, RunLocked

    lock = RunLock(db_path)
    try:
        with user_errors():
            lock.acquire({"pid": os.getpid(), "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                          "command": command, "if_locked": f"nothing was {command}ed; try again when it has finished"})
    except RunLocked as exc:
        click.echo(click.style("error: ", fg="red") + str(exc), err=True)
        sys.exit(EXIT_LOCKED)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    return lock


@cli.command()
@db_option
@json_option
def conflicts(db_path: str, as_json: bool) -> None:
    """Facts that disagree between snapshots (and values missing in some).

    A conflict is one delegation's field (seats, plenipotentiary, website) stated with
    different non-empty values. An empty website line is a missing value, and the same
    numbers in other words are a rewording: neither is a conflict.

    \b
    Example:
      pa-archive conflicts
      pa-archive conflicts --json | jq '.[].delegation'
    """
    with open_archive(db_path) as archive:
        found, missing = archive.conflicts(), archive.missing_values()
    if as_json:
        emit_json(found)
        return
    if not found:
        click.echo("No conflicting facts.")
    for record in found:
        click.echo(click.style(f"{record['delegation']} {record['field']}", bold=True) + f"  ({record['language']} pages)")
        for value in record["values"]:
            click.echo(f"  {value['value']!s:<30} {value['snapshots']:>4} snapshot(s)  {value['first_seen']} .. {value['last_seen']}")
    if missing:
        click.echo("\nMissing values (line present, value empty; not conflicts):")
        for row in missing:
            names = row["seen_in"][:3] + ([f"{len(row['seen_in']) - 3} more"] if len(row["seen_in"]) > 3 else [])
            click.echo(f"  {row['delegation']} {row['field']} ({row['language']}): empty in {row['snapshots']} snapshot(s) "
                       f"({', '.join(names)})  {row['first_seen']} .. {row['last_seen']}")


@cli.command()
@db_option
@json_option
def blocks(db_path: str, as_json: bool) -> None:
    """Repeated page furniture (the delegation block): each variant and when it was seen.

    Each version lists what changed from the one before, line by line, named by its
    facts: conflict, missing, filled, reworded, changed, added or removed.

    \b
    Example:
      pa-archive blocks
      pa-archive diff bv-<first> bv-<second> --words
    """
    with open_archive(db_path) as archive:
        versions = archive.block_versions()
    if as_json:
        emit_json(versions)
        return
    if not versions:
        click.echo("No blocks yet: a block is recognised once it repeats across articles.")
    current = None
    for v in versions:
        if v["block_id"] != current:
            current = v["block_id"]
            click.echo(click.style(f"block b{v['block_id']}: {v['block'][:70]}…", bold=True))
        click.echo(f"  v{v['version']} {v['version_id']}  {v['line_count']} lines  {v['snapshots']} snapshot(s)  "
                   f"{v['first_seen']} .. {v['last_seen']}")
        click.echo(f"     seen in: {', '.join(v['seen_in'])}")
        for change in v["changes"]:
            colour = {"conflict": "red", "missing": "yellow", "reworded": "cyan"}.get(change["kind"])
            detail = change["detail"] or (change["new_text"] or change["old_text"] or "")[:90]
            click.echo("     " + click.style(f"{change['kind']:>9}", fg=colour) + f"  {detail}")


@cli.command()
@click.argument("ref")
@db_option
@json_option
def history(ref: str, db_path: str, as_json: bool) -> None:
    """Every version of one article or block, oldest first.

    REF is a snapshot id, a URL or file path, an article (a3), a block (b1) or a version id.

    \b
    Example:
      pa-archive history a1
      pa-archive history https://pacsto.org/events/erlan-koshanov-kazahstan-budet-delat-vse-vozmozhnoe
      pa-archive history ../shared/seeds/001_34847c4070c3c854.txt
    """
    with open_archive(db_path) as archive:
        try:
            result = archive.history(archive.resolve(ref))
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        emit_json(result)
        return
    if result["kind"] == "url":
        click.echo(click.style(result["url"], bold=True))
        for s in result["snapshots"]:
            click.echo(f"  s{s['snapshot_id']}  {s['observed_at']}  HTTP {s['http_status'] or '-'}  {s['status']}")
        return
    head = result[result["kind"]]
    name = head.get("title") or head.get("name") or "(untitled)"
    prefix = "a" if result["kind"] == "article" else "b"
    status = f"  [{head['status']}]" if head.get("status") == "removed" else ""
    click.echo(click.style(f"{result['kind']} {prefix}{head['id']}: {name}{status}", bold=True))
    for v in result["versions"]:
        vid = v.get("id") or v.get("version_id")
        sim = v.get("similarity_to_previous")
        extra = f"  similarity to previous {sim:.2f}" if sim is not None else ""
        click.echo(f"  v{v['version']} {vid}  {v['snapshots']} snapshot(s)  {v['first_seen']} .. {v['last_seen']}{extra}")
        for url in v.get("seen_as", []):
            click.echo(f"     {url}")
        for change in v.get("changes", []):
            click.echo(f"     {change['kind']}: {change['detail'] or change['new_text'] or change['old_text']}")


@cli.command(name="diff")
@click.argument("a")
@click.argument("b")
@click.option("--words", "mode", flag_value="words", help="Changed lines with word-level marks.")
@click.option("--side-by-side", "mode", flag_value="side", help="Two columns.")
@click.option("--unified", "mode", flag_value="unified", default=True, help="Unified line diff (default).")
@db_option
@json_option
def diff_(a: str, b: str, mode: str, db_path: str, as_json: bool) -> None:
    """Compare two snapshots, article versions or block versions.

    A and B are each a snapshot id (12 or s12), an article version (av-...) or a block
    version (bv-...); see `pa-archive blocks` and `pa-archive history`. Colour is used on
    a terminal only.

    \b
    Example:
      pa-archive diff 1 2
      pa-archive diff bv-9f1c bv-0a7e --words
      pa-archive diff av-12ab av-34cd --side-by-side
    """
    with open_archive(db_path) as archive:
        try:
            ra, rb = archive.resolve(a), archive.resolve(b)
            ta, tb = archive.text_of(ra), archive.text_of(rb)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    colour = sys.stdout.isatty()
    try:
        if as_json:
            emit_json(difftools.structured(ta, tb, ra.label, rb.label))
        elif mode == "words":
            click.echo(difftools.words(ta, tb, color=colour) or "(identical)")
        elif mode == "side":
            click.echo(difftools.side_by_side(ta, tb, ra.label, rb.label))
        else:
            click.echo(difftools.unified(ta, tb, ra.label, rb.label, color=colour) or "(identical)")
    except difftools.DiffTooLarge as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
@click.argument("query")
@db_option
@json_option
def search(query: str, db_path: str, as_json: bool) -> None:
    """Full-text search over article titles and texts (SQLite FTS5 syntax).

    \b
    Example:
      pa-archive search peacekeeping
      pa-archive search '"Collective Security Council" OR referendum'
    """
    with open_archive(db_path) as archive:
        try:
            rows = archive.search(query)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("No article matches.")
    for row in rows:
        click.echo(click.style(f"a{row['article_id']} {row['version_id']}  {row['title'] or '(untitled)'}", bold=True))
        click.echo(f"   {row['snippet']}")


@cli.command()
@db_option
@json_option
def stats(db_path: str, as_json: bool) -> None:
    """Counts of snapshots, articles, versions, blocks and conflicts.

    \b
    Example:
      pa-archive stats --json
    """
    with open_archive(db_path) as archive:
        numbers = archive.stats()
    if as_json:
        emit_json(numbers)
        return
    for name, value in numbers.items():
        click.echo(f"{name:>18}  {value}")


@cli.command()
@db_option
@json_option
def rebuild(db_path: str, as_json: bool) -> None:
    """Derive every article, block and fact again from the observations.

    Refreshes are incremental: each derives only what new snapshots touch. A rebuild starts
    over from the stored observations (pages analysed by an older extractor are analysed
    again first) and holds the write lock while it runs; nothing fetched is lost.

    \b
    Example:
      pa-archive rebuild --db archive.db
    """
    with open_archive(db_path) as archive, user_errors():
        archive.rebuild()
        counts = archive.stats()
    if as_json:
        emit_json(counts)
    else:
        click.echo(f"Rebuilt: {counts['articles']} article(s), {counts['article_versions']} version(s), "
                   f"{counts['blocks']} block(s), {counts['block_versions']} block version(s), "
                   f"{counts['conflicts']} conflict(s).")


@cli.command()
@db_option
@json_option
def check(db_path: str, as_json: bool) -> None:
    """Compare the incrementally derived tables with a full rebuild.

    The reference derivation (everything from the observations, in memory) is written into
    a temporary copy of the archive, never into the archive itself. Exit status 1 and the
    differing rows when any table differs.

    \b
    Example:
      pa-archive check && echo "derived tables match a rebuild"
    """
    with open_archive(db_path) as archive, user_errors():
        differences = archive.check()
    if as_json:
        emit_json({"equal": not differences, "differences": differences})
    elif not differences:
        click.echo("Every derived table equals a full rebuild.")
    else:
        for table, lines in differences.items():
            click.echo(click.style(table, bold=True) + ": " + lines[0])
            for line in lines[1:]:
                click.echo("  " + line)
    if differences:
        sys.exit(1)


@cli.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args: tuple[str, ...]) -> None:
    """Measure where the time goes: crawl, re-crawl, import, MinHash, scale, storage.

    Builds a synthetic copy of the site on 127.0.0.1 and prints one table (and JSON with
    --json); every ratio is against a baseline measured in the same run. Options are those
    of `python -m bench.run` (see `pa-archive bench --help`).

    \b
    Example:
      pa-archive bench                                  # 1k pages, dedupe at 100k snapshots
      pa-archive bench --pages 200 --scale 10000 --json
    """
    from bench.run import main

    if "-h" in args or "--help" in args:
        click.echo(click.get_current_context().get_help())
        click.echo("\nOptions of the benchmark:")
    sys.exit(main(list(args)))


def _register_commands() -> None:
    """Commands that live beside the code they drive (Datasette, the crawler)."""
    from crawler.commands import crawl, demo, replica, runs
    from dedupe.serve import serve

    for command in (crawl, runs, replica, demo, serve):
        cli.add_command(command)


_register_commands()


# --------------------------------------------------------------------------- web archives


def _since_option(value: str) -> str:
    """YYYY, YYYY-MM, YYYY-MM-DD or an ISO time: a prefix the archive's ISO times compare with."""
    import re

    if value and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2})?Z?)?)?)?", value):
        raise click.ClickException(f"--since {value!r} is not a date (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ).")
    return value


@cli.command()
@click.option("--warc", "warc_path", required=True, type=click.Path(dir_okay=False),
              help="The WARC/1.1 file to write (gzipped when it ends in .gz); a .cdxj index is written beside it.")
@click.option("--wacz", "wacz_path", type=click.Path(dir_okay=False), help="Also package the WARC as this WACZ.")
@click.option("--url-prefix", default="", help="Only URLs that start with this.")
@click.option("--since", default="", help="Only observations from this date on (YYYY-MM-DD).")
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

    since = _since_option(since)
    out = Path(warc_path)
    if not out.name.endswith((".warc", ".warc.gz")):
        raise click.ClickException(f"{warc_path} must end in .warc or .warc.gz.")
    cdxj = out.with_name(out.name.removesuffix(".gz").removesuffix(".warc") + ".cdxj")
    with open_archive(db_path) as archive, user_errors():
        total = warc_export.count_snapshots(archive, url_prefix, since)
        with click.progressbar(length=total, label="Exporting", file=sys.stderr, show_pos=True, show_eta=True,
                               hidden=not sys.stderr.isatty()) as bar:
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
    click.echo(f"Wrote {out}: {report.responses} response(s), {report.revisits} revisit(s), {report.not_modified} "
               f"not-modified revisit(s), {report.removed} removal(s), {report.metadata} metadata record(s); "
               f"{skipped} observation(s) skipped.")
    click.echo(f"Index: {cdxj}" + (f"; WACZ: {wacz_path}" if wacz_path else ""))


@cli.command()
@click.option("--cdx-api", required=True, help="The CDX API (…/cdx/search/cdx on the Wayback Machine, …/<coll>/cdx on pywb).")
@click.option("--url", "patterns", required=True, multiple=True, help="A URL, or a prefix ending in * (repeatable).")
@click.option("--from", "since", default="", help="Captures from YYYY[MM[DD[hhmmss]]].")
@click.option("--to", "until", default="", help="Captures up to YYYY[MM[DD[hhmmss]]].")
@click.option("--replay-prefix", default=None, help="Where captures replay, if not told by the CDX API's address.")
@click.option("--delay", type=float, default=None, help="Seconds between requests [default: 1 for web.archive.org, else 0].")
@click.option("--dry-run", is_flag=True, help="List the captures per year; fetch nothing.")
@db_option
@json_option
def backfill(cdx_api: str, patterns: tuple[str, ...], since: str, until: str, replay_prefix: str | None,
             delay: float | None, dry_run: bool, db_path: str, as_json: bool) -> None:
    """Fill the archive with the dated history a web archive holds (any Wayback-style CDX server).

    Lists the 200 captures (a digest's repeats collapsed), fetches each one's original bytes
    (the id_ replay) one request at a time, and stores it dated by the capture's timestamp,
    through the same path as a crawl. Captures already backfilled are never fetched again, so
    an interrupted backfill resumes. Prints a summary per year.

    \b
    Example:
      pa-archive backfill --cdx-api https://web.archive.org/cdx/search/cdx --url 'pacsto.org/events*' --from 2014 --dry-run
      pa-archive backfill --cdx-api https://web.archive.org/cdx/search/cdx --url pacsto.org/events --from 2014 --to 2016
      pa-archive backfill --cdx-api http://127.0.0.1:8080/my-coll/cdx --url 'https://pacsto.org/*'
    """
    import re

    from dedupe import backfill as bf

    for name, value in (("--from", since), ("--to", until)):
        if value and not re.fullmatch(r"\d{4,14}", value):
            raise click.ClickException(f"{name} {value!r} is not a timestamp (YYYY, YYYYMM, YYYYMMDD or up to YYYYMMDDhhmmss).")
    try:
        prefix = replay_prefix or bf.replay_prefix_for(cdx_api)
    except ValueError as exc:
        raise click.ClickException(f"{exc}: give --replay-prefix.") from None
    client = bf.Client(delay=bf.default_delay(cdx_api) if delay is None else delay)
    archive = open_archive(db_path, must_exist=False)
    with archive, user_errors():
        try:
            captures = [c for p in patterns for c in bf.list_captures(client, cdx_api, p, since, until)]
        except bf.BackfillError as exc:
            raise click.ClickException(str(exc)) from None
        if dry_run:
            years = list(bf.plan(captures, bf.archived_captures(archive)).values())
            result = bf.BackfillResult(years=years, requests=client.requests)
        else:
            with click.progressbar(length=len(captures), label="Backfilling", file=sys.stderr, show_pos=True,
                                   show_eta=True, hidden=not sys.stderr.isatty()) as bar:
                result = bf.backfill(archive, client, prefix, captures, progress=bar.update)
    if as_json:
        emit_json({"dry_run": dry_run, **result.as_dict()})
    else:
        click.echo(f"{len(captures)} capture(s) listed; {client.requests} request(s)" + (" (dry run)" if dry_run else ""))
        header = "year  captures  not HTML  archived before" + (
            "" if dry_run else "  fetched  failed  new contents  new block versions  conflicts")
        click.echo(header)
        for y in result.years:
            line = f"{y.year}  {y.captures:>8}  {y.not_html:>8}  {y.archived_before:>15}"
            if not dry_run:
                line += f"  {y.fetched:>7}  {y.failed:>6}  {y.new_contents:>12}  {y.new_block_versions:>18}  {y.conflicts:>9}"
            click.echo(line)
    for error in result.errors:
        click.echo(click.style("error: ", fg="red") + error, err=True)
    if result.errors:
        sys.exit(1)


@cli.command()
@click.argument("url")
@click.option("--replay-prefix", default=None, help="Memento URIs in this pywb/Wayback collection instead of Datasette.")
@click.option("--datasette", default="http://127.0.0.1:8001", show_default=True, help="Where `pa-archive serve` runs.")
@click.option("--calendar", "as_calendar", is_flag=True, help="Captures by year and month, with the version each one saw.")
@db_option
@json_option
def timemap(url: str, replay_prefix: str | None, datasette: str, as_calendar: bool, db_path: str, as_json: bool) -> None:
    """The archive's copies of URL as a Memento TimeMap (RFC 7089 link format, or JSON).

    Each observation with a content is a memento (a 304 re-links the stored copy); removals
    and failed fetches are not. Memento URIs are the snapshot's Datasette row by default.

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


if __name__ == "__main__":
    cli()
