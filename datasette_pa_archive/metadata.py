"""Datasette metadata for archive.db: descriptions, facets and canned queries.

The canned queries are the named SQL of ``dedupe.queries`` (the ones the CLI runs), so
"conflicting_facts" in Datasette and ``pa-archive conflicts`` are the same query.
Canned queries never take a table's or view's name: Datasette would hide the table behind it. The
shipped ``datasette_pa_archive/metadata.yml`` is generated from ``metadata()``; regenerate it with::

    python -m datasette_pa_archive.metadata > datasette_pa_archive/metadata.yml
    python -m datasette_pa_archive.metadata news.db      # for an archive with another file name
"""

from __future__ import annotations

import html
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlite_utils import Database

from dedupe import migrations, queries, schema
from dedupe.readonly import connect_read_only
from dedupe.stemming import MAX_QUERY_WORDS

SHIPPED = Path(__file__).with_name("metadata.yml")


def unless_blank(sql: str, param: str) -> str:
    """Run ``sql`` only when ``:param`` is given (Datasette opens a canned query with blank params)."""
    return f"SELECT * FROM ({sql.strip()}\n) WHERE :{param} != ''"


EMPTY_FEED_ENTRY = (
    "No change recorded yet",
    "The archive holds no new block variant, conflict, removed article or roster change yet; "
    "they appear here as crawls and imports find them.",
)


def never_empty(feed_sql: str) -> str:
    """A feed's SQL that gives one entry saying nothing has changed yet when it has no row: datasette-atom takes the
    feed's time as the newest entry's (``max()`` of its rows), so a new archive's feed answered 500 to the reader
    who subscribed to it. The entry's time is the newest observation's (the start of 1970 in an empty archive)."""
    title, content = (text.replace("'", "''") for text in EMPTY_FEED_ENTRY)
    return (
        f"WITH feed AS ({feed_sql.strip()}\n)\n"
        "SELECT * FROM feed\nUNION ALL\n"
        f"SELECT 'tag:pa-archive,2025:nothing-yet', '{title}',\n"
        "       coalesce((SELECT max(observed_at) FROM observations), '1970-01-01T00:00:00Z'),\n"
        f"       '{content}', '/-/calendar'\n"
        "WHERE NOT EXISTS (SELECT 1 FROM feed)\nORDER BY atom_updated DESC"
    )


def web_links_only(sql: str, fallback: str = "/-/calendar") -> str:
    """``sql`` (a feed's: its ``atom_link`` column) with each link that is not the plugin's own (``/-/...``) nor an
    http(s) URL the pages would draw as a link replaced by ``fallback``: a removed article's link is its archived
    URL, which may be ``file:``, ``javascript:`` or ``data:`` (the entry's text still names it). The rule is
    ``pages.feed_link``'s (over ``pages.web_href``), which the plugin registers as the SQL function
    ``pa_feed_link``, so the feed and the pages cannot disagree on what is safe to link."""
    return (
        "SELECT atom_id, atom_title, atom_updated, atom_content,\n"
        f"       pa_feed_link(atom_link, '{fallback}') AS atom_link\n"
        f"FROM ({sql.strip()}\n)\nORDER BY atom_updated DESC"
    )


# --- descriptions --------------------------------------------------------------------

TITLE = "CSTO Parliamentary Assembly website archive"

DESCRIPTION = (
    "Every page fetched from or imported for the CSTO Parliamentary Assembly's websites "
    "(pacsto.org, paodkb.org) is stored here once per distinct version, split into its article "
    "and the delegation block repeated on every page. "
    "The facts the block states (seats, plenipotentiaries, websites) are extracted from each "
    "block version, so you can see when they changed and where snapshots disagree."
)

_TIMESTAMP = "ISO 8601, UTC"

