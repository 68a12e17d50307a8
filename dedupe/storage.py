"""Raw bytes stored once by content hash, compressed with zstd and a dictionary of the site's pages.

The site's pages are small and share one template (header, menu, the delegation block,
footer), so each page compressed on its own carries the template again: plain zstd gets ~3x.
A zstd dictionary trained on the archive's own pages holds the template once, and every page
compressed with it stores little more than its article (~10x on the benchmark's site-shaped pages).

* Until ``TRAIN_AFTER`` HTML contents exist, contents are stored as plain ``'zstd'``.
* Then a dictionary is trained on a sample of them (``zstandard.train_dictionary``, with fixed
  parameters: tens of milliseconds), stored in ``compression_dicts`` and the plain-zstd
  contents (the newest ``RECOMPRESS_LIMIT``) are recompressed with it (same bytes out, so
  sha256 and everything derived stay).
  Later contents are stored as ``'zstd-dict:<id>'``.
* Every ``RETRAIN_EVERY`` further contents a new dictionary is trained on the newest pages,
  so a redesigned site gets a dictionary of its new template; older contents keep theirs.
  Dictionaries are never deleted: every method ever written stays readable.

A new version of a page already archived (a new content of a URL that had one) is compressed against
that earlier content instead, its raw bytes as a zstd dictionary of raw content (``'zstd-ref:#<rowid>'``, the
earlier content's row in ``contents``; m032: an archive before it named the content by its sha256),
when that is smaller: what changed from one week to the next, not the article again (about 80 against
855 B a page on changed pages of the million-observation benchmark archive). The content referred to
is never itself such a reference (a new version refers to the first of its chain, so reading one costs
one more row at most); contents are never deleted or changed, so what is referred to stays. A new
page's lines are compressed against the lines of that same earlier page the same way
(``pages.lines_compression`` ``'zstd-ref:#<rowid>'``, that page's row in ``pages``), only when the same
extractor wrote them: lines do change when pages are analysed again by a newer extractor, so those
pages' lines are first stored on their own (``detach_lines``). Both carry a checksum: read against other
bytes, they fail, never give other text.

``Codec`` is one archive's compression (its dictionaries, cached compressors); ``compress``
and ``decompress`` are the dictionary-free functions for callers without an archive.

A page's lines (``pages.lines``, what the extractor read: JSON ``[[text, role, section], ...]``) go
through a dictionary of their own, trained with each dictionary of raw pages on the newest pages'
lines (``compression_dicts.purpose`` 'lines'; until there is one, the raw pages' dictionary):
the delegation block, the menus and the JSON around them are in it (923 B a page on the
100,000-observation benchmark archive, 1,200 B with the dictionary of raw HTML, 5.7 KB as JSON).
Their words are the raw page's words, so a new page's lines are compressed against its own raw bytes,
after the tail of that dictionary (``'zstd-own:<id>'``, ``compress_own``: 108 against 857 B on the
first versions of the 1M benchmark archive); reading them needs the page's content, which is never
deleted and whose raw bytes never change. ``pages.lines_compression`` names the method
(``'zstd-dict:<id>'``, ``'zstd-own:<id>'``, ``'zstd-ref:#<rowid>'``). Every reader decodes them through
``Codec.unpack_lines`` (with the page's hash), which also reads the JSON text of an archive written
before (``lines_compression`` NULL, until migration m013 converts it).
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import zstandard

from .document import MAX_BODY_BYTES

LEVEL = 10  # plain zstd
DICT_LEVEL = 9  # with a dictionary: ~0.15 ms for a 10 KB page, within 3% of level 19's ratio
# 64 KiB: the template and common phrases; 110 KiB gains 2% a page and costs more than that below ~3000 pages
DICT_SIZE = 65_536
TRAIN_AFTER = 200  # HTML contents before the first dictionary is trained
TRAIN_SAMPLE = 1000  # newest HTML contents a dictionary is trained on
RETRAIN_EVERY = 10_000  # contents stored with one dictionary before the next is trained
# Plain-zstd contents recompressed when the first dictionary arrives: those of a new archive; an
# archive written before dictionaries existed keeps its older ones as they are (still readable).
RECOMPRESS_LIMIT = 5_000
RECOMPRESS_CHUNK = 500
# Decompressed bytes the training sample may hold at once: 1,000 of the site's ~10 KB pages are ~10 MB,
# so this bounds the memory of a sample of unusually large pages, never a normal one.
TRAIN_BUDGET_BYTES = 64 * 1024 * 1024
# fastcover with fixed parameters: the default search over k and d takes seconds for the same ratio
TRAIN_PARAMS = {"k": 1024, "d": 8}
DICT_PREFIX = "zstd-dict:"
# a raw page or a page's lines against an earlier version's: level 6 stores 41 B a changed page of the 1M
# benchmark archive in 0.03 ms, level 9 the same 41 B in 0.18 ms, level 3 74 B in 0.03 ms
REF_LEVEL = 6
# the largest earlier content a new version is compressed against (raw bytes): a page of the site is 10-100 KB;
# a hostile multi-megabyte one would cost its size in memory and time again for each of its new versions
REF_BASE_LIMIT = 2_000_000
# + '#' and the rowid of the content (in contents) or page (in pages) a raw page or its lines are compressed
# against: 16 bytes where the sha256 took 73 (14 MB at a million observations, m032); contents and pages are never
# deleted, and their rowids stay what they are (VACUUM keeps them; ``_reinsert`` writes rows back with their own)
REF_PREFIX = "zstd-ref:#"
# a page's lines against its own raw page, prefixed by the tail of a dictionary: 'zstd-own' or 'zstd-own:<id>'
OWN_METHOD = "zstd-own"
# that tail and level: on 200 first versions of the 1M benchmark archive, 108 B a page's lines in 0.09 ms (857 B
# with the dictionary of lines alone; 246 B against the raw page alone; a 32 KB tail 104 B in 0.15 ms)
OWN_TAIL = 16_384
OWN_LEVEL = 9
# pages.lines with a dictionary: level 3 stores 1,166 B a page on the benchmark's pages in 0.03 ms, level 9
# 984 B in 0.16 ms; the writer's CPU is the scarcer of the two (decompressing costs the same, ~6 us)
LINES_LEVEL = 3
_HTML_DICTIONARY_IDS = "SELECT id FROM compression_dicts WHERE purpose = 'html'"
# snapshots that brought their URL a new content, with that content and the URL's content before it
_NEW_VERSIONS = """SELECT s.id, c.rowid, c.body, c.compression, c.kind,
  (SELECT p.content_sha256 FROM snapshots p WHERE p.url = s.url AND p.content_sha256 IS NOT NULL
     AND p.content_sha256 != s.content_sha256 AND (p.observed_at < s.observed_at OR (p.observed_at = s.observed_at
     AND p.id < s.id)) ORDER BY p.observed_at DESC, p.id DESC LIMIT 1)
