"""The archive's commands: import, conflicts, blocks, history, diff, search, stats, rebuild, check.

Each parses options, calls one method of ``dedupe.archive.Archive`` and formats the result.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import click

from cli.options import (
    WIDTH,
    Alerts,
    UsageFailure,
    date_option,
    db_option,
    emit_json,
    json_option,
    notify_options,
    progress,
    user_errors,
    wrapped,
    writer_lock,
)
from dedupe import diff as difftools
from dedupe.archive import Archive, ArchiveError
from dedupe.sources import expand, read_sources

URLS_SHOWN = 3  # URLs printed per value or variant (--json has more)
CHANGES_SHOWN = 5
BLOCK_NAME_CHARS = 80  # blocks.name is the first line cut at this length
FIELD_COLUMN = 29  # where `facts` prints values


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis when it was longer."""
    text = str(text).replace("\n", " ").rstrip()
    return text if len(text) <= width else text[: width - 1] + "…"


def url_lines(urls: list[str], total: int, lead: str, shown: int = URLS_SHOWN) -> list[str]:
    """Up to ``shown`` URLs (a file's name for imported files), one a line, then ``+N more``."""
    pad = " " * len(lead)
    lines = [fit((pad if i else lead) + short_name(url), WIDTH) for i, url in enumerate(urls[:shown])]
    if total > len(lines):
        lines.append(" " * len(lead) + f"+{total - len(lines)} more")
    return lines


def when(moment: str | None, seconds: bool = False) -> str:
    """A stored time as a person reads it: '2024-05-01 10:00' (UTC), or '2024-05-01 10:00:07' with ``seconds``."""
    return (moment or "")[: 19 if seconds else 16].replace("T", " ")


class Clock:
    """Times printed together: to the minute, or all to the second when two different ones would read alike
    (observations seconds apart all read "16:14 .. 16:14")."""

    def __init__(self, moments: Iterable[str | None]) -> None:
        distinct = {m for m in moments if m}
        self.seconds = len({m[:16] for m in distinct}) < len(distinct)

    def __call__(self, moment: str | None) -> str:
        return when(moment, self.seconds)


def block_label(name: str | None) -> str:
    """A block's stored name (its first line, cut at 80 characters) ending at a word, with an ellipsis when cut."""
    if not name or len(name) < BLOCK_NAME_CHARS:
        return name or ""
    return name[: name.rfind(" ")].rstrip(" ,;:") + "…" if " " in name else name + "…"


def similarity(value: float) -> str:
    """An estimated similarity between two different versions: 0.996, never '1.00' (an edit too small to
    move the estimate reads '~1, a small edit')."""
    return "~1, a small edit" if value >= 0.9995 else f"{value:.3f}"


def short_name(url: str) -> str:
    """A file name for imported files, the URL for fetched pages: what a person recognises."""
    return url.rsplit("/", 1)[-1] if url.startswith("file:") else url


def open_archive(db_path: str, must_exist: bool = True) -> Archive:
    """Open the archive or stop with one sentence; a stale archive is refreshed first."""
    try:
        with user_errors():
            archive = Archive(db_path, create=not must_exist)
            archive.refresh()
        return archive
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None


SEEDS = Path(__file__).resolve().parent.parent / "dedupe" / "seeds"  # shipped with the package


