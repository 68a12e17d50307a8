"""A tiny valid JPEG (8x8 grey baseline) served for every ``/uploads/ckeditor/pictures/...`` image.

Built by hand so no image library is needed: one 8-bit greyscale component, a quantisation
table of ones, and Huffman tables with a single one-bit code each (DC category 0, AC EOB), so
the only block is "DC difference 0, end of block": a flat mid-grey square.
"""

from __future__ import annotations

import struct


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", 0xFF00 | marker, len(payload) + 2) + payload


def _huffman_table(table_class_and_id: int) -> bytes:
    counts = bytes([1] + [0] * 15)  # one code of length 1
    return bytes([table_class_and_id]) + counts + b"\x00"  # its symbol: 0x00


JPEG_BYTES = b"".join(
    (
        b"\xff\xd8",  # SOI
        _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),  # APP0, 1:1 aspect
        _segment(0xDB, b"\x00" + b"\x01" * 64),  # DQT 0, 8-bit, all ones
        _segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00"),  # SOF0 8x8, 1 component
        _segment(0xC4, _huffman_table(0x00)),  # DHT DC 0
        _segment(0xC4, _huffman_table(0x10)),  # DHT AC 0
        _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),  # SOS: component 1 uses tables 0/0, Ss=0 Se=63
        b"\x3f",  # bits 0 (DC diff 0) + 0 (EOB), padded with ones
        b"\xff\xd9",  # EOI
    )
)
