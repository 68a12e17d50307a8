"""The seats timeline: ``/-/timeline`` draws each delegation's seat counts, per language, as inline SVG.

``/-/timeline.json`` gives the data. Both come from the "seat_counts" canned query's SQL over the
``fact_periods`` records, which returns only first values, changes and last values: a few rows for
any archive, read without touching the snapshots. The x-axis is
time (``observed_at``): a value holds from the snapshot that stated it to the next change, and
ticks are dates spread evenly over the span (with the time of day when the span is short).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from datasette.utils.asgi import Response

from datasette_pa_archive.errors import param
from datasette_pa_archive.pages import (
    MAX_NAME_CHARS,
    archive_database,
    diff_href,
    html_response,
    known_delegation,
    snapshot_href,
)
from dedupe import page_queries, queries

CHART_WIDTH, CHART_HEIGHT = 760, 150
MARGIN = {"left": 46, "right": 44, "top": 26, "bottom": 34}
COLOURS = ["#1f4e79", "#c77c02", "#2e8540", "#8e44ad", "#7f7f7f"]
MAX_TICKS = 6
MAX_LABELLED_CHANGES = 12  # a series that flips more often gets red dots without "7 → 6" labels
MAX_LISTED_CHANGES = 50  # per delegation in the table under its chart; the seat_counts query has all


def seat_number(value: Any) -> int | None:
    """A stated seat count as an int, or None when it is not a number."""
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def timeline_data(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Series per delegation, language and field from ``dedupe.queries.SEAT_CHANGES_SQL`` rows (first value,
    changes, last value).

    One panel per delegation and language: the English and the Russian site state their facts
    separately (and may disagree), so each is its own line, never one alternating between them.
    """
    panels: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    changes: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        value = seat_number(r["value"])
        if value is None:
            continue  # a seat count that is not a number is not drawn (the seat_counts query shows it)
        key = (r["delegation"], r.get("language") or "")
        point = {
            "value": value,
            "snapshot_id": r["snapshot_id"],
            "observed_at": r["observed_at"],
            "block_version_id": r["block_version_id"],
        }
        before = seat_number(r["previous_value"]) if r["kind"] == "change" else None
        if before is not None:
            point["changed_from"] = before
            changes.setdefault(key, []).append(
                {
                    "field": r["field"],
                    "from": {
                        "value": before,
                        "snapshot_id": r["previous_snapshot_id"],
                        "observed_at": r["previous_observed_at"],
                        "block_version_id": r["previous_block_version_id"],
                    },
                    "to": point,
                }
            )
        panels.setdefault(key, {}).setdefault(r["field"], []).append(point)
    return {
        "snapshots": rows[0]["n"] if rows else 0,
        "delegations": [
            {
                "delegation": name,
                "language": language,
                "series": [{"field": f, "language": language, "points": points} for f, points in fields.items()],
                "changes": changes.get((name, language), []),
            }
            for (name, language), fields in sorted(panels.items())
        ],
    }


