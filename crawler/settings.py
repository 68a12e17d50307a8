"""Scrapy settings of the pa-archive crawler: polite by default, overridable everywhere.

Precedence, lowest first: the values below, then an environment variable named ``PA_`` + the
setting's name (``PA_ARCHIVE_DB=/srv/pa/archive.db``, ``PA_DOWNLOAD_DELAY=2``,
``PA_ROBOTSTXT_OBEY=false``; JSON values such as numbers, booleans and lists are parsed), then
``scrapy crawl -s NAME=VALUE`` or ``pa-archive crawl -s NAME=VALUE``, then the flags of
``pa-archive crawl`` (``--db``, ``--jobdir``).
"""

from __future__ import annotations

import json
import math
import os

from scrapy.settings import SETTINGS_PRIORITIES

import crawler  # lower-case names are not settings: crawler.START_URL is the default
import dedupe

BOT_NAME = "pa_archive"
SPIDER_MODULES = ["crawler.spiders"]
COMMANDS_MODULE = "crawler.commands"  # `scrapy crawl` checks the settings first and exits 75 on a busy archive
NEWSPIDER_MODULE = "crawler.spiders"

# --- where the crawl goes ---------------------------------------------------------------
# The archive every response is stored in (the same ingestion as `pa-archive import`).
ARCHIVE_DB = dedupe.DEFAULT_DB
# Start page(s) when the spider gets no start_url(s) argument; their hosts are the allowed hosts.
START_URLS = [crawler.START_URL]
# Revisit article and country pages already in the archive (a vanished one answers 404 and is
# recorded as removed), not only those the listings still link.
REVISIT_ARCHIVED = True
# How old an archived page's last observation must be before a run requests it again: a duration
# ("7d", "12h", "90m", "1d12h") or seconds. Each run still reads listing page 1 (new articles, the
# delegation block) and the listing down to the first page whose articles are all archived, and
# fetches every page it has never archived; an edit or a removal is seen within REVISIT_AFTER.
# 0 = every archived page, every run (`pa-archive crawl --revisit-after 0` forces a full revisit).
REVISIT_AFTER = "7d"
# Read /sitemap.xml of each start host when there is one (it is not needed: listings suffice).
SITEMAP_FOLLOW = True
# Bounds on sitemaps: how deep sitemap indexes may nest (sitemap.xml itself is depth 0) and how many sitemap
# files one run reads in all; a sitemap beyond either is skipped with a log line (the listings suffice).
SITEMAP_MAX_DEPTH = 2
SITEMAP_MAX_FILES = 50
# Request an archived page at once when the sitemap's <lastmod> is later than its last observation
# (false for a site whose lastmod is always "now").
SITEMAP_LASTMOD = True
# Bounds: listing pages (/events?page=N) per listing, and month pages of the news calendar
# (/events?month=M&year=YYYY), which is never followed before the site's first news.
LISTING_MAX_PAGES = 5000
CALENDAR_MAX_PAGES = 300
CALENDAR_EARLIEST = crawler.CALENDAR_EARLIEST
# Conditional requests from the archive's validators (If-None-Match / If-Modified-Since).
CONDITIONAL_REQUESTS = True

# --- politeness ----------------------------------------------------------------------------
USER_AGENT = "pa-archive/0.1 (+https://github.com/pa-archive/pa-archive; archive of the CSTO PA news site)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy >= 2.19 runs a code-execution HTTP server by default; not for scheduled runs