@click.command(name="import")
@click.argument("inputs", nargs=-1)
@click.option(
    "--seeds",
    "with_seeds",
    is_flag=True,
    help=f"Also import the five seed snapshots that ship with pa-archive ({SEEDS.name}/ in the package).",
)
@date_option(
    "--observed-at",
    end=False,
    help="When these pages were seen, UTC unless it says otherwise. Default: a file's modification time, a "
    "JSON Lines record's observed_at; web archives keep their own dates",
)
@db_option
@json_option
@notify_options
def import_(
    inputs: tuple[str, ...],
    with_seeds: bool,
    observed_at: str | None,
    db_path: str,
    as_json: bool,
    notify_urls: tuple[str, ...],
    datasette_url: str | None,
) -> None:
    """Import snapshots from files, folders, globs or JSON Lines.

    Text or HTML is told by content, not by name. JSON Lines files (.jsonl) hold one
    {"url", "observed_at", "text"|"html"} object a line. Web archives (WARC, WARC.gz,
    ARC, WACZ) give one snapshot per HTML response or revisit record. Importing the same input again
    adds nothing. A bad input is reported and skipped; the exit status is 1 if any failed.

    \b
    Example:
      pa-archive import --seeds                  # the five seed snapshots shipped with pa-archive
      pa-archive import 'dumps/*.html' other-scraper.jsonl --db news.db
      pa-archive import crawl.warc.gz collection.wacz
      pa-archive import new-pages/ --notify 'json://127.0.0.1:9000/hook'   # alert when a fact changed
      pa-archive import saved-page.html --observed-at 2019-06-01
    """
    if not inputs and not with_seeds:
        raise UsageFailure("name the files, folders, globs or JSON Lines to import, or give --seeds.")
    sources = list(expand((*inputs, *([str(SEEDS)] if with_seeds else ()))))  # paths only: read one at a time
    if not any(isinstance(source, Path) for source in sources) and not Path(db_path).exists():
        for error in sources:  # nothing to import: no archive (nor lock file) is made for it
            click.echo(click.style("error: ", fg="red") + str(error), err=True)
        click.echo(f"Nothing imported; {db_path} was not created.", err=True)
        sys.exit(1)
    with writer_lock(db_path, "import"):  # released when the import ends, or by the kernel if it is killed
        archive = open_archive(db_path, must_exist=False)
        alerts = Alerts(db_path, notify_urls, datasette_url).before()
        before = archive.stats().get("snapshots", 0)
        with (
            archive,
            user_errors(),
            interrupted_import(db_path, before),
            progress("Importing", iterable=sources) as files,
        ):  # click draws the bar only on a terminal
            report = archive.ingest(read_sources(files, web_archives := [], observed_at))
        for summary in web_archives:  # WARC, ARC, WACZ: what each held and what was skipped
            click.echo(str(summary), err=True)
        data = report.as_dict()
        alert = alerts.after(run="import")
        if alert is not None:
            data["notify"] = alert
        if as_json:
            with open_archive(db_path) as again:
                emit_json({**data, "stats": again.stats()})
        else:
            click.echo(
                f"Imported {report.added} snapshot(s) ({report.new_content} new content, "
                f"{report.duplicates} already archived); "
                f"{data['new_article_versions']:+d} article version(s), "
                f"{data['new_block_versions']:+d} block version(s)."
            )
    for failure in (alert or {}).get("errors") or []:  # reported, never a failed import
        click.echo(click.style("warning: ", fg="yellow") + failure, err=True)
    for error in report.errors:
        click.echo(click.style("error: ", fg="red") + error, err=True)
    if report.errors:
        sys.exit(1)


@contextlib.contextmanager
def interrupted_import(db_path: str, before: int) -> Iterator[None]:
    """Ctrl-C during an import: say what was kept and what to do (click printed only "Aborted!")."""
    try:
        yield
    except KeyboardInterrupt:
        try:
            with Archive(db_path, create=False) as archive:
                stored = archive.stats().get("snapshots", 0) - before
        except Exception:  # noqa: BLE001 - the message must come whatever the archive's state
            stored = None
        kept = f"{stored} snapshot(s) stored before it are kept" if stored is not None else "what was stored is kept"
        click.echo(
            f"\nImport interrupted: {kept}; run the same command again to import the rest "
            "(what is archived is never added twice).",
            err=True,
        )
        sys.exit(130)


