"""Raw bytes stored once by content hash, compressed with zstd."""

from __future__ import annotations

import hashlib

import zstandard

LEVEL = 10
_compressor = zstandard.ZstdCompressor(level=LEVEL)
_decompressor = zstandard.ZstdDecompressor()


def content_hash(body: bytes) -> str:
    """sha256 hex of the raw bytes: the identity of a content (exact repeats are free)."""
    return hashlib.sha256(body).hexdigest()


def text_hash(text: str) -> str:
    """sha256 hex of a text, for caching signatures and naming versions."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compress(body: bytes) -> tuple[bytes, str]:
    """Compressed bytes and the name of the method, stored beside them."""
    return _compressor.compress(body), "zstd"


def decompress(blob: bytes, method: str) -> bytes:
    """Inverse of ``compress`` for every method the archive has ever written."""
    if method == "zstd":
        return _decompressor.decompress(blob)
    raise ValueError(f"unknown compression {method!r}")