# table -> (description, {column: description}); hidden tables are internal bookkeeping.
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "snapshots": (
        "One row per observation of a URL: an imported file or a crawled page, with what the fetch returned. "
        "Observations are never rewritten. A view of the observations table with each URL and content hash.",
        {
            "id": "Snapshot number (s12 in the CLI).",
            "url": "The page's URL (file:// for imported files).",
            "host": "Host name of the URL (pacsto.org, paodkb.org; empty for files).",
            "observed_at": f"When the page was fetched or the file last modified ({_TIMESTAMP}).",
            "source": "'import' (a file or JSON Lines record) or 'crawl'.",
            "origin": "The file path, JSON Lines line or crawl run that produced the snapshot.",
            "http_status": "HTTP status of the fetch (empty for imports).",
            "headers": "Response headers as a JSON object. Rebuilt for each row from its set (header_sets): a filter "
            "on it reads every observation's (about 5 s at a million, past Datasette's 1 s limit); filter on etag "
            "or last_modified, or query observations joined with header_sets.",
            "etag": "ETag response header, sent back on the next crawl.",
            "last_modified": "Last-Modified response header, sent back on the next crawl.",
            "page_type": "'article', 'listing', 'country', 'other' (reached through a redirect, never an article) "
            "or empty when unknown.",
            "content_sha256": "SHA-256 of the raw bytes; the same content is stored once in contents.",
            "status": "'new' (content differs from the URL's previous snapshot), 'seen_again', "
            "'not_modified' (HTTP 304), 'removed' (404/410, or an article's 301/308 to a page that is no article) "
            "or 'error'.",
        },
    ),
    "contents": (
        "Each distinct raw page or file, stored once (zstd-compressed) however often it was seen.",
        {
            "sha256": "SHA-256 of the raw bytes.",
            "kind": "'html' or 'text', told by the content.",
            "size": "Raw size in bytes.",
            "stored_size": "Compressed size in bytes.",
            "compression": "'zstd', 'zstd-dict:<id>' (compression_dicts), or 'zstd-ref:#<rowid>': a new version of "
            "a page compressed against the earlier content of its URL, the contents row of that rowid (only what "
            "changed is stored).",
            "encoding": "Character set the bytes were decoded with.",
            "encoding_evidence": "Why that character set: a byte order mark, the HTTP or <meta> charset, valid "
            "UTF-8, or detection when the declared charset did not decode cleanly.",
            "body": "The compressed raw bytes (download to inspect; never rendered).",
        },
    ),
    "pages": (
        "What the extractor read from each distinct content: title, date and the page's text lines.",
        {
            "content_sha256": "The content analysed (contents.sha256).",
            "extractor": "Version of the extraction code that produced this row.",
            "language": "Detected language ('en', 'ru', ...).",
            "title": "Title found on the page, if any.",
            "published": "Publication date found on the page (ISO date), never guessed.",
            "structured": "1 when a title/date or an article body was recognised, 0 for plain text.",
            "lines": "The page's text lines in reading order, JSON [[text, role, section], ...], compressed "
            "(zstd with the archive's dictionary: read them on the snapshot page).",
            "lines_compression": "How lines are stored: 'zstd', 'zstd-dict:<id>' (compression_dicts), "
            "'zstd-ref:#<rowid>' (against the lines of the earlier page of its URL, the pages row of that rowid), "
            "'zstd-own' or 'zstd-own:<id>' (against this page's own raw content, after the tail of dictionary <id>), "
            "or NULL for JSON text (an archive from before migration m013, until it is converted).",
        },
    ),
    "articles": (
        "One row per article: the pages whose article text is the same story, across URLs and edits.",
        {
            "id": "Article number (a3 in the CLI).",
            "title": "Latest known title.",
            "url": "URL the article was last seen under.",
            "status": "'live', or 'removed' when its URL last answered 404/410 or a permanent redirect (301/308) "
            "to a page that is no article.",
            "versions": "Number of distinct texts (article_versions).",
            "snapshots": "Number of snapshots showing the article.",
            "first_seen": f"Earliest snapshot showing it ({_TIMESTAMP}).",
            "last_seen": f"Latest snapshot showing it ({_TIMESTAMP}).",
        },
    ),
    "article_versions": (
        "Each distinct text of an article, without the delegation block. The search box here finds the versions "
        "holding every word typed in any of its forms, \"a phrase\", prefix*, OR and NOT; the 'search' query "
        "also shows where they matched. "
        "Follow 'diff' in the version column to compare a version with the one before.",
        {
            "id": "Version id: 'av-' and the start of the text's hash.",
            "article_id": "The article (articles.id).",
            "version": "1, 2, ... in order of first appearance; links to the diff with the previous version.",
            "title": "Title of the page(s) with this text.",
            "published": "Publication date stated on the page, if any.",
            "text": "The article text, block lines removed.",
            "similarity_to_previous": "Estimated Jaccard similarity (MinHash) to the previous version, 0-1.",
            "snapshots": "Number of snapshots with this text.",
            "first_seen": f"Earliest snapshot with this text ({_TIMESTAMP}).",
            "last_seen": f"Latest snapshot with this text ({_TIMESTAMP}).",
        },
    ),
    "blocks": (
        "Page furniture repeated across articles, above all the list of national delegations.",
        {
            "id": "Block number (b1 in the CLI).",
            "name": "Start of the block's most common first line.",
            "versions": "Number of distinct variants (block_versions).",
            "snapshots": "Number of snapshots showing the block.",
            "first_seen": f"Earliest snapshot showing it ({_TIMESTAMP}).",
            "last_seen": f"Latest snapshot showing it ({_TIMESTAMP}).",
        },
    ),
    "block_versions": (
        "Each distinct variant of a block, stored once, with when it was seen. "
        "Follow 'diff' in the version column to compare a variant with the one before.",
        {
            "id": "Variant id: 'bv-' and the start of the text's hash.",
            "block_id": "The block (blocks.id).",
            "version": "1, 2, ... in order of first appearance; links to the diff with the previous variant.",
            "language": "'en' (pacsto.org) or 'ru' (paodkb.org): facts are compared within one language.",
            "text": "The variant's lines.",
            "line_count": "Number of lines.",
            "snapshots": "Number of snapshots showing this variant.",
            "first_seen": f"Earliest snapshot showing it ({_TIMESTAMP}).",
            "last_seen": f"Latest snapshot showing it ({_TIMESTAMP}).",
        },
    ),
    "block_version_lines": (
        "The lines of each block variant, aligned: the same slot is the same line in every variant of a block.",
        {
            "block_version_id": "The variant (block_versions.id).",
            "line_no": "Position of the line in this variant, from 0.",
            "slot": "Aligned position shared by all variants of the block.",
            "text": "The line.",
        },
    ),
    "block_line_changes": (
        "What changed in each block variant compared with the previous one, line by line, named by its facts.",
        {
            "block_version_id": "The later variant (block_versions.id).",
            "previous_version_id": "The variant before it.",
            "slot": "Aligned line position (block_version_lines.slot).",
            "kind": "'conflict' (a fact has another value), 'missing' (a value went empty), 'filled', "
            "'reworded' (other words, same facts), 'changed', 'added' or 'removed'.",
            "old_text": "The line in the previous variant.",
            "new_text": "The line in this variant.",
            "detail": "The facts involved, e.g. 'Kyrgyzstan seats_total: 7 → 6'.",
        },
    ),
    "content_blocks": (
        "Which block variants each distinct content shows (the content by its row in pages: join "
        "pages ON pages.rowid = page_id for its content_sha256, as the snapshot_facts view does).",
        {
            "page_id": "The content: its row in pages (pages.rowid, whose content_sha256 names it).",
            "block_version_id": "A block variant it shows (block_versions.id).",
        },
    ),
    "content_articles": (
        "Which article version each distinct content carries (the content by its row in pages: join "
        "pages ON pages.rowid = page_id for its content_sha256, as the snapshots_extracted view does).",
        {
            "page_id": "The content: its row in pages (pages.rowid, whose content_sha256 names it).",
            "article_version_id": "Its article version (article_versions.id).",
        },
    ),
    "facts": (
        "The facts each block variant states: per delegation, seats, plenipotentiary and websites.",
        {
            "block_version_id": "The variant stating it (block_versions.id).",
            "delegation": "Country of the delegation, in English.",
            "field": "'seats_total', 'seats.<chamber>', 'plenipotentiary' or 'website.<body>'.",
            "value": "The stated value; empty when the line is there but says nothing.",
            "line_no": "Line of the variant the fact comes from.",
        },
    ),
    "snapshot_facts": (
        "Every snapshot with each fact its page stated (view).",
        {
            "snapshot_id": "The snapshot (snapshots.id).",
            "url": "Its URL.",
            "observed_at": f"When it was observed ({_TIMESTAMP}).",
            "language": "Language of the pages that stated it ('en' or 'ru'); conflicts are within one language.",
            "delegation": "Country of the delegation.",
            "field": "Which fact (see facts.field).",
            "value": "The value stated in this snapshot.",
            "block_version_id": "The block variant it comes from.",
        },
    ),
    "fact_values": (
        "Each value stated for each delegation's field, with how many snapshots stated it and when (view).",
        {
            "language": "Language of the pages that stated it ('en' or 'ru'); conflicts are within one language.",
            "delegation": "Country of the delegation.",
            "field": "Which fact (see facts.field).",
            "value": "One stated value ('' when empty).",
            "snapshots": "Number of snapshots stating this value.",
            "first_seen": f"Earliest of those snapshots ({_TIMESTAMP}).",
            "last_seen": f"Latest of those snapshots ({_TIMESTAMP}).",
        },
    ),
    "fact_periods": (
        "Facts through time: each run of one value of a delegation's field, in observation order across the "
        "snapshots stating it, so 7 -> 6 -> 7 is three periods (kept by every refresh; `pa-archive facts --periods`).",
        {
            "language": "Language of the pages that stated it ('en' or 'ru'); conflicts are within one language.",
            "delegation": "Country of the delegation.",
            "field": "Which fact (see facts.field).",
            "period": "1, 2, ...: the runs of one value, in time order.",
            "value": "The value stated throughout the period ('' when empty).",
            "snapshots": "Number of snapshots in the period.",
            "first_snapshot_id": "The period's first snapshot (snapshots.id).",
            "first_seen": f"When it was observed ({_TIMESTAMP}).",
            "last_snapshot_id": "The period's last snapshot.",
            "last_seen": f"When it was observed ({_TIMESTAMP}).",
            "first_block_version_id": "The block variant of the first snapshot.",
            "last_block_version_id": "The block variant of the last snapshot: diff it with the next period's first.",
        },
    ),
    "fact_segments": (
        "The archive's history per language as runs of observations (every page, in time order) stating the "
        "same facts: a few rows when the site is consistent, one per flip when it is not (kept by every refresh).",
        {
            "language": "Language of the pages ('en' or 'ru').",
            "first_observed_at": f"The run's first observation ({_TIMESTAMP}).",
            "first_snapshot_id": "Its snapshot (snapshots.id).",
            "last_observed_at": f"The run's last observation ({_TIMESTAMP}).",
            "last_snapshot_id": "Its snapshot.",
            "snapshots": "Observations in the run.",
            "statement": "Hash of the facts stated: two block variants saying the same (a rewording) share it.",
            "first_block_versions": "Block variants stating the facts in the first observation (comma-separated).",
            "last_block_versions": "... and in the last.",
        },
    ),
    "url_runs": (
        "Each page's observations as runs showing the same block variants: what a page stated at any moment, "
        "one row per change (kept by every refresh; `pa-archive facts --as-of`). A view of url_runs_by_url_id "
        "with each URL's text.",
        {
            "url": "The page.",
            "first_observed_at": f"The run's first observation ({_TIMESTAMP}).",
            "first_snapshot_id": "Its snapshot (snapshots.id).",
            "last_observed_at": f"The run's last observation ({_TIMESTAMP}).",
            "last_snapshot_id": "Its snapshot.",
            "snapshots": "Observations in the run (failed fetches are left out).",
            "block_versions": "The block variants the page showed (comma-separated; empty: none).",
            "stating": "0 when the page was removed (404/410, a permanent redirect away) or had no content: it "
            "stated nothing.",
        },
    ),
    "block_version_urls": (
        "Each block variant with every page that showed it: how often and when (kept by every refresh). A view "
        "of block_version_urls_by_url_id with each URL's text.",
        {
            "block_version_id": "The variant (block_versions.id).",
            "url": "A page that showed it.",
            "snapshots": "Observations of that page showing it.",
            "first_observed_at": f"First of them ({_TIMESTAMP}).",
            "first_snapshot_id": "Its snapshot (snapshots.id).",
            "last_observed_at": f"Last of them ({_TIMESTAMP}).",
            "last_snapshot_id": "Its snapshot.",
        },
    ),
    "url_runs_by_url_id": (
        "The rows of url_runs as stored, naming the page by urls.id (read url_runs).",
        {"url_id": "The page (urls.id)."},
    ),
    "block_version_urls_by_url_id": (
        "The rows of block_version_urls as stored, naming the page by urls.id (read block_version_urls).",
        {"url_id": "The page (urls.id)."},
    ),
    "conflicts": (
        "Facts stated with different non-empty values in different snapshots: one row per value (view).",
        {
            "language": "Language of the pages that stated it ('en' or 'ru'); conflicts are within one language.",
            "delegation": "Country of the delegation.",
            "field": "Which fact disagrees.",
            "value": "One of the competing values.",
            "snapshots": "Number of snapshots stating this value.",
            "first_seen": f"Earliest snapshot stating it ({_TIMESTAMP}).",
            "last_seen": f"Latest snapshot stating it ({_TIMESTAMP}).",
        },
    ),
    "missing_values": (
        "Facts whose line is present but empty in some snapshots: missing, not conflicting (view).",
        {
            "language": "Language of the pages that stated it ('en' or 'ru'); conflicts are within one language.",
            "delegation": "Country of the delegation.",
            "field": "Which fact is empty.",
            "snapshots": "Number of snapshots where it is empty.",
            "first_seen": f"Earliest of those snapshots ({_TIMESTAMP}).",
            "last_seen": f"Latest of those snapshots ({_TIMESTAMP}).",
        },
    ),
    "snapshots_extracted": (
        "Snapshots with what was extracted from them: article version and block variants (view).",
        {
            "id": "The snapshot (snapshots.id).",
            "url": "Its URL.",
            "observed_at": f"When it was observed ({_TIMESTAMP}).",
            "source": "'import' or 'crawl'.",
            "http_status": "HTTP status (empty for imports).",
            "status": "'new', 'seen_again', 'not_modified', 'removed' or 'error'.",
            "page_type": "'article', 'listing', 'country', 'other' or empty.",
            "content_sha256": "The content (contents.sha256).",
            "article_version_id": "Article version it carries.",
            "article_id": "Article it belongs to.",
            "block_version_ids": "Block variants it shows, comma-separated.",
        },
    ),
    "crawl_runs": (
        "One row per run of the crawler: when, how it ended, what it fetched and what changed. "
        "A run's snapshots have origin 'crawl:<id>'.",
        {
            "id": "Run number; its snapshots have origin 'crawl:<id>'.",
            "started_at": f"When the run started ({_TIMESTAMP}).",
            "finished_at": f"When it ended ({_TIMESTAMP}); empty while running.",
            "status": "'running', 'finished', 'failed' or 'interrupted' (the process ended without closing the run).",
            "start_urls": "The URLs the run started from, JSON list.",
            "pages_fetched": "Responses handed to the archive (HTTP 304s included).",
            "new": "URLs seen for the first time.",
            "changed": "Known URLs with new content.",
            "unchanged": "Pages answering 304 or with byte-identical content.",
            "removed": "Pages answering 404/410, or an article's 301/308 to a page that is no article: their "
            "articles are marked removed.",
            "failed": "Pages that could not be fetched or stored.",
            "errors": "JSON list of {url, error}, one per failure.",
            "stats": "JSON: Scrapy's stats, the settings and the changes of the run.",
            "resumed_from": "The interrupted run this one continues.",
            "jobdir": "Scrapy job directory that makes the run resumable.",
            "pid": "Process id of the crawl.",
        },
    ),
    # internal bookkeeping, hidden from the table list
    "observations": (
        "The rows behind the snapshots view, each naming its URL by its row in urls and its content by its row in "
        "contents instead of their text (most of a row's size). Query snapshots: the same rows (internal).",
        {
            "id": "Snapshot number (snapshots.id).",
            "url_id": "The URL's row in urls (its text: snapshots.url).",
            "content_id": "The content's row in contents (its hash: snapshots.content_sha256); empty: no body.",
            "header_set": "The response's set of headers in header_sets; empty: headers kept whole here, or none.",
            "headers": "The response's headers that vary (Date, Content-Length...) as JSON, or all of them where "
            "header_set is empty; snapshots.headers gives them whole.",
        },
    ),
    "header_sets": (
        "Each set of response headers observed, once, the values that vary from one response to the next "
        "(Date, Content-Length, ETag, Last-Modified...) null (internal; snapshots.headers gives them whole).",
        {
            "id": "The set's number (observations.header_set).",
            "digest": "The first 16 bytes of the SHA-256 of headers: how the writer finds a set it has.",
            "headers": "The headers as a JSON object, in the response's order.",
            "etag_key": "How the set spells ETag (where snapshots.headers puts snapshots.etag back).",
            "modified_key": "How the set spells Last-Modified.",
        },
    ),
    "urls": (
        "Each URL observed, once: the observations name it by its id (internal; snapshots shows the URL).",
        {
            "id": "The URL's number (observations.url_id).",
            "url": "The page's URL (file:// for imported files).",
            "host": "Host name of the URL (pacsto.org, paodkb.org; empty for files).",
        },
    ),
    "compression_dicts": (
        "zstd dictionaries trained on the archive's own pages, used to compress raw HTML and pages' lines (internal).",
        {
            "id": "Dictionary number: contents.compression and pages.lines_compression say 'zstd-dict:<id>'.",
            "created_at": "When it was trained (UTC).",
            "samples": "How many HTML contents (or pages' lines) it was trained on.",
            "contents_at": "How many HTML contents the archive held then.",
            "level": "zstd level what it compresses is compressed at with it.",
            "dict": "The dictionary itself.",
            "purpose": "What it compresses: 'html' (contents.body) or 'lines' (pages.lines).",
        },
    ),
    "archive_state": (
        "Internal state: derived_snapshot_id (the last snapshot the derived tables include: they lag behind "
        "the snapshots while it is not the newest), derive_engine and stage:<name> (what built them), made_by.",
        {"key": "Flag name.", "value": "Flag value."},
    ),
    "article_versions_stems": (
        "Article titles and texts as Snowball stems, computed on demand (internal): the content of the stemmed "
        "full-text index article_versions_stemmed, which keeps no copy of its own.",
        {
            "version_rowid": "rowid of the article version.",
            "title": "The title's stems.",
            "text": "The text's stems.",
        },
    ),
    "_sqlite_migrations": (
        "Schema migrations applied to this archive (internal).",
        {
            "id": "Row number.",
            "migration_set": "Set of migrations ('pa-archive').",
            "name": "Migration applied.",
            "applied_at": "When it was applied.",
        },
    ),
}