@click.command()
@click.option(
    "--no-evidence",
    "evidence",
    flag_value=False,
    default=True,
    help="Values, counts and dates only: no URLs, block variants or changes (fast on a very large archive).",
)
@db_option
@json_option
def conflicts(evidence: bool, db_path: str, as_json: bool) -> None:
    """Facts that disagree between snapshots (and values missing in some).

    A conflict is one delegation's field (seats, plenipotentiary, website) stated with
    different non-empty values. An empty website line is a missing value, and the same
    numbers in other words are a rewording: neither is a conflict.

    \b
    Example:
      pa-archive conflicts
      pa-archive conflicts --json | jq '.[].delegation'
      pa-archive conflicts --no-evidence      # a million snapshots: milliseconds
    """
    with open_archive(db_path) as archive:
        found, missing = archive.conflicts(evidence), archive.missing_values(evidence)
    if as_json:
        emit_json(found)
        return
    if not found:
        click.echo("No conflicting facts.")
    when = Clock(  # this listing's times: to the second if two would read alike
        [t for r in found for v in r["values"] for t in (v["first_seen"], v["last_seen"])]
        + [c["at"] for r in found for c in r.get("changes", [])]
        + [t for r in missing for t in (r["first_seen"], r["last_seen"])]
    )
    for record in found:
        click.echo(
            click.style(f"{record['delegation']} {record['field']}", bold=True) + f"  ({record['language']} pages)"
        )
        pad = min(28, max(len(str(v["value"])) for v in record["values"]))
        for value in record["values"]:
            click.echo(
                f"  {fit(str(value['value']), pad):<{pad}} {value['snapshots']:>4} snapshot(s)  "
                f"{when(value['first_seen'])} .. {when(value['last_seen'])}"
            )
            if value.get("block_versions"):
                click.echo(fit(f"      in {', '.join(value['block_versions'])}", WIDTH))
            for line in url_lines(value.get("urls", []), value.get("urls_total", 0), "      at "):
                click.echo(line)
        for change in record.get("changes", [])[:CHANGES_SHOWN]:
            click.echo(f"  {fit(change['from'], 20)} -> {fit(change['to'], 20)} on {when(change['at'])}:")
            click.echo(f"    pa-archive diff {change['a']} {change['b']} --words")
        if len(record.get("changes", [])) > CHANGES_SHOWN:
            click.echo(f"  ... {len(record['changes']) - CHANGES_SHOWN} more change(s): --json lists them")
    if missing:
        click.echo("\nMissing values (line present, value empty; not conflicts):")
        for row in missing:
            names = [short_name(n) for n in row.get("seen_in", [])]
            click.echo(
                fit(
                    f"  {row['delegation']} {row['field']} ({row['language']}): empty in {row['snapshots']} "
                    "snapshot(s)",
                    WIDTH,
                )
            )
            click.echo(f"      {when(row['first_seen'])} .. {when(row['last_seen'])}")
            for line in url_lines(names, row.get("seen_in_total", len(names)), "      at "):
                click.echo(line)


@click.command()
@date_option("--as-of", "as_of", end=True, help="A date (2024-05-01: the end of that day, UTC) or a time")
@click.option("--delegation", metavar="NAME", default="", help="One delegation, in any case (kyrgyzstan).")
@click.option("--periods", is_flag=True, help="Each value's periods through time instead (7 -> 6 -> 7: three).")
@db_option
@json_option
def facts(as_of: str | None, delegation: str, periods: bool, db_path: str, as_json: bool) -> None:
    """What the site stated on a date: the delegations' seats, plenipotentiaries, websites.

    Each page counts by its latest observation at or before DATE (default: now). Where the
    pages of that moment state different values, every value is shown with its page count,
    flagged as a contradiction of the site with itself. --periods lists instead the runs of
    one value through time, with their first and last snapshot and date.

    \b
    Example:
      pa-archive facts --as-of 2024-05-01
      pa-archive facts --delegation kyrgyzstan --json
      pa-archive facts --delegation Kyrgyzstan --periods
    """
    with open_archive(db_path) as archive:
        try:
            result = archive.fact_periods(delegation) if periods else archive.facts_as_of(as_of, delegation)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        emit_json(result)
    elif periods:
        _print_periods(result)
    else:
        _print_facts(result)


def _print_facts(result: dict) -> None:
    """One header per delegation; its facts grouped by language, the fields in one column, the values in the next.

    The data are ``facts_as_of``'s (one record per language, delegation and field); only the layout is here."""
    click.echo(f"The site as of {when(result['as_of'], seconds=True)} UTC, by each page's latest observation:")
    if not result["facts"]:
        click.echo("  nothing: no page with the delegation block was observed by then.")
        return
    field_width = min(34, max(len(f["field"]) for f in result["facts"]))
    column = 6 + field_width + 1  # "  en  " + the field + a space
    grouped: dict[str, dict[str, list[dict]]] = {}
    for fact in result["facts"]:
        grouped.setdefault(fact["delegation"], {}).setdefault(fact["language"] or "?", []).append(fact)
    for delegation, languages in grouped.items():
        click.echo(click.style(delegation, bold=True))
        for language, facts in sorted(languages.items()):
            tag = f"  {language:<3} "
            for fact in facts:
                lead = tag + f"{fit(fact['field'], field_width):<{field_width}} "
                tag = " " * len(tag)
                several = len(fact["values"]) > 1
                for value in fact["values"]:
                    count = f" ({value['pages']} page{'s' if value['pages'] != 1 else ''})" if several else ""
                    click.echo(lead + fit(value["value"] or "(empty)", WIDTH - column - len(count)) + count)
                    lead = " " * column
                if fact["contradiction"]:
                    click.echo(click.style(lead + "! the site contradicts itself", fg="red"))


