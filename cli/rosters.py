"""`pa-archive roster` and `pa-archive parity`: delegations as people, and the two sites against each other.

Thin commands over ``dedupe.delegations`` and ``dedupe.parity``; the output fits 80 columns.
"""

from __future__ import annotations

from typing import Any

import click

from cli.archive import fit, open_archive, when
from cli.options import WIDTH, date_option, db_option, emit_json, json_option
from dedupe.archive import ArchiveError

NAME_COLUMN = 28
CHAMBER_COLUMN = 28


def _seats(seats: dict[str, str]) -> str:
    """'11 (council_of_the_republic 4, house_of_representatives 7)' from a roster's seats."""
    chambers = [f"{k.removeprefix('seats.')} {v}" for k, v in sorted(seats.items()) if k.startswith("seats.")]
    total = seats.get("seats_total", "?")
    return f"{total} ({', '.join(chambers)})" if chambers else str(total)


@click.command()
@click.argument("delegation", required=False, default="")
@date_option("--as-of", "as_of", end=True, help="A date (2024-05-01: the end of that day, UTC) or a time")
@click.option("--changes", is_flag=True, help="Who joined and left when (and plenipotentiary, seats changes) instead.")
@click.option(
    "--people", is_flag=True, help="Every person listed, with all spellings and possible same persons, instead."
)
@db_option
@json_option
def roster(delegation: str, as_of: str | None, changes: bool, people: bool, db_path: str, as_json: bool) -> None:
    """Who sits in each delegation (country pages), per site, and since when.

    Each page counts by its latest observation at or before DATE (default: now). A member
    joined when first observed listed and left when first observed not listed on a later
    roster of the same delegation and site. Names are one person across scripts and forms
    ("Когут Виктор" is "Viktor Kogut"). --changes lists every change with its dates and
    the snapshots to compare; --people every person with the spellings seen, and names that
    may be the same person (never merged).

    \b
    Example:
      pa-archive roster
      pa-archive roster kyrgyzstan --as-of 2025-11-01
      pa-archive roster --changes
      pa-archive roster belarus --changes --json
      pa-archive roster --people
    """
    from dedupe import delegations

    with open_archive(db_path) as archive:
        try:
            if people:
                result: Any = [
                    p
                    for p in delegations.people(archive)
                    if not delegation or delegations.delegation_name(archive, delegation) in p["delegations"]
                ]
            elif changes:
                result = {
                    "changes": delegations.roster_changes(archive, delegation),
                    "memberships": delegations.memberships(archive, delegation),
                }
            else:
                result = delegations.rosters_as_of(archive, as_of, delegation)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        emit_json(result)
    elif people:
        _print_people(result)
    elif changes:
        _print_changes(result["changes"])
    else:
        _print_rosters(result)


def _print_rosters(result: dict[str, Any]) -> None:
    click.echo(f"Rosters as of {when(result['as_of'])} UTC (each country page's latest observation):")
    if not result["rosters"]:
        click.echo("  none: no page listing a delegation's members was observed by then.")
    for r in result["rosters"]:
        click.echo(
            click.style(
                fit(f"{r['delegation']} ({r['language']}): {len(r['members'])} members, roster v{r['version']}", WIDTH),
                bold=True,
            )
        )
        click.echo(fit(f"  seats {_seats(r['seats'])}", WIDTH))
        click.echo(fit(f"  plenipotentiary {r['plenipotentiary'] or '(none)'}", WIDTH))
        click.echo(fit(f"  s{r['snapshot_id']} at {when(r['observed_at'])}: {r['url']}", WIDTH))
        for m in r["members"]:
            since = f"since {when(m['joined'])[:10]}" if m["joined"] else ""
            click.echo(
                f"  {fit(m['name'], NAME_COLUMN - 2):<{NAME_COLUMN - 2}} "
                f"{fit(m['chamber'] or '-', CHAMBER_COLUMN - 1):<{CHAMBER_COLUMN - 1}} {since}".rstrip()
            )
            if m["position"]:
                click.echo(fit(f"      {m['position']}", WIDTH))


def _print_people(records: list[dict[str, Any]]) -> None:
    if not records:
        click.echo("No one is listed on a roster yet.")
        return
    names = {r["key"]: r["name"] for r in records}
    click.echo(f"{len(records)} people (one per identity across scripts; spellings seen):")
    for r in records:
        click.echo(fit(f"{r['name']} ({', '.join(r['delegations'])}; {', '.join(r['languages'])})", WIDTH))
        click.echo(fit(f"  {' · '.join(r['spellings'])}", WIDTH))
        for key in r["possible_matches"]:
            click.echo(click.style(fit(f"  ? may be the same person as {names.get(key, key)}", WIDTH), fg="yellow"))