# Rosters and people (dedupe.archive.rosters): the country pages' members per delegation and site.
TABLES.update(
    {
        "roster_versions": (
            "Each distinct roster a country page stated (per delegation and site): its seats, plenipotentiary and "
            "members; /-/roster shows them with who joined and left when.",
            {
                "id": "Roster version id: 'rv-' and the start of the roster's hash.",
                "delegation": "Country of the delegation, in English.",
                "language": "'en' (pacsto.org) or 'ru' (paodkb.org).",
                "version": "1, 2, ... per delegation and site, in order of first appearance.",
                "seats": "Seats the page's delegation sentence states, JSON {field: count}.",
                "plenipotentiary": "The plenipotentiary representative the page names (empty: none).",
                "members": "Number of names on the roster line.",
                "snapshots": "Number of snapshots stating this roster.",
                "first_seen": f"Earliest snapshot stating it ({_TIMESTAMP}).",
                "last_seen": f"Latest snapshot stating it ({_TIMESTAMP}).",
                "first_snapshot_id": "The snapshot it was first seen in.",
            },
        ),
        "roster_members": (
            "The members each roster version lists, in roster order, with what their biography states.",
            {
                "roster_version_id": "The roster (roster_versions.id).",
                "ord": "Place on the roster line, from 1.",
                "name": "The name as the roster line writes it.",
                "full_name": "The name as the biography writes it, often with a patronymic (empty: the same).",
                "person_key": "One person across scripts, word order and patronymics (dedupe.people).",
                "position": "Position the biography states (chairman of a chamber, ...); empty when none.",
                "chamber": "Chamber the biography names (a slug of the facts' chambers); empty when none.",
            },
        ),
        "content_rosters": (
            "Which archived content states which roster.",
            {
                "content_sha256": "The content (contents.sha256).",
                "roster_version_id": "The roster it states (roster_versions.id).",
            },
        ),
        "roster_memberships": (
            "Each member's periods in a delegation, per site: joined when first observed listed, left when first "
            "observed not listed on a later roster (empty: still listed).",
            {
                "delegation": "Country of the delegation, in English.",
                "language": "'en' (pacsto.org) or 'ru' (paodkb.org).",
                "person_key": "The person (roster_members.person_key).",
                "period": "1, 2, ...: listed again after leaving starts a new period.",
                "name": "The name as listed when joining.",
                "joined": f"First observed listed ({_TIMESTAMP}).",
                "joined_snapshot_id": "The snapshot that first listed them.",
                "last_listed": f"Last observed listed ({_TIMESTAMP}).",
                "last_listed_snapshot_id": "The last snapshot listing them.",
                "left": f"First observed not listed afterwards ({_TIMESTAMP}); empty while listed.",
                "left_snapshot_id": "The snapshot that first did not list them.",
            },
        ),
        "roster_changes": (
            "What changed between consecutive rosters of a delegation on one site: who joined, who left, "
            "plenipotentiary and seats.",
            {
                "delegation": "Country of the delegation, in English.",
                "language": "'en' (pacsto.org) or 'ru' (paodkb.org).",
                "snapshot_id": "The first snapshot stating the new roster.",
                "observed_at": f"When it was observed ({_TIMESTAMP}).",
                "roster_version_id": "The new roster (roster_versions.id).",
                "previous_version_id": "The roster before it.",
                "kind": "'joined', 'left', 'plenipotentiary' or 'seats'.",
                "subject": "The person (person_key), or the seats field.",
                "old_value": "Before: the name that left, the former plenipotentiary or seat count.",
                "new_value": "After: the name that joined, the new plenipotentiary or seat count.",
            },
        ),
    }
)

