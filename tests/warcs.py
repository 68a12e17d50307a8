"""Build WARC files in tests, as other tools write them (warcio is what pywb and Browsertrix use)."""

from __future__ import annotations

import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


class WarcBuilder:
    """Append response, request, revisit, metadata and DNS records to one WARC file."""

    def __init__(self, path: Path, gzip: bool = True) -> None:
        self.path = path
        self._handle = path.open("wb")
        self.writer = WARCWriter(self._handle, gzip=gzip, warc_version="WARC/1.1")
        self.digests: dict[tuple[str, str], str] = {}

    def response(
        self,
        url: str,
        date: str,
        body: bytes,
        status: str = "200 OK",
        content_type: str = "text/html; charset=utf-8",
        headers: list[tuple[str, str]] = (),
    ) -> None:
        http = StatusAndHeaders(
            status, [("Content-Type", content_type), *headers, ("Content-Length", str(len(body)))], protocol="HTTP/1.1"
        )
        record = self.writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http, warc_headers_dict={"WARC-Date": date}
        )
        self.writer.write_record(record)
        self.digests[(url, date)] = record.rec_headers.get_header("WARC-Payload-Digest")

    def request(self, url: str, date: str) -> None:
        http = StatusAndHeaders(f"GET {url} HTTP/1.1", [("Host", "pacsto.org")], is_http_request=True)
        self.writer.write_record(
            self.writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""), http_headers=http, warc_headers_dict={"WARC-Date": date}
            )
        )

    def revisit(self, url: str, date: str, of_url: str, of_date: str, digest: str | None = None) -> None:
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        digest = digest or self.digests[(of_url, of_date)]
        self.writer.write_record(
            self.writer.create_revisit_record(
                url, digest, of_url, of_date, http_headers=http, warc_headers_dict={"WARC-Date": date}
            )
        )

    def metadata(self, url: str, date: str) -> None:
        self.writer.write_record(
            self.writer.create_warc_record(
                url,
                "metadata",
                payload=io.BytesIO(b"via: https://pacsto.org/\r\n"),
                warc_content_type="application/warc-fields",
                warc_headers_dict={"WARC-Date": date},
            )
        )

    def dns(self, host: str, date: str) -> None:
        self.writer.write_record(
            self.writer.create_warc_record(
                f"dns:{host}",
                "response",
                payload=io.BytesIO(b"20250101000000\npacsto.org. 300 IN A 127.0.0.1\n"),
                warc_content_type="text/dns",
                warc_headers_dict={"WARC-Date": date},
            )
        )

    def close(self) -> Path:
        self._handle.close()
        return self.path

    def __enter__(self) -> WarcBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def page(title: str, paragraphs: list[str], block: list[str], date: str = "4 June 2022") -> bytes:
    """An article page of the site's shape: a header block of lines, the title, the date, the body."""
    lines = "".join(f"<p>{line}</p>" for line in block)
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{title}</title></head><body><header>{lines}</header><main>"
        f"<h1 class='content__title'>{title}</h1><div class='content__date'>{date}</div>"
        f"<div class='wysiwyg'>{body}</div></main></body></html>"
    ).encode()