def _print_periods(rows: list[dict]) -> None:
    """One line per period under a heading per fact, written at once: a fact that flip-flops page by page
    in one crawl has thousands of periods, and a write per line would cost more than the query."""
    if not rows:
        click.echo("No facts yet.")
        return
    when = Clock(t for row in rows for t in (row["first_seen"], row["last_seen"]))
    heading = None
    lines = []
    for row in rows:
        if (row["delegation"], row["field"], row["language"]) != heading:
            heading = (row["delegation"], row["field"], row["language"])
            lines.append(click.style(f"{row['delegation']} {row['field']} ({row['language']} pages)", bold=True))
        lines.append(
            f"  {fit(row['value'] or '(empty)', 24):<24} {when(row['first_seen'])} .. {when(row['last_seen'])}"
            f"  s{row['first_snapshot_id']}..s{row['last_snapshot_id']}"
        )
    click.echo("\n".join(lines))


@click.command()
@click.argument("block", required=False)
@click.option("--all", "show_all", is_flag=True, help="Show page furniture (menus, footers: blocks without facts) too.")
@db_option
@json_option
def blocks(block: str | None, show_all: bool, db_path: str, as_json: bool) -> None:
    """Repeated page furniture (the delegation block): each variant and when it was seen.

    Each version lists the pages it was seen on (distinct, the first few) and what changed from
    the one before, line by line, named by its facts: conflict, missing, filled, reworded,
    changed, added or removed. The delegation block comes first; blocks that state no fact
    (menus, footers) are furniture, listed in one line each unless --all or named.

    \b
    Example:
      pa-archive blocks
      pa-archive blocks b6
      pa-archive blocks --all --json
      pa-archive diff bv-<first> bv-<second> --words
    """
    with open_archive(db_path) as archive:
        try:
            block_id = _block_id(archive, block) if block else None
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
        versions = archive.block_versions(block_id)
    if as_json:
        emit_json(versions if show_all or block else [v for v in versions if not v["furniture"]])
        return
    if not versions:
        click.echo("No blocks yet: a block is recognised once it repeats across articles.")
    when = Clock(t for v in versions for t in (v["first_seen"], v["last_seen"]))
    by_block: dict[int, list[dict]] = {}
    for v in versions:
        by_block.setdefault(v["block_id"], []).append(v)
    for number, members in by_block.items():
        head = members[0]
        if head["furniture"] and not (show_all or block):
            click.echo(
                fit(f"block b{number} (furniture, {len(members)} version(s)): {block_label(head['block'])}", WIDTH)
            )
            continue
        label = " (furniture: states no fact)" if head["furniture"] else ""
        click.echo(click.style(fit(f"block b{number}{label}: {block_label(head['block'])}", WIDTH), bold=True))
        for v in members:
            click.echo(f"  v{v['version']} {v['version_id']}  {v['line_count']} lines, {v['snapshots']} snapshot(s)")
            click.echo(f"     {when(v['first_seen'])} .. {when(v['last_seen'])}")
            for line in url_lines(v["seen_in"], v["seen_in_total"], "     seen on "):
                click.echo(line)
            for change in v["changes"]:
                colour = {"conflict": "red", "missing": "yellow", "reworded": "cyan"}.get(change["kind"])
                detail = change["detail"] or change["new_text"] or change["old_text"] or ""
                lines = wrapped(f"     {change['kind']:>9}  ", detail, unit="; ")
                lines[0] = "     " + click.style(f"{change['kind']:>9}", fg=colour) + lines[0][14:]
                for line in lines:
                    click.echo(line)
    if any(v["furniture"] for v in versions) and not (show_all or block):
        click.echo("(furniture: blocks that state no fact; `pa-archive blocks --all` or `blocks bN` shows them)")


def _block_id(archive: Archive, name: str) -> int:
    """The block ``name`` (b6, or one of its versions) stands for."""
    ref = archive.resolve(name)
    if ref.kind == "block":
        return int(ref.id)
    if ref.kind == "block_version":
        return archive.block_of_version(ref.id)
    raise ArchiveError(f"{name} is not a block: name one as b1 (see `pa-archive blocks`)")