FROM snapshots s JOIN contents c ON c.sha256 = s.content_sha256
WHERE s.id > ? AND s.status = 'new' ORDER BY s.id LIMIT ?"""
# ``ref_base`` in SQL: the row a row's blob is compressed against ({method}: its method column), else {own}
_REF_BASE_SQL = (
    f"CASE WHEN {{method}} LIKE '{REF_PREFIX}%' THEN CAST(substr({{method}}, {len(REF_PREFIX) + 1}) AS INTEGER) "
    "ELSE {own} END"
)
# the content a new version of ? is compressed against (it, or the content it refers to): rowid, body, compression,
# kind, size
_VERSION_BASE = f"""SELECT b.rowid, b.body, b.compression, b.kind, b.size FROM contents p
JOIN contents b ON b.rowid = {_REF_BASE_SQL.format(method="p.compression", own="p.rowid")}
WHERE p.sha256 = ?"""
# ... and the page whose lines a new page's lines are compressed against: rowid, content_sha256, lines,
# lines_compression, extractor, its content's kind and size
_LINES_BASE = f"""SELECT b.rowid, b.content_sha256, b.lines, b.lines_compression, b.extractor, c.kind, c.size
FROM pages p
JOIN pages b ON b.rowid = {_REF_BASE_SQL.format(method="p.lines_compression", own="p.rowid")}
JOIN contents c ON c.sha256 = b.content_sha256
WHERE p.content_sha256 = ?"""
_OUTDATED_LINE_REFERENCES = (
    "SELECT content_sha256, lines, lines_compression FROM pages WHERE extractor != ? AND lines_compression LIKE ?"
)
LINES_JSON = None  # pages.lines_compression of lines stored as JSON text (an archive before m013)

Line = tuple[str, str, str]  # (text, role, section)

# zstandard's (de)compressor objects must not be used by two threads at once (Datasette reads in a thread pool:
# three concurrent diffs failed with "Data corruption detected"): one of each per thread.
_local = threading.local()


def _plain_compressor() -> zstandard.ZstdCompressor:
    if not hasattr(_local, "compressor"):
        _local.compressor = zstandard.ZstdCompressor(level=LEVEL)
    return _local.compressor


def _plain_decompressor() -> zstandard.ZstdDecompressor:
    if not hasattr(_local, "decompressor"):
        _local.decompressor = zstandard.ZstdDecompressor()
    return _local.decompressor


DictionarySource = Callable[[int], bytes] | Mapping[int, bytes]


class StorageError(ValueError):
    """A stored blob that cannot be read back within the archive's bounds (one sentence)."""


def content_hash(body: bytes) -> str:
    """sha256 hex of the raw bytes: the identity of a content (exact repeats are free)."""
    return hashlib.sha256(body).hexdigest()