# --- failures --------------------------------------------------------------------------------
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Seconds before retry n: RETRY_BACKOFF_BASE * 2 ** (n - 1), at most RETRY_BACKOFF_MAX.
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 60.0
# A 429/503 whose Retry-After asks for longer than the backoff is retried after that wait, at most this long
# (a site asking for a day is given up after the retries, not waited for); no request goes to that host meanwhile.
RETRY_AFTER_MAX = 600.0
# Scrapy's list without the DNS failures: a name that does not resolve will not resolve 2 s later either
# (and a crawl with no network spent 28 s retrying it); refused connections, timeouts and losses are retried.
RETRY_EXCEPTIONS = [
    "scrapy.exceptions.DownloadConnectionRefusedError",
    "scrapy.exceptions.DownloadFailedError",
    "scrapy.exceptions.DownloadTimeoutError",
    "scrapy.exceptions.ResponseDataLossError",
    "twisted.internet.error.ConnectionDone",
    "twisted.internet.error.ConnectError",
    "twisted.internet.error.ConnectionLost",
    "scrapy.core.downloader.handlers.http11.TunnelError",
    "builtins.ConnectionError",  # reset, aborted (OSError as a whole would take DNS failures in again)
    "builtins.TimeoutError",
]
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024  # 1 byte to dedupe.document.MAX_BODY_BYTES (50 MB); 0 (no cap) is refused
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True  # a truncated body is an error (retried), never a page
REDIRECT_MAX_TIMES = 5
METAREFRESH_ENABLED = False
DEPTH_LIMIT = 0  # the listing and calendar bounds above are explicit; depth would cut the listing short
# A run whose failed pages exceed this share of the pages it tried is 'failed' (exit status 1).
CRAWL_MAX_FAILED_RATIO = 0.5
# The site died mid-run: after this many pages of one host in a row fail to connect (refused, timed out,
# DNS) with no answer from it in between, the crawl stops as 'site_unreachable' (the run is 'interrupted',
# the next run goes on) instead of retrying every page left with backoff. One page failing all its retries
# counts once. 0 = never stop.
CRAWL_MAX_CONNECT_FAILURES = 10

# --- components ----------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's offsite filter drops redirects silently and lets dont_filter requests through;
    # ours refuses every request off the allowed hosts, before robots.txt is even asked.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.middlewares.AllowedHostsMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.ArchiveMiddleware": 560,
    # after the retry (550) and the archive's skip of stored pages (560): a Retry-After pauses the whole host
    "crawler.middlewares.HostPauseMiddleware": 565,
    "crawler.middlewares.SiteBreakerMiddleware": 570,  # after the retry (550): sees every attempt's failure
}
ITEM_PIPELINES = {"crawler.pipelines.ArchivePipeline": 300}
EXTENSIONS = {"crawler.runs.CrawlRunExtension": 0}
# How the archive is written: "process" (a writer process fed by a queue: analysis never slows
# the crawl) or "inline" (in the crawl's own thread; simpler to debug).
ARCHIVE_WRITER = "process"
# How the writer process starts: "fork" (default where available: it inherits the run's lock, so a
# killed crawl's writer keeps the archive locked until it has stopped too) or "spawn".
ARCHIVE_WRITER_START = "fork"

# --- Scrapy housekeeping ---------------------------------------------------------------------
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"


# Checked before a crawl starts (`pa-archive crawl` exits with status 2 and the first problem): whole
# numbers and numbers with their lowest allowed value, flags, and settings with a few allowed values.
_WHOLE = {
    "LISTING_MAX_PAGES": 0,
    "CALENDAR_MAX_PAGES": 0,
    "CONCURRENT_REQUESTS": 1,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    "RETRY_TIMES": 0,
    "REDIRECT_MAX_TIMES": 0,
    "DEPTH_LIMIT": 0,
    "DOWNLOAD_MAXSIZE": 1,
    "DOWNLOAD_WARNSIZE": 0,
    "SITEMAP_MAX_DEPTH": 0,
    "SITEMAP_MAX_FILES": 0,
    "CRAWL_MAX_CONNECT_FAILURES": 0,
}
_NUMBER = {
    "DOWNLOAD_DELAY": 0,
    "DOWNLOAD_TIMEOUT": 0,
    "AUTOTHROTTLE_START_DELAY": 0,
    "AUTOTHROTTLE_MAX_DELAY": 0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 0,
    "RETRY_BACKOFF_BASE": 0,
    "RETRY_BACKOFF_MAX": 0,
    "RETRY_AFTER_MAX": 0,
    "CRAWL_MAX_FAILED_RATIO": 0,
    "PROGRESS_INTERVAL": 0,
}
_FLAGS = (
    "ROBOTSTXT_OBEY",
    "AUTOTHROTTLE_ENABLED",
    "SITEMAP_FOLLOW",
    "SITEMAP_LASTMOD",
    "REVISIT_ARCHIVED",
    "CONDITIONAL_REQUESTS",
    "COOKIES_ENABLED",
    "DOWNLOAD_FAIL_ON_DATALOSS",
    "RETRY_ENABLED",
)
_CHOICES = {
    "ARCHIVE_WRITER": ("process", "inline"),
    "ARCHIVE_WRITER_START": ("fork", "spawn", "forkserver"),
    "LOG_LEVEL": ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
}