HIDDEN = {
    "observations",
    "header_sets",
    "urls",
    "url_runs_by_url_id",
    "block_version_urls_by_url_id",
    "archive_state",
    "compression_dicts",
    "article_versions_stems",
    "_sqlite_migrations",
}

FACETS: dict[str, list[Any]] = {
    # no default facets on snapshots: each is a scan of every observation (a million: seconds); add them on
    # demand (?_facet=host) on a small archive
    "articles": ["status"],
    "block_line_changes": ["kind"],
    "facts": ["delegation", "field"],
    "fact_values": ["delegation", "field"],
    "fact_periods": ["delegation", "field"],
    "conflicts": ["delegation", "field"],
    "missing_values": ["delegation", "field"],
    "snapshots_extracted": ["source", "status", "page_type"],
    "crawl_runs": ["status"],
}

EXTRA: dict[str, dict[str, Any]] = {
    # a view (m027): sorted by these through their indexes; by the URL or the hash it would sort a million rows
    "snapshots": {"sort_desc": "observed_at", "sortable_columns": ["id", "observed_at"]},
    "articles": {"label_column": "title", "sort_desc": "last_seen"},
    "blocks": {"label_column": "name"},
    "crawl_runs": {"sort_desc": "started_at"},
    # Datasette sorts a table by one column: versions by their block (or article), each block's
    # variants then by id; the "block_variants" query orders them by block and version with dates.
    "block_versions": {"sort": "block_id"},
    "article_versions": {"sort": "article_id"},  # its search box: table_search, through the stemmed index
    "block_line_changes": {"sort": "block_version_id"},
}


