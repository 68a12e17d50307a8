"""Notification URLs never show their secrets: not in reports (``redact``), not in failure sentences,
not in any log line written while Apprise works, at any level (issue 20, item 5)."""

from __future__ import annotations

import logging

import pytest
import requests

from dedupe.analysis import alerts

# one URL per scheme family, with the parts that must never be shown
FAMILIES = {
    "tgram": ("tgram://123456789:AAHsecretTOKENvalue123/987654", ["AAHsecretTOKENvalue123", "123456789"]),
    "pbul": ("pbul://o.SECRETpushbulletKey", ["o.SECRETpushbulletKey", "SECRETpushbulletKey"]),
    "json": (
        "json://user:passSECRET@127.0.0.1:9/hook?-token=SECRETtok&+X-Api-Key=SECREThdr",
        ["passSECRET", "SECRETtok", "SECREThdr"],
    ),
    "jsons": (
        "jsons://127.0.0.1:9/hook?-token=SECRETtok2&+Authorization=Bearer%20SECRETbearer",
        ["SECRETtok2", "SECRETbearer"],
    ),
    "mailto": ("mailto://alice:SECRETmailpw@example.com?to=bob@example.com", ["SECRETmailpw"]),
    "slack": ("slack://TOKENAsecret/TOKENBsecret/TOKENCsecret/#general", ["TOKENAsecret", "TOKENCsecret"]),
    "slack-https": (
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXSECRETXXXXXXXXXXXXX",
        ["XXXXSECRETXXXXXXXXXXXXX"],
    ),
    "discord": ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", ["JHMHI8qBe7bk2ZwO5U711o3dV_js"]),
    "matrix": ("matrix://user:SECRETmatrixpw@127.0.0.1:9/#room", ["SECRETmatrixpw"]),
    "matrixs-token": ("matrixs://SECRETmatrixtoken@127.0.0.1:9/#room", ["SECRETmatrixtoken"]),
    "unknown": ("nope://whatever/SECRETunknown", ["SECRETunknown", "whatever"]),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_redact_shows_no_secret(family: str) -> None:
    url, secrets = FAMILIES[family]
    shown = alerts.redact(url)
    assert shown.endswith("/…") and "://" in shown
    assert not [s for s in secrets if s in shown], shown
    assert not [s for s in secrets if s not in "".join(alerts.secrets_of(url))]


def test_redact_keeps_what_identifies_the_target() -> None:
    assert alerts.redact("json://user:pw@127.0.0.1:9/hook?-token=x") == "json://127.0.0.1:9/…"
    assert alerts.redact("tgram://123456789:AAHsecretTOKENvalue123/987654").startswith("tgram://")
    assert alerts.redact("not a url") == "(not a URL)"


@pytest.mark.parametrize("family", ["tgram", "pbul", "json", "jsons", "slack", "discord", "matrix"])
def test_a_failed_delivery_logs_no_secret_even_at_debug(family: str, caplog, monkeypatch) -> None:
    """Every request fails as urllib3 would, after logging its request line (where Telegram's token is)
    and raising with the URL in the message; Apprise logs its URLs, payload and headers at DEBUG."""
    url, secrets = FAMILIES[family]

    def refuse(method: str, address: str, *args, **kwargs):
        logging.getLogger("urllib3.connectionpool").debug('"%s %s HTTP/1.1" refused', method.upper(), address)
        logging.getLogger("pa-test").warning("headers %s", kwargs.get("headers"))
        raise requests.exceptions.ConnectionError(f"Max retries exceeded with url: {address} ({kwargs})")

    for verb in ("get", "post", "put"):
        monkeypatch.setattr(requests, verb, lambda address, *a, _verb=verb, **k: refuse(_verb, address, *a, **k))
    monkeypatch.setattr(
        requests.Session, "request", lambda self, method, address, *a, **k: refuse(method, address, **k)
    )
    caplog.set_level(logging.DEBUG)
    errors = alerts.deliver([url], alerts.Message("title", "body"))
    assert len(errors) == 1 and "failed" in errors[0]
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "://" in logged or "refused" in logged  # the log was written, and...
    assert not [s for s in secrets if s in logged or s in errors[0]], (errors, logged)
    assert alerts.logging.getLogger("apprise").filters == []  # the guard is gone afterwards