def setting_errors(settings) -> list[str]:
    """One sentence per setting whose value the crawl could not use (``-s`` or ``PA_`` values included)."""
    from crawler.revisit import parse_duration
    from crawler.spiders.pacsto import year_month
    from dedupe.document import MAX_BODY_BYTES

    # Scrapy reads a DOWNLOAD_MAXSIZE of 0 as "no cap": a response of any size would reach the archive.
    highest = {"DOWNLOAD_MAXSIZE": MAX_BODY_BYTES, "CRAWL_MAX_FAILED_RATIO": 1}
    parsed = {"CALENDAR_EARLIEST": (year_month, crawler.CALENDAR_EARLIEST), "REVISIT_AFTER": (parse_duration, "7d")}
    errors = [_whole_error(name, settings.get(name), low, highest.get(name)) for name, low in _WHOLE.items()]
    errors += [_number_error(name, settings.get(name), low, highest.get(name)) for name, low in _NUMBER.items()]
    errors += [_flag_error(name, settings) for name in _FLAGS]
    errors += [_choice_error(name, settings.get(name), allowed) for name, allowed in _CHOICES.items()]
    errors += [_parse_error(parse, settings.get(name, default)) for name, (parse, default) in parsed.items()]
    return [_from_where(error, settings) for error in errors if error]


def _from_where(error: str, settings) -> str:
    """Name the environment variable when the value came from one: an operator who set ``PA_DOWNLOAD_DELAY``
    in a cron job's environment and never typed ``DOWNLOAD_DELAY`` must be told which line to mend."""
    name = error.split(" ", 1)[0]
    from_env = f"PA_{name}" in os.environ and settings.getpriority(name) == SETTINGS_PRIORITIES["project"]
    return f"{error[:-1]} (from the environment variable PA_{name})." if from_env else error


def _bounds(lowest: float, highest: float | None) -> str:
    return f"of at least {lowest}" if highest is None else f"between {lowest} and {highest}"


def _within(number: float, lowest: float, highest: float | None) -> bool:
    """A finite number from ``lowest`` to ``highest`` (no upper bound when None)."""
    return math.isfinite(number) and number >= lowest and (highest is None or number <= highest)


def _whole_error(name: str, value: object, lowest: int, highest: int | None) -> str | None:
    try:
        if value is None or _within(int(str(value)), lowest, highest):
            return None
    except ValueError:
        pass
    return f"{name} must be a whole number {_bounds(lowest, highest)}, not {str(value)!r}."


def _number_error(name: str, value: object, lowest: float, highest: float | None) -> str | None:
    try:
        if value is None or _within(float(str(value)), lowest, highest):
            return None
    except ValueError:
        pass
    return f"{name} must be a number {_bounds(lowest, highest)}, not {str(value)!r}."


def _flag_error(name: str, settings) -> str | None:
    try:
        settings.getbool(name)
    except (ValueError, TypeError):  # TypeError: a list or dict given through the API
        return f"{name} must be true or false (or 1 or 0), not {str(settings.get(name))!r}."
    return None


def _choice_error(name: str, value: object, allowed: tuple[str, ...]) -> str | None:
    if value in (None, "") or (name == "LOG_LEVEL" and isinstance(value, int)):  # logging.INFO and the like
        return None
    if str(value).upper() in {a.upper() for a in allowed}:
        return None
    return f"{name} must be one of {', '.join(allowed)}, not {str(value)!r}."


def _parse_error(parse, value: object) -> str | None:
    """The parser's own sentence when it refuses ``value``."""
    try:
        parse(value)
    except ValueError as exc:
        return f"{exc}."
    return None


def _from_env(names: list[str]) -> None:
    """Let ``PA_<NAME>`` override setting NAME (JSON values parsed, anything else a string; a yes/no setting read
    by ``_env_flag`` from the text itself). An empty variable (``PA_JOBDIR=`` in a compose or systemd environment
    file) is no value: the setting keeps its default."""
    scope = globals()
    for name in names:
        raw = os.environ.get(f"PA_{name}")
        if raw is None or not raw.strip():
            continue
        if isinstance(scope[name], bool):  # not through JSON: 'null' or '[1]' must be refused, not read as no
            scope[name] = _env_flag(raw)
            continue
        try:
            scope[name] = json.loads(raw)
        except ValueError:
            scope[name] = raw


def _env_flag(value: str) -> object:
    """A yes/no variable's value as a bool; anything else stays as typed, so that ``setting_errors`` refuses it
    (``PA_ROBOTSTXT_OBEY=ture`` must not turn robots.txt off)."""
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    return value


_from_env([name for name in list(globals()) if name.isupper()])