def _print_changes(rows: list[dict[str, Any]]) -> None:
    if not rows:
        click.echo("No roster changes: every delegation's roster is as first observed.")
        return
    click.echo("Roster changes, oldest first (joined: first observed listed; left: first observed not listed):")
    heading = None
    for row in rows:
        key = (row["delegation"], row["language"], row["snapshot_id"])
        if key != heading:
            heading = key
            click.echo(click.style(f"{when(row['observed_at'])}  {row['delegation']} ({row['language']})", bold=True))
            click.echo(fit(f"  at {row['url']} (s{row['snapshot_id']})", WIDTH))
            if row["previous_snapshot_id"]:
                click.echo(f"  pa-archive diff s{row['previous_snapshot_id']} s{row['snapshot_id']} --words")
        if row["kind"] == "joined":
            text = f"joined  {row['new_value']}"
        elif row["kind"] == "left":
            text = f"left    {row['old_value']}"
        else:
            text = f"{row['subject']}: {row['old_value'] or '(none)'} -> {row['new_value'] or '(none)'}"
        click.echo(fit(f"  {text}", WIDTH))


@click.command()
@date_option("--as-of", "as_of", end=True, help="A date (2024-05-01: the end of that day, UTC) or a time")
@click.option("--delegation", metavar="NAME", default="", help="One delegation, in any case (belarus).")
@click.option("--all", "show_all", is_flag=True, help="Show the fields both sites agree on too.")
@db_option
@json_option
def parity(as_of: str | None, delegation: str, show_all: bool, db_path: str, as_json: bool) -> None:
    """Do pacsto.org (en) and paodkb.org (ru) say the same thing? Per delegation and field.

    Each site's pages count by their latest observation at or before DATE (default: now):
    the delegation block's facts and the country pages' rosters. Seats compare as numbers,
    plenipotentiaries and members as people (any script, any order, patronymics ignored).
    Without --all only the differences are printed; --json lists every field as
    {"delegation", "field", "en": {"values", "urls", ...}, "ru": {...}, "agree"}.

    \b
    Example:
      pa-archive parity
      pa-archive parity --as-of 2025-11-01 --all
      pa-archive parity --delegation belarus --json
    """
    from dedupe.parity import parity as compare

    with open_archive(db_path) as archive:
        try:
            result = compare(archive, as_of, delegation)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        emit_json(result["fields"])
        return
    fields = result["fields"] if show_all else [f for f in result["fields"] if not f["agree"]]
    agreeing = sum(1 for f in result["fields"] if f["agree"])
    click.echo(f"English (en) vs Russian (ru) as of {when(result['as_of'])} UTC:")
    if not result["fields"]:
        click.echo("  nothing to compare: no delegation is stated by both sites yet.")
        return
    click.echo(
        f"  {agreeing} field(s) agree, {len(result['fields']) - agreeing} differ or are stated by one site only."
    )
    for f in fields:
        mark = "agree" if f["agree"] else click.style(f["status"], fg="red")
        click.echo(click.style(f"{f['delegation']} {f['field']}: ", bold=True) + mark)
        if f["field"] == "members":
            for lang in ("en", "ru"):
                sources = "; ".join(_source(s) for s in f[lang]["sources"])
                click.echo(fit(f"  {lang}: {len(f[lang]['values'])} members ({sources or 'not stated'})", WIDTH))
            if "only_en" in f:
                click.echo(fit(f"  only en: {', '.join(f['only_en']) or '-'}", WIDTH))
                click.echo(fit(f"  only ru: {', '.join(f['only_ru']) or '-'}", WIDTH))
            continue
        column = min(24, max((len(str(s["value"])) for lang in ("en", "ru") for s in f[lang]["sources"]), default=1))
        for lang in ("en", "ru"):
            by_value: dict[str, list[str]] = {}
            for s in f[lang]["sources"]:
                by_value.setdefault(str(s["value"]), []).append(_source(s))
            if not by_value:
                click.echo(f"  {lang}: (not stated)")
            for i, (value, sources) in enumerate(sorted(by_value.items())):
                lead = f"  {lang}: " if i == 0 else " " * 6
                click.echo(fit(f"{lead}{fit(value, column):<{column}}  {'; '.join(sources)}", WIDTH))


def _source(source: dict[str, Any]) -> str:
    """'block bv-… (39 pages)' or 'country page rv-…': where one side's value comes from."""
    if source["from"] == "block":
        return f"block {source['block_versions'][0]} ({source['pages']} pages)"
    return f"country page {source['roster_version'][:15]}"


COMMANDS = (roster, parity)