@click.command()
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
      pa-archive history 001_34847c4070c3c854.txt      # an imported file, by its name
    """
    with open_archive(db_path) as archive:
        try:
            result = archive.history(archive.resolve(ref))
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        emit_json(result)
        return
    when = Clock(
        [s.get("observed_at") for s in result.get("snapshots", [])]
        + [t for v in result.get("versions", []) for t in (v.get("first_seen"), v.get("last_seen"))]
    )
    if result["kind"] == "url":
        click.echo(click.style(result["url"], bold=True))
        for s in result["snapshots"]:
            click.echo(
                f"  s{s['snapshot_id']}  {when(s['observed_at'])}  HTTP {s['http_status'] or '-'}  {s['status']}"
            )
            if s.get("article_version_id"):
                title = s.get("title") or "(untitled)"
                click.echo(fit(f"      a{s['article_id']} v{s['version']} {s['article_version_id']}  {title}", WIDTH))
        return
    head = result[result["kind"]]
    name = head.get("title") or block_label(head.get("name")) or "(untitled)"
    prefix = "a" if result["kind"] == "article" else "b"
    status = f"  [{head['status']}]" if head.get("status") == "removed" else ""
    for line in wrapped(f"{result['kind']} {prefix}{head['id']}: ", f"{name}{status}"):
        click.echo(click.style(line, bold=True))
    for v in result["versions"]:
        vid = v.get("id") or v.get("version_id")
        sim = v.get("similarity_to_previous")
        extra = f"  similarity to previous {similarity(sim)}" if sim is not None else ""
        click.echo(f"  v{v['version']} {vid}  {v['snapshots']} snapshot(s){extra}")
        click.echo(f"     {when(v['first_seen'])} .. {when(v['last_seen'])}")
        if v.get("title") and v["title"] != head.get("title"):
            click.echo(fit(f"     title: {v['title']}", WIDTH))
        urls = v.get("seen_as") or v.get("seen_in") or []
        for line in url_lines(urls, v.get("seen_in_total", len(urls)), "     seen as "):
            click.echo(line)
        for change in v.get("changes", []):
            for line in wrapped(
                f"     {change['kind']}: ", change["detail"] or change["new_text"] or change["old_text"]
            ):
                click.echo(line)


@click.command(name="diff")
@click.argument("a")
@click.argument("b")
@click.option("--words", "word_marks", is_flag=True, help="Word-level marks (with --side-by-side too).")
@click.option("--side-by-side", "side", is_flag=True, help="Two columns, wrapped to the terminal (80 when piped).")
@click.option("--unified", "unified", is_flag=True, help="Unified line diff (the default).")
@db_option
@json_option
def diff_(a: str, b: str, word_marks: bool, side: bool, unified: bool, db_path: str, as_json: bool) -> None:
    """Compare two snapshots, article versions or block versions.

    A and B are each a snapshot id (12 or s12), an article version (av-...) or a block
    version (bv-...), or an article (a30) or block (b6) for its latest version; see
    `pa-archive blocks` and `pa-archive history`. Colour is used on a terminal only.

    \b
    Example:
      pa-archive diff 1 2
      pa-archive diff bv-9f1c bv-0a7e --words
      pa-archive diff av-12ab av-34cd --side-by-side --words
      pa-archive diff bv-0a7e b2          # a variant against the block's latest
    """
    if unified and (word_marks or side):
        raise click.UsageError("--unified cannot be combined with --words or --side-by-side.")
    with open_archive(db_path) as archive:
        try:
            ra, rb = archive.resolve_version(a), archive.resolve_version(b)
            ta, tb = archive.text_of(ra), archive.text_of(rb)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    colour = sys.stdout.isatty()
    try:
        if as_json:
            emit_json(difftools.structured(ta, tb, ra.label, rb.label))
        elif side:
            click.echo(difftools.side_by_side(ta, tb, ra.label, rb.label, marks=word_marks))
        elif word_marks:
            click.echo(difftools.words(ta, tb, color=colour) or "(identical)")
        else:
            click.echo(difftools.unified(ta, tb, ra.label, rb.label, color=colour) or "(identical)")
    except difftools.DiffTooLarge as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
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


@click.command()
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


@click.command()
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
    with open_archive(db_path) as archive, writer_lock(db_path, "rebuild"), user_errors():
        archive.rebuild()
        counts = archive.stats()
    if as_json:
        emit_json(counts)
    else:
        click.echo(
            f"Rebuilt: {counts['articles']} article(s), {counts['article_versions']} version(s), "
            f"{counts['blocks']} block(s), {counts['block_versions']} block version(s), "
            f"{counts['conflicts']} conflict(s)."
        )


@click.command()
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


COMMANDS = (import_, conflicts, facts, blocks, history, diff_, search, stats, rebuild, check)