def last_run_query(has_crawl_runs: bool) -> dict[str, Any]:
    """The canned query "last_run_changes", by crawl run when the archive records runs."""
    if has_crawl_runs:
        return {
            "title": "What changed in the last crawl run",
            "description": "Pages of the last crawl run, with the interrupted runs it resumed, that brought "
            "something: new or changed pages, new article versions, new block variants, removed "
            "pages and failed fetches. Give run (a crawl_runs id) to look at an earlier run.",
            "sql": queries.LAST_RUN_SQL.strip(),
            "params": ["run"],
        }
    return {
        "title": "What changed in the last crawl run",
        "description": "This archive has no crawl_runs table yet: pages observed since the date you give in "
        "since (by default the last day anything was observed) that brought something new.",
        "sql": queries.SINCE_SQL.strip(),
        "params": ["since"],
    }


def canned_queries(has_crawl_runs: bool = True) -> dict[str, dict[str, Any]]:
    """The named questions, in the order the database page lists them."""
    found = {
        "conflicting_facts": {
            "title": "Conflicting facts",
            "description": "Each delegation fact stated with different non-empty values in different snapshots: "
            "every competing value, how many snapshots stated it, first and last seen. "
            "Same query as `pa-archive conflicts`.",
            "sql": queries.CONFLICTS_SQL.strip(),
        },
        "missing_facts": {
            "title": "Missing values (not conflicts)",
            "description": "Facts whose line is present but empty in some snapshots (not conflicts).",
            "sql": queries.MISSING_SQL.strip(),
        },
        "seat_counts": {
            "title": "Seat counts over time",
            "description": "Each delegation's seat counts (total and per chamber) as the snapshots stated them, "
            "per language (en: pacsto.org, ru: paodkb.org), "
            "in time order: the first value, every change (kind 'change', with the value before "
            "and the block variants to diff) and the last observation, read from fact_periods; n counts the "
            "observations stating facts. The seats timeline (/-/timeline) draws these rows. Leave delegation "
            "empty for all.",
            "sql": queries.SEAT_CHANGES_SQL.strip(),
            "params": ["delegation"],
        },
        "block_variants": {
            "title": "Delegation block: variants over time",
            "description": "Every variant of each block, oldest first, with how many snapshots showed it and when. "
            "Follow 'diff' to compare a variant with the previous one. Same as `pa-archive blocks`.",
            "sql": queries.BLOCK_VERSIONS_SQL.strip(),
        },
        "block_changes": {
            "title": "Delegation block: what changed between variants",
            "description": "Line by line, what each variant changed from the one before: conflict, missing, filled, "
            "reworded, changed, added or removed, with the facts involved.",
            "sql": queries.BLOCK_CHANGES_SQL.strip(),
        },
        "last_run_changes": last_run_query(has_crawl_runs),
        "url_versions": {
            "title": "Every version of one URL",
            "description": "All snapshots of the URL you give, oldest first, with the article version each carried. "
            "Same as `pa-archive history <URL>`.",
            "sql": queries.URL_VERSIONS_SQL.strip(),
            "params": ["url"],
        },
        "removed_articles": {
            "title": "Removed articles",
            "description": "Articles whose URL last answered 404 or 410, most recently removed first.",
            "sql": queries.REMOVED_ARTICLES_SQL.strip(),
        },
        "block_version_snapshots": {
            "title": "Pages showing one block variant",
            "description": "The pages showing the block variant id you give, each with its latest snapshot showing "
            "it (and the first, and how many), newest first; each opens on its snapshot page with the archived copy.",
            "sql": unless_blank(queries.BLOCK_VERSION_SNAPSHOTS_SQL, "id"),
            "params": ["id"],
        },
        "fact_changes": {
            "title": "Changes of facts (Atom feed)",
            "description": "New block variants with the facts they changed, new conflicts, removed articles and roster "
            "changes (members who joined or left), newest first: the changes `--notify` alerts on. Add .atom to this "
            "page's address for a feed.",
            "sql": web_links_only(never_empty(queries.FACT_CHANGES_FEED_SQL)),  # every link, its own too
        },
        "search": {
            "title": "Full-text search over articles",
            "description": "Article versions matching q in any word form (English and Russian Snowball stems: "
            '"парламент" finds "парламента"; SQLite FTS5: words, "a phrase", prefix*, OR, NOT), '
            "best first, with a snippet where [matches] are bracketed. "
            f"Nothing runs until q is given; only its first {MAX_QUERY_WORDS} words are searched.",
            "sql": unless_blank(queries.SEARCH_SQL, "q"),
            "params": ["q"],
        },
    }
    for query in found.values():
        query["hide_sql"] = True  # the question first; "Show SQL" opens the query
    return found


