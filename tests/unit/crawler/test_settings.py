"""The crawl settings and items: polite defaults, overridable by the environment, dataclass items."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from crawler import settings as project_settings
from dedupe.document import RawSnapshot
from tests.support.crawl import BASE


def test_settings_are_polite_and_env_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from crawler import settings as module

    assert module.ROBOTSTXT_OBEY and module.AUTOTHROTTLE_ENABLED and module.DOWNLOAD_FAIL_ON_DATALOSS
    assert module.CONCURRENT_REQUESTS_PER_DOMAIN <= 4 and module.DOWNLOAD_DELAY >= 0.5
    assert "+http" in module.USER_AGENT and module.DOWNLOAD_MAXSIZE and module.REDIRECT_MAX_TIMES
    assert {500, 502, 503, 504} <= set(module.RETRY_HTTP_CODES) and not module.REMOTE_CONTROL_ENABLED
    monkeypatch.setenv("PA_ARCHIVE_DB", "/srv/pa/archive.db")
    monkeypatch.setenv("PA_DOWNLOAD_DELAY", "2.5")
    monkeypatch.setenv("PA_ROBOTSTXT_OBEY", "false")
    monkeypatch.setenv("PA_START_URLS", '["https://paodkb.org/events"]')
    try:
        importlib.reload(module)
        assert module.ARCHIVE_DB == "/srv/pa/archive.db" and module.DOWNLOAD_DELAY == 2.5
        assert module.ROBOTSTXT_OBEY is False and module.START_URLS == ["https://paodkb.org/events"]
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_page_snapshot_item_is_a_dataclass_for_item_adapter() -> None:
    from itemadapter import ItemAdapter

    item = RawSnapshot(
        url=f"{BASE}/events", observed_at="2025-10-20T09:00:00Z", source="crawl", http_status=304, body=None
    )
    assert ItemAdapter(item).asdict()["http_status"] == 304


@pytest.mark.parametrize("value, ok", [(0, False), (1, True), (16 * 2**20, True), (51 * 2**20, False)])
def test_download_maxsize_must_be_a_real_cap(value: int, ok: bool) -> None:
    errors = project_settings.setting_errors(Settings({"DOWNLOAD_MAXSIZE": value}))
    assert (errors == []) is ok
    if not ok:
        assert errors == [f"DOWNLOAD_MAXSIZE must be a whole number between 1 and 52428800, not '{value}'."]