def seconds(observed_at: str) -> float:
    """An archive time (ISO 8601, UTC) as seconds since the epoch."""
    moment = datetime.fromisoformat(observed_at.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def time_span(data: dict[str, Any]) -> tuple[float, float]:
    """The earliest and latest observation drawn (every series' first and last point are in the data)."""
    times = [seconds(p["observed_at"]) for d in data["delegations"] for s in d["series"] for p in s["points"]]
    return (min(times), max(times)) if times else (0.0, 0.0)


def time_ticks(span: tuple[float, float], x_of: Any, count: int = MAX_TICKS) -> list[dict[str, Any]]:
    """Evenly spaced ticks over the span, labelled with the date (and the time when the span is under 3 days)."""
    t0, t1 = span
    moments = [t0] if t1 <= t0 else [t0 + (t1 - t0) * k / (count - 1) for k in range(count)]
    short = t1 - t0 < 3 * 86400
    ticks = []
    for t in moments:
        moment = datetime.fromtimestamp(t, timezone.utc)
        ticks.append(
            {
                "x": x_of(t),
                "label": moment.strftime("%Y-%m-%d"),
                "date": moment.strftime("%H:%M:%S" if t1 - t0 < 600 else "%H:%M") if short else "",
            }
        )
    return ticks


def chart(panel: dict[str, Any], span: tuple[float, float]) -> dict[str, Any]:
    """Coordinates for one delegation's SVG on a time axis: scaled points, step paths and y ticks."""
    values = [p["value"] for s in panel["series"] for p in s["points"]]
    low, high = min(values), max(values)
    if low == high:
        low, high = low - 1, high + 1
    pad = max(1, round((high - low) * 0.15))
    low, high = max(0, low - pad), high + pad
    plot_w = CHART_WIDTH - MARGIN["left"] - MARGIN["right"]
    plot_h = CHART_HEIGHT - MARGIN["top"] - MARGIN["bottom"]

    t0, t1 = span

    def x(t: float) -> float:
        return round(MARGIN["left"] + (plot_w / 2 if t1 <= t0 else plot_w * (t - t0) / (t1 - t0)), 1)

    def y(v: float) -> float:
        return round(MARGIN["top"] + plot_h * (high - v) / (high - low), 1)

    step = max(1, round((high - low) / 4))
    lines = []
    for k, s in enumerate(panel["series"]):
        # a step line: each value holds until the snapshot that states another
        at = [x(seconds(p["observed_at"])) for p in s["points"]]
        path = "".join(
            f"M{at[j]},{y(p['value'])}" if j == 0 else f"H{at[j]}V{y(p['value'])}" for j, p in enumerate(s["points"])
        )
        dots = [
            {**p, "cx": at[j], "cy": y(p["value"]), "changed": "changed_from" in p} for j, p in enumerate(s["points"])
        ]
        lines.append(
            {
                "field": s["field"],
                "colour": COLOURS[k % len(COLOURS)],
                "path": path,
                "dots": dots,
                "total": s["field"] == "seats_total",
                "labelled": sum(d["changed"] for d in dots) <= MAX_LABELLED_CHANGES,
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "lines": lines,
        "y_ticks": [{"value": v, "y": y(v)} for v in range(int(low), int(high) + 1, step)],
        "x0": MARGIN["left"],
        "x1": CHART_WIDTH - MARGIN["right"],
        "y_base": CHART_HEIGHT - MARGIN["bottom"],
        "x_of": x,
    }


def change_summary(panel: dict[str, Any], spelled_out: int = 4) -> list[str]:
    """One phrase per changed field: "seats_total 7 → 6", or a count when it flipped often."""
    phrases = []
    for series in panel["series"]:
        changed = [p for p in series["points"] if "changed_from" in p]
        if not changed:
            continue
        if len(changed) <= spelled_out:
            steps = [changed[0]["changed_from"]] + [p["value"] for p in changed]
            phrases.append(f"{series['field']} " + " → ".join(str(v) for v in steps))
        else:
            values = sorted({p["value"] for p in series["points"]})
            phrases.append(
                f"{series['field']} changed {len(changed)} times between "
                f"{', '.join(str(v) for v in values)}, last {series['points'][-1]['value']}"
            )
    return phrases


async def timeline_view(datasette: Any, request: Any) -> Response:
    as_json = bool(request.url_vars.get("as_json"))
    db = await archive_database(datasette, request)
    known = [r[0] for r in (await db.execute(page_queries.SEAT_DELEGATIONS_SQL)).rows]
    # delegation names are matched whatever their case: kyrgyzstan is Kyrgyzstan; an unknown one is a 404
    # (``errors.client_error`` answers it, in JSON for the .json)
    wanted = await known_delegation(db, param(request, "delegation", MAX_NAME_CHARS), known, " stating seat counts")
    results = await db.execute(queries.SEAT_CHANGES_SQL, {"delegation": wanted})
    data = timeline_data([dict(r) for r in results.rows])
    if as_json:
        return Response.json(data)
    n = data["snapshots"]
    span = time_span(data)
    panels = []
    for number, panel in enumerate(data["delegations"], start=1):
        drawing = chart(panel, span)
        drawing["x_ticks"] = time_ticks(span, drawing.pop("x_of"))
        panel["summary"] = change_summary(panel)
        panel["listed_changes"] = panel["changes"][:MAX_LISTED_CHANGES]
        panel["more_changes"] = len(panel["changes"]) - len(panel["listed_changes"])
        for change in panel["listed_changes"]:
            change["diff_href"] = diff_href(
                datasette, a=change["from"]["block_version_id"], b=change["to"]["block_version_id"], database=db.name
            )
            change["from_href"] = snapshot_href(datasette, change["from"]["snapshot_id"], db.name)
            change["to_href"] = snapshot_href(datasette, change["to"]["snapshot_id"], db.name)
        panels.append({**panel, "chart": drawing, "anchor": f"delegation-{number}"})
    context = {
        "database": db.name,
        "panels": panels,
        "snapshot_count": n,
        "delegation": wanted,
        "all_delegations": known,
        "snapshot_href": lambda sid: snapshot_href(datasette, sid, db.name),
        "timeline_path": datasette.urls.path("/-/timeline"),
        "seat_counts_href": datasette.urls.query(db.name, "seat_counts"),
        "json_href": datasette.urls.path("/-/timeline.json")
        + "?"
        + urlencode({k: v for k, v in (("database", db.name), ("delegation", wanted)) if v}),
    }
    body = await datasette.render_template("pa_timeline.html", context, request=request)
    return html_response(body)