def _route(database: str) -> str:
    """The database's URL segment, encoded as Datasette encodes it."""
    try:
        from datasette.utils import tilde_encode
    except ImportError:  # metadata printed without Datasette installed
        return quote(database, safe="")
    return tilde_encode(database)


def _home_html(database: str) -> str:
    route = html.escape(_route(database))
    links = [
        ("-/conflicts", "conflicting facts with their evidence"),
        (f"{route}/conflicting_facts", "the same as a query"),
        ("-/timeline", "seats timeline"),
        ("-/calendar", "captures of a URL"),
        ("-/roster", "delegation rosters"),
        ("-/parity", "English vs Russian"),
        (f"{route}/fact_changes", "changes of facts (Atom feed)"),
        (f"{route}/block_variants", "delegation block variants"),
        (f"{route}/last_run_changes", "what changed in the last crawl"),
        (f"{route}/search", "search articles"),
    ]
    items = " · ".join(f'<a href="{href}">{text}</a>' for href, text in links)
    return f"<p>{DESCRIPTION}</p>\n<p>Start with: {items}.</p>"


def metadata(database: str = "archive", tables: Collection[str] | None = None) -> dict[str, Any]:
    """Datasette metadata for an archive served as ``database`` (its file name without .db).

    ``tables`` are the tables and views the file has; by default those of the current schema.
    """
    present = set(tables) if tables is not None else schema_tables()
    table_meta: dict[str, Any] = {}
    for name, (description, columns) in TABLES.items():
        entry: dict[str, Any] = {"description": description, "columns": dict(columns)}
        if name in HIDDEN:
            entry["hidden"] = True
        if name in FACETS:
            entry["facets"] = FACETS[name]
        entry.update(EXTRA.get(name, {}))
        table_meta[name] = entry
    for name in schema.DERIVE_STATE_TABLES:  # the incremental derivation's state: internal, hidden
        table_meta[name] = {
            "description": "State of the incremental derivation (internal; rebuilt with the "
            "derived tables by `pa-archive rebuild`).",
            "hidden": True,
        }
    return {
        "title": TITLE,
        "description_html": _home_html(database),
        "source": "pacsto.org and paodkb.org",
        "source_url": "https://pacsto.org/",
        "databases": {
            database: {
                "description": DESCRIPTION,
                "tables": table_meta,
                "queries": canned_queries(has_crawl_runs="crawl_runs" in present),
            }
        },
    }