def text_hash(text: str) -> str:
    """sha256 hex of a text, for caching signatures and naming versions."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compress(body: bytes) -> tuple[bytes, str]:
    """Compressed bytes and the name of the method, stored beside them (plain zstd)."""
    return _plain_compressor().compress(body), "zstd"


def compress_with(dictionary: Dictionary | None, data: bytes, *, lines: bool = False) -> tuple[bytes, str]:
    """``data`` compressed with ``dictionary`` (None: plain zstd), at the level for raw pages or for a page's
    lines, and the method to store beside it: the one way the writer and its analysis workers compress."""
    if dictionary is None:
        return compress(data)
    return (dictionary.compress_lines(data) if lines else dictionary.compress(data)), dictionary.method


def dictionary_id(method: str) -> int | None:
    """The dictionary a method names ('zstd-dict:3' -> 3), None for a dictionary-free method."""
    if method.startswith(DICT_PREFIX):
        try:
            return int(method[len(DICT_PREFIX) :])
        except ValueError:
            raise ValueError(f"unknown compression {method!r}") from None
    return None


def ref_base(method: str | None) -> int | None:
    """The row (of ``contents`` for a raw page, of ``pages`` for lines) a 'zstd-ref:#<rowid>' blob is compressed
    against, None for any other method."""
    if not method or not method.startswith(REF_PREFIX):
        return None
    number = method[len(REF_PREFIX) :]
    if not number.isascii() or not number.isdigit():
        raise ValueError(f"unknown compression {method[:40]!r}")
    return int(number)


def decompress(blob: bytes, method: str, dictionaries: DictionarySource | None = None) -> bytes:
    """Inverse of ``compress`` and ``Codec.compress`` for every method the archive has ever written.

    A 'zstd-dict:<id>' blob needs its dictionary: pass ``dictionaries`` (id -> bytes, as a
    mapping or a function), or use the archive's ``Codec``, which caches them.
    Never more than ``MAX_BODY_BYTES`` come out (``bounded_decompress``).
    """
    if method == "zstd":
        return bounded_decompress(_plain_decompressor(), blob)
    if ref_base(method) is not None:
        raise ValueError(f"{method} needs the archive's content it refers to (use Archive.raw_content)")
    number = dictionary_id(method)
    if number is None:
        raise ValueError(f"unknown compression {method!r}")
    if dictionaries is None:
        raise ValueError(f"{method} needs the archive's dictionary {number} (use Archive.raw_content)")
    data = dictionaries[number] if isinstance(dictionaries, Mapping) else dictionaries(number)
    return bounded_decompress(zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(data)), blob)


def bounded_decompress(decompressor: zstandard.ZstdDecompressor, blob: bytes, limit: int = MAX_BODY_BYTES) -> bytes:
    """Decompress at most ``limit`` bytes, or raise StorageError.

    zstd allocates what a frame header declares and ignores ``max_output_size`` when a size is
    declared: a 16-byte frame declaring 1 TiB would raise MemoryError, a 6 KB blob expand to
    200 MiB. So the declared size is checked first and an undeclared one is capped.
    """
    try:
        declared = zstandard.get_frame_parameters(blob).content_size
    except zstandard.ZstdError as exc:
        raise StorageError(f"stored content is not a zstd frame ({exc})") from None
    if declared != zstandard.CONTENTSIZE_UNKNOWN and declared > limit:
        raise StorageError(f"stored content would expand to {declared:,} bytes, more than the {limit:,} allowed")
    try:
        if declared == zstandard.CONTENTSIZE_UNKNOWN:
            return decompressor.decompress(blob, max_output_size=limit)
        return decompressor.decompress(blob)
    except zstandard.ZstdError as exc:
        raise StorageError(f"stored content cannot be decompressed within {limit:,} bytes ({exc})") from None


def train_dictionary(samples: list[bytes], size: int = DICT_SIZE) -> bytes:
    """A zstd dictionary of at most ``size`` bytes for pages like ``samples``."""
    return zstandard.train_dictionary(size, samples, **TRAIN_PARAMS).as_bytes()


def _trained(samples: list[bytes]) -> bytes | None:
    """A dictionary for data like ``samples`` (shuffled first: fastcover samples in order, so no bias to the
    newest), its size a thirtieth of theirs within 4 KB..DICT_SIZE; None when they are too few or degenerate."""
    if len(samples) < 8:
        return None
    random.Random(len(samples)).shuffle(samples)
    try:
        return train_dictionary(samples, min(DICT_SIZE, max(4096, sum(map(len, samples)) // 30)))
    except zstandard.ZstdError:
        return None


def _raw_dictionary(data: bytes) -> zstandard.ZstdCompressionDict:
    """An earlier content's raw bytes as a zstd dictionary (matches are found in it as in a prefix)."""
    return zstandard.ZstdCompressionDict(data, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def _usable_base(compression: str | None, kind: str, size: int) -> bool:
    """Whether a content can be what new versions are compressed against: stored on its own (no chains), an
    HTML page of at most REF_BASE_LIMIT bytes."""
    return ref_base(compression) is None and kind == "html" and size <= REF_BASE_LIMIT


def _as_version(data: bytes, base: int, raw: bytes, blob: bytes, method: str) -> tuple[bytes, str]:
    """``data`` compressed against ``raw`` (the body of content ``base`` or the lines of page ``base``, by rowid)
    if smaller than ``blob``.
    With a checksum (4 bytes): a raw-content dictionary has no id, so a frame read against other bytes than
    it was written with fails instead of giving other text."""
    packed = zstandard.ZstdCompressor(level=REF_LEVEL, dict_data=_raw_dictionary(raw), write_checksum=True).compress(
        data
    )
    return (packed, f"{REF_PREFIX}{base}") if len(packed) < len(blob) else (blob, method)


def _from_version(raw: bytes, blob: bytes) -> bytes:
    """The inverse of ``_as_version``, given the bytes it was compressed against."""
    return bounded_decompress(zstandard.ZstdDecompressor(dict_data=_raw_dictionary(raw)), blob)


def own_dictionary_id(method: str | None) -> tuple[bool, int | None]:
    """Whether a lines method is 'zstd-own' (compressed against the page's own raw bytes), and the dictionary
    whose tail prefixes them (None: none)."""
    if method == OWN_METHOD:
        return True, None
    if method and method.startswith(OWN_METHOD + ":"):
        try:
            return True, int(method[len(OWN_METHOD) + 1 :])
        except ValueError:
            raise ValueError(f"unknown compression {method!r}") from None
    return False, None


def _own_dictionary(prefix: bytes | None, raw: bytes) -> zstandard.ZstdCompressionDict:
    """What a page's lines are compressed against in 'zstd-own': the tail of a dictionary (the JSON, the roles,
    the template's lines) and then the page's raw bytes (its words)."""
    return _raw_dictionary((prefix or b"")[-OWN_TAIL:] + raw)


def compress_own(dictionary: Dictionary | None, data: bytes, raw: bytes, blob: bytes, method: str) -> tuple[bytes, str]:
    """A page's lines (``data``, JSON) compressed against its own raw page (``raw``), prefixed by the tail of
    ``dictionary``, if that is smaller than ``blob`` (``method``).

    Why: the lines are words the raw page already holds, so the archive would otherwise store each new page's
    article twice (108 against 857 B a page's lines on the first versions of the 1M benchmark archive). A
    content is never deleted or changed (its stored form may be, never its raw bytes), so what the lines are
    compressed against stays. With a checksum, as ``_as_version``. A raw page above REF_BASE_LIMIT is not used."""
    if len(raw) > REF_BASE_LIMIT:
        return blob, method
    prefix = dictionary.raw if dictionary is not None else None
    packed = zstandard.ZstdCompressor(
        level=OWN_LEVEL, dict_data=_own_dictionary(prefix, raw), write_checksum=True
    ).compress(data)
    if len(packed) >= len(blob):
        return blob, method
    return packed, OWN_METHOD if dictionary is None else f"{OWN_METHOD}:{dictionary.id}"


def _from_own(prefix: bytes | None, raw: bytes, blob: bytes) -> bytes:
    """The inverse of ``compress_own``, given the dictionary's bytes and the page's raw bytes."""
    return bounded_decompress(zstandard.ZstdDecompressor(dict_data=_own_dictionary(prefix, raw)), blob)


class Dictionary:
    """One stored dictionary with its (lazily built) compressor and decompressor."""

    def __init__(self, number: int, data: bytes) -> None:
        self.id = number
        self.method = f"{DICT_PREFIX}{number}"
        self.raw = data  # as stored (what an analysis worker is handed)
        self.data = zstandard.ZstdCompressionDict(data)
        self._local = threading.local()  # one (de)compressor of each kind per thread, as above

    def compress(self, body: bytes) -> bytes:
        local = self._local
        if not hasattr(local, "compressor"):
            local.compressor = zstandard.ZstdCompressor(level=DICT_LEVEL, dict_data=self.data)
        return local.compressor.compress(body)

    def compress_lines(self, data: bytes) -> bytes:
        local = self._local
        if not hasattr(local, "lines_compressor"):
            local.lines_compressor = zstandard.ZstdCompressor(level=LINES_LEVEL, dict_data=self.data)
        return local.lines_compressor.compress(data)

    def decompress(self, blob: bytes) -> bytes:
        local = self._local
        if not hasattr(local, "decompressor"):
            local.decompressor = zstandard.ZstdDecompressor(dict_data=self.data)
        return bounded_decompress(local.decompressor, blob)


class Codec:
    """One archive's compression: its newest dictionary for new contents, all of them for reading.

    ``compress`` never touches the database; ``train_due`` says (from a counter kept in memory)
    when ``train`` should run, which the archive calls between transactions of its own.
    """

    def __init__(self, db: sqlite3.Connection | object) -> None:
        self.db = db
        self._loaded: dict[int, Dictionary] = {}
        self._purposes = "purpose" in {c[1] for c in self._execute("PRAGMA table_info(compression_dicts)")}
        self.current: Dictionary | None = None  # the newest dictionary of raw pages
        self.current_lines: Dictionary | None = None  # the newest of pages' lines
        self.contents_at = 0
        self._html_contents: int | None = None  # counted on first use: opening an archive stays cheap
        self.reload()
        self._failed_at = 0  # HTML contents when training last failed
        self._lines_failed = False  # the last dictionary of lines could not be trained

    @property
    def html_contents(self) -> int:
        """HTML contents in the archive (counted once, then kept up to date by ``compress``)."""
        if self._html_contents is None:
            self._html_contents = self._execute("SELECT count(*) FROM contents WHERE kind = 'html'").fetchone()[0]
        return self._html_contents

    def _execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, params)

    def _executemany(self, sql: str, rows: list[tuple]) -> None:
        getattr(self.db, "conn", self.db).executemany(sql, rows)  # a sqlite-utils Database or a connection

    def _newest_dictionary(self, purpose: str) -> tuple[int, int] | None:
        """(id, contents_at) of the newest dictionary for ``purpose``; an archive before m021 (opened to
        be read) has only dictionaries of raw pages."""
        if not self._purposes:
            sql = "SELECT id, contents_at FROM compression_dicts WHERE ? = 'html' ORDER BY id DESC LIMIT 1"
        else:
            sql = "SELECT id, contents_at FROM compression_dicts WHERE purpose = ? ORDER BY id DESC LIMIT 1"
        return self._execute(sql, (purpose,)).fetchone()

    def _dictionary(self, number: int) -> Dictionary:
        found = self._loaded.get(number)
        if found is None:
            row = self._execute("SELECT dict FROM compression_dicts WHERE id = ?", (number,)).fetchone()
            if row is None:
                raise ValueError(f"the archive has no compression dictionary {number}")
            found = self._loaded[number] = Dictionary(number, row[0])
        return found

    # ------------------------------------------------------------------ reading and writing

    def compress(self, body: bytes, kind: str = "html") -> tuple[bytes, str]:
        """Compressed bytes and their method: the newest dictionary's, or plain zstd before the first."""
        self.count(kind)
        return compress_with(self.current, body)

    def count(self, kind: str) -> None:
        """One more content of ``kind`` stored (what ``train_due`` counts), compressed here or elsewhere."""
        if kind == "html":
            self._html_contents = self.html_contents + 1

    def decompress(self, blob: bytes, method: str) -> bytes:
        base = ref_base(method)
        if base is not None:
            return _from_version(self._base(base), blob)
        number = dictionary_id(method)
        if number is None:
            return decompress(blob, method)
        return self._dictionary(number).decompress(blob)

    def _base(self, rowid: int) -> bytes:
        """The raw bytes of a content another is compressed against (never itself a reference: a stored
        chain, which this code never writes, is refused rather than followed)."""
        row = self._execute("SELECT body, compression FROM contents WHERE rowid = ?", (rowid,)).fetchone()
        if row is None:
            raise StorageError(f"stored content refers to content #{rowid}, which the archive does not have")
        if ref_base(row[1]) is not None:
            raise StorageError(f"stored content refers to content #{rowid}, itself stored as a reference")
        return self.decompress(row[0], row[1])

    def against(self, body: bytes, previous: str, blob: bytes, method: str) -> tuple[bytes, str]:
        """A new content of a URL compressed against its ``previous`` content (or the content that one refers
        to), if that is smaller than ``blob`` (``method``): the stored blob and its method."""
        row = self._execute(_VERSION_BASE, (previous,)).fetchone()  # one read: the base row, its kind and size
        if row is None:
            return blob, method
        base, stored, compression, kind, size = row
        if not _usable_base(compression, kind, size):
            return blob, method
        try:
            raw = self.decompress(stored, compression)
        except (StorageError, ValueError):  # a damaged earlier content: this one is stored on its own
            return blob, method
        return _as_version(body, base, raw, blob, method)

    def pack_lines(self, lines: list[Line] | list[list[str]], raw: bytes | None = None) -> tuple[bytes, str]:
        """A page's lines as stored in ``pages.lines``, and the method for ``pages.lines_compression``. ``raw``:
        the page's raw bytes, to store the lines against them where that is smaller (``compress_own``)."""
        return self.pack_lines_json(json.dumps(lines, ensure_ascii=False).encode("utf-8"), raw)

    def pack_lines_json(self, data: bytes, raw: bytes | None = None) -> tuple[bytes, str]:
        """Lines already serialised as JSON (UTF-8), compressed: with the newest dictionary of lines, else
        of raw pages, else plain zstd; against the page's ``raw`` bytes with that dictionary where smaller."""
        dictionary = self.current_lines or self.current
        blob, method = compress_with(dictionary, data, lines=True)
        if raw is None:
            return blob, method
        return compress_own(dictionary, data, raw, blob, method)

    def unpack_lines(
        self, value: bytes | str, method: str | None, sha: str | None = None, raw: bytes | None = None
    ) -> list[Line]:
        """The one way to read ``pages.lines``: its ``lines_compression`` method names how it was stored. ``sha``:
        the page's content hash, which lines stored against their own page ('zstd-own') need (or its ``raw``
        bytes, when the caller has them)."""
        return [tuple(line) for line in json.loads(self.lines_json(value, method, sha, raw))]

    def lines_json(
        self, value: bytes | str, method: str | None, sha: str | None = None, raw: bytes | None = None
    ) -> str:
        """``pages.lines`` as its JSON text (what a cheap search over a page's lines reads before parsing);
        ``sha`` and ``raw`` as ``unpack_lines``."""
        if method is LINES_JSON:
            return value if isinstance(value, str) else value.decode("utf-8")
        base = ref_base(method)
        if base is not None:
            return _from_version(self._lines_base(base), value).decode("utf-8")
        own, number = own_dictionary_id(method)
        if own:
            prefix = self._dictionary(number).raw if number is not None else None
            return _from_own(prefix, raw if raw is not None else self._own_raw(sha), value).decode("utf-8")
        return self.decompress(value, method).decode("utf-8")

    def _own_raw(self, sha: str | None) -> bytes:
        """The raw bytes of the page whose lines are stored against them."""
        if sha is None:
            raise StorageError("these lines are stored against their page's raw content: reading them needs its hash")
        row = self._execute("SELECT body, compression FROM contents WHERE sha256 = ?", (sha,)).fetchone()
        if row is None:
            raise StorageError(f"the lines of page {sha[:12]} are stored against its content, which the archive lacks")
        return self.decompress(row[0], row[1])

    def _lines_base(self, rowid: int) -> bytes:
        """The lines (JSON, UTF-8) of a page another page's lines are compressed against; never itself a
        reference."""
        row = self._execute("SELECT lines, lines_compression, content_sha256 FROM pages WHERE rowid = ?", (rowid,))
        found = row.fetchone()
        if found is None:
            raise StorageError(f"stored lines refer to page #{rowid}, which the archive does not have")
        if ref_base(found[1]) is not None:
            raise StorageError(f"stored lines refer to page #{rowid}, whose lines are themselves a reference")
        return self.lines_json(found[0], found[1], found[2]).encode("utf-8")

    def lines_against(self, data: bytes, previous: str, extractor: str, blob: bytes, method: str) -> tuple[bytes, str]:
        """A new page's lines (``data``, JSON) compressed against the lines of its URL's ``previous`` content (or
        of the content that one's refer to), if smaller than ``blob`` (``method``). Only against lines the
        same ``extractor`` wrote: an older one's are rewritten when re-analysed (``detach_lines`` first)."""
        row = self._execute(_LINES_BASE, (previous,)).fetchone()  # one read: the base page's lines and its content
        if row is None:
            return blob, method
        base, sha, lines, compression, written_by, kind, size = row
        if written_by != extractor or not _usable_base(compression, kind, size):
            return blob, method
        try:
            raw = self.lines_json(lines, compression, sha).encode("utf-8")
        except (StorageError, ValueError):
            return blob, method
        return _as_version(data, base, raw, blob, method)

    def detach_lines(self, extractor: str) -> None:
        """The lines of pages an older extractor wrote that are stored against another page's lines, stored
        with the dictionary of lines instead: before those pages are analysed again (their lines rewritten),
        so that no page's lines refer to lines that change. Run inside the caller's transaction."""
        rows = self._execute(_OUTDATED_LINE_REFERENCES, (extractor, REF_PREFIX + "%")).fetchall()
        for sha, value, method in rows:
            packed, new_method = self.pack_lines_json(self.lines_json(value, method, sha).encode("utf-8"))
            self._execute(
                "UPDATE pages SET lines = ?, lines_compression = ? WHERE content_sha256 = ?", (packed, new_method, sha)
            )

    # ------------------------------------------------------------------ training

    @property
    def train_due(self) -> bool:
        """A first dictionary of raw pages once TRAIN_AFTER HTML contents exist, a new one every RETRAIN_EVERY;
        one of lines with each (and once in an archive whose dictionaries are older than those of lines)."""
        if self.current is None:
            return self.html_contents >= max(TRAIN_AFTER, 2 * self._failed_at)
        if self.current_lines is None and self._purposes and not self._lines_failed:
            return True
        return self.html_contents - self.contents_at >= RETRAIN_EVERY

    def train(self) -> int | None:
        """Train and store what is due: a dictionary on the newest HTML contents (then the plain-zstd contents
        recompressed with it) and one on the newest pages' lines (then the plain-zstd lines). Run inside a
        transaction (the caller's). Returns the id of the newest dictionary trained (None: none was)."""
        trained: int | None = None
        first = self.current is None  # only then are there plain-zstd contents and lines to recompress
        if first or self.html_contents - self.contents_at >= RETRAIN_EVERY:
            trained = self._train_html()
            if trained is None:
                return None
            if first:
                self._recompress_plain()
        first_lines = self.current_lines is None
        if self._purposes and (trained is not None or first_lines):
            trained = self._train_lines() or trained
        if first or (first_lines and self.current_lines is not None):
            self._recompress_plain_lines()
        return trained

    def reload(self) -> None:
        """Forget what this object knows of the archive's dictionaries and read it again: after a training
        transaction that was rolled back (a full disk), the ids it handed out must not be used, and a later
        dictionary may take one of them."""
        self._loaded.clear()
        row = self._newest_dictionary("html")
        self.current = self._dictionary(row[0]) if row else None
        self.contents_at = row[1] if row else 0
        lines = self._newest_dictionary("lines")
        self.current_lines = self._dictionary(lines[0]) if lines else None
        self._html_contents = None

    def _train_html(self) -> int | None:
        samples = self._training_sample()
        count = self._execute("SELECT count(*) FROM contents WHERE kind = 'html'").fetchone()[0]
        data = _trained(samples)
        if data is None:  # degenerate samples (e.g. all alike): try again when there are twice as many
            self._failed_at = max(count, self.html_contents)
            return None
        self.current = self._store_dictionary(data, len(samples), count, DICT_LEVEL, "html")
        self.contents_at = self._html_contents = count
        return self.current.id

    def _train_lines(self) -> int | None:
        """A dictionary of the newest pages' lines (their JSON, as ``pack_lines`` compresses it)."""
        samples = self._lines_sample()
        data = _trained(samples)
        if data is None:  # tried again with the next dictionary of raw pages
            self._lines_failed = True
            return None
        self._lines_failed = False
        self.current_lines = self._store_dictionary(data, len(samples), self.html_contents, LINES_LEVEL, "lines")
        return self.current_lines.id

    def _store_dictionary(self, data: bytes, samples: int, contents_at: int, level: int, purpose: str) -> Dictionary:
        cursor = self._execute(
            "INSERT INTO compression_dicts (created_at, samples, contents_at, level, dict, purpose) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), samples, contents_at, level, data, purpose),
        )
        return self._dictionary(cursor.lastrowid)

    def _lines_sample(self) -> list[bytes]:
        """The newest pages' lines as JSON (what ``pack_lines`` compresses), as ``_training_sample``."""
        return self._sample(
            "SELECT lines, lines_compression, content_sha256 FROM pages ORDER BY rowid DESC LIMIT ?",
            lambda value, method, sha: self.lines_json(value, method, sha).encode("utf-8"),
        )

    def _training_sample(self) -> list[bytes]:
        """The newest HTML contents, decompressed one row at a time, up to TRAIN_SAMPLE of them and
        TRAIN_BUDGET_BYTES in all: a sample of huge pages stops early instead of filling memory; a
        content that cannot be read back is left out of the sample."""
        return self._sample(
            "SELECT body, compression FROM contents WHERE kind = 'html' ORDER BY rowid DESC LIMIT ?", self.decompress
        )

    def _sample(self, sql: str, read: Callable[..., bytes]) -> list[bytes]:
        """``read(value, method, ...)`` of each row of ``sql`` (newest first), within TRAIN_SAMPLE and
        TRAIN_BUDGET_BYTES."""
        samples: list[bytes] = []
        held = 0
        for row in self._execute(sql, (TRAIN_SAMPLE,)):
            try:
                data = read(*row)
            except (StorageError, ValueError):
                continue
            if held + len(data) > TRAIN_BUDGET_BYTES:
                break
            samples.append(data)
            held += len(data)
        return samples

    def _recompress_plain(self) -> None:
        """The newest RECOMPRESS_LIMIT plain-zstd contents (those stored before the first dictionary)
        recompressed with the current one, RECOMPRESS_CHUNK at a time; older ones stay as they are."""
        last, left = 2**63 - 1, RECOMPRESS_LIMIT
        while left > 0:
            chunk = min(RECOMPRESS_CHUNK, left)
            rows = self._rows(
                "SELECT rowid AS rowid, * FROM contents WHERE compression = 'zstd' AND rowid < ? "
                "ORDER BY rowid DESC LIMIT ?",
                (last, chunk),
            )
            left -= len(rows)
            shrunk = []
            for values in rows:
                raw = decompress(values["body"], "zstd")
                packed = self.current.compress(raw)
                if len(packed) < len(values["body"]) and self.current.decompress(packed) == raw:
                    method = self.current.method
                    shrunk.append({**values, "body": packed, "stored_size": len(packed), "compression": method})
                last = values["rowid"]
            self._reinsert("contents", shrunk)
            if len(rows) < chunk:
                break

    def _rows(self, sql: str, params: tuple) -> list[dict[str, Any]]:
        """The rows of ``sql`` as dicts by column name."""
        cursor = self._execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def _reinsert(self, table: str, rows: list[dict[str, Any]]) -> None:
        """``rows`` (each with its ``rowid`` and every column) written again: all deleted, then inserted with
        their own rowids in their order (the engine's state refers to a page by its rowid:
        ``derive_pages.page_id``).

        Why not UPDATE: a row that shrinks where it is leaves most of its page empty, and SQLite appends new
        rows at the end of a table, so that space stayed unused (the first 200 contents and pages of every
        archive, a ~3 KB plain-zstd body or ~2 KB of lines a page before the first dictionaries: 1.4 KB a
        page after the benchmark's first crawl). Deleted rows free whole pages, which SQLite fills afresh."""
        if not rows:
            return
        # pages and snapshots refer to a content's hash: checked at the commit, when the row is back (no ON
        # DELETE action anywhere; SQLite resets this pragma when the transaction ends)
        self._execute("PRAGMA defer_foreign_keys = ON")
        for start in range(0, len(rows), RECOMPRESS_CHUNK):
            ids = tuple(values["rowid"] for values in rows[start : start + RECOMPRESS_CHUNK])
            self._execute(f"DELETE FROM [{table}] WHERE rowid IN ({', '.join('?' * len(ids))})", ids)
        names = list(rows[0])
        self._executemany(
            f"INSERT INTO [{table}] ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [tuple(values[name] for name in names) for values in sorted(rows, key=lambda v: v["rowid"])],
        )

    def recompress_lines(self, after: int, limit: int | None = None) -> tuple[int | None, int, int]:
        """The pages after rowid ``after`` (``limit`` of them) whose lines were stored another way than with
        the newest dictionary of lines, or not against their own page, recompressed with it (and against their
        page, ``compress_own``) where that is smaller (in place: ``compact`` runs this before its VACUUM).
        Returns the last rowid looked at (None: no page left), how many pages were looked at and how many
        rewritten. Run inside a transaction (the caller's, one a chunk: a kill keeps the chunks done)."""
        target = self.current_lines
        rows = self._execute(
            "SELECT rowid, lines, lines_compression, content_sha256 FROM pages WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (after, limit or RECOMPRESS_CHUNK),
        ).fetchall()
        if target is None or not rows:
            return None, 0, 0
        # lines in a dictionary of lines (an older one included) are only worth storing against their own page;
        # what was stored before there was one (plain zstd, JSON, a dictionary of raw pages) with it too
        of_pages = {f"{DICT_PREFIX}{number}" for (number,) in self._execute(_HTML_DICTIONARY_IDS)}
        rewritten = 0
        for rowid, value, method, sha in rows:
            if ref_base(method) is not None or own_dictionary_id(method)[0]:
                continue  # a new version's lines against its earlier page's: smaller still
            try:
                data = self.lines_json(value, method).encode("utf-8")
                raw = self._own_raw(sha)
            except (StorageError, ValueError):  # a damaged row stays as it is: compacting the rest goes on
                continue
            packed, new_method = value, method
            if method in of_pages or method in ("zstd", LINES_JSON):
                packed, new_method = target.compress_lines(data), target.method
            packed, new_method = compress_own(target, data, raw, packed, new_method)
            if len(packed) < len(value):
                self._execute(
                    "UPDATE pages SET lines = ?, lines_compression = ? WHERE rowid = ?", (packed, new_method, rowid)
                )
                rewritten += 1
        return rows[-1][0], len(rows), rewritten

    def referenced(self) -> set[int]:
        """The contents (rowids) others are compressed against (``'zstd-ref:#<rowid>'``): never to become
        references."""
        return {
            rowid
            for (rowid,) in self._execute(
                f"SELECT {_REF_BASE_SQL.format(method='compression', own='NULL')} FROM contents "
                "WHERE compression LIKE ?",
                (REF_PREFIX + "%",),
            )
        }

    def refer_versions(self, after: int, referenced: set[int], limit: int | None = None) -> tuple[int | None, int, int]:
        """Contents first seen as a new version of their URL (snapshots after id ``after``, ``limit`` of them)
        stored on their own, rewritten against the URL's earlier content where that is smaller, as the writer
        now stores them (``against``; ``compact`` runs this for an archive written before). A content others
        refer to (``referenced``, kept up to date) stays as it is. Returns the last snapshot id looked at
        (None: none left), how many were looked at and how many contents rewritten. Run inside a
        transaction (the caller's, one a chunk: a kill keeps the chunks done)."""
        rows = self._execute(_NEW_VERSIONS, (after, limit or RECOMPRESS_CHUNK)).fetchall()
        if not rows:
            return None, 0, 0
        rewritten = 0
        for _, rowid, body, method, kind, previous in rows:
            if previous is None or kind != "html" or rowid in referenced or ref_base(method) is not None:
                continue
            try:
                raw = self.decompress(body, method)
            except (StorageError, ValueError):  # a damaged row stays as it is: compacting the rest goes on
                continue
            blob, new_method = self.against(raw, previous, body, method)
            base = ref_base(new_method)
            if base is not None and base != rowid:
                self._execute(
                    "UPDATE contents SET body = ?, stored_size = ?, compression = ? WHERE rowid = ?",
                    (blob, len(blob), new_method, rowid),
                )
                referenced.add(base)
                rewritten += 1
        return rows[-1][0], len(rows), rewritten

    def _recompress_plain_lines(self) -> None:
        """The newest RECOMPRESS_LIMIT pages' lines stored before the first dictionary (plain zstd, or against
        their own page alone) recompressed with the current one, as ``_recompress_plain`` does for their
        contents."""
        shrunk = []
        for values in self._rows(
            "SELECT rowid AS rowid, * FROM pages WHERE lines_compression IN ('zstd', ?) ORDER BY rowid DESC LIMIT ?",
            (OWN_METHOD, RECOMPRESS_LIMIT),
        ):
            sha = values["content_sha256"]
            try:
                data = self.lines_json(values["lines"], values["lines_compression"], sha).encode("utf-8")
                packed, method = self.pack_lines_json(data, self._own_raw(sha))
            except (StorageError, ValueError):  # unreadable: left as it is, as the plain contents above
                continue
            if len(packed) < len(values["lines"]):
                shrunk.append({**values, "lines": packed, "lines_compression": method})
        self._reinsert("pages", shrunk)