def schema_tables() -> set[str]:
    """Tables and views of a freshly migrated archive (the current schema)."""
    db = Database(memory=True)
    migrations.migrate(db)
    return set(db.table_names()) | set(db.view_names())


def archive_tables(path: str | Path, query: str = "mode=ro") -> set[str]:
    """Tables and views of an archive file, read without writing to it (opened with ``query``: ``mode=ro``, or
    ``mode=ro&immutable=1`` when its folder cannot hold the -shm that ``mode=ro`` would make)."""
    conn = connect_read_only(path, query=query)
    try:
        return {row[0] for row in conn.execute(queries.TABLES_AND_VIEWS_SQL)}
    finally:
        conn.close()


def to_yaml(data: dict[str, Any]) -> str:
    """YAML for ``datasette -m`` (PyYAML comes with Datasette, so it is imported only here)."""
    import yaml

    header = (
        "# Generated by `python -m datasette_pa_archive.metadata` from datasette_pa_archive/metadata.py: do not edit.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def main(argv: list[str]) -> None:
    """Print metadata YAML: for archive.db, or for the archive file named (its name and tables)."""
    if argv:
        path = Path(argv[0])
        print(to_yaml(metadata(path.stem, archive_tables(path))), end="")
    else:
        print(to_yaml(metadata()), end="")


if __name__ == "__main__":
    main(sys.argv[1:])
