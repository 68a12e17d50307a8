"""HTML templates of the replica: small functions that return strings, text escaped with html.escape.

Markup follows shared/site.md: listing items ``div.events__content > div.events__item >
article`` whose first ``a[href^="/events/"]`` holds the date; article title
``h1.content__title.content__title--h2``, date ``div.content__date``, the title again in
``div.content__subtitle``, body ``div.wysiwyg.js-wysiwyg``. The delegation block comes in two
markups (``header``: a member-states widget in the header; ``aside``: a sidebar list) whose
class names mean nothing to the pipeline; every block line is its own block-level element.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from . import rosters
from .content import DELEGATION_LINES, Article, Figure, month_name

BLOCK_MARKUPS = ("header", "aside")

COUNTRY_SLUGS = (
    "republic-of-belarus",
    "republic-of-kazakhstan",
    "kyrgyz-republic",
    "russian-federation",
    "republic-of-tajikistan",
)

UI = {
    "en": {
        "site": "CSTO Parliamentary Assembly",
        "home": "Home",
        "news": "News",
        "member_states": "Member states",
        "contacts": "Contacts",
        "countries": (
            "Republic of Belarus",
            "Republic of Kazakhstan",
            "Kyrgyz Republic",
            "Russian Federation",
            "Republic of Tajikistan",
        ),
        "next": "Next ›",
        "prev": "‹ Previous",
        "last": "Last »",
        "latest": "Latest news",
        "all_news": "All news",
        "welcome": "The Parliamentary Assembly of the Collective Security Treaty Organization is the body "
        "of inter-parliamentary cooperation of the CSTO member states.",
        "announcements": "Announcements",
        "calendar": "News archive",
        "not_found": "Page not found",
        "not_found_text": "The page you requested does not exist or has been removed.",
        "server_error": "Internal server error",
        "server_error_text": "Something went wrong. Please try again later.",
        "contacts_text": (
            "Tauride Palace, 47 Shpalernaya Street, St. Petersburg, 191015, Russia",
            "Secretariat of the CSTO Parliamentary Assembly",
        ),
        "footer": (
            "Parliamentary Assembly of the Collective Security Treaty Organization",
            "Tauride Palace, St. Petersburg, Russia",
        ),
        "copyright": "© 2006–2025 CSTO Parliamentary Assembly. All rights reserved.",
        "share": "Share",
    },
    "ru": {
        "site": "Парламентская Ассамблея ОДКБ",
        "home": "Главная",
        "news": "Новости",
        "member_states": "Государства-члены",
        "contacts": "Контакты",
        "countries": (
            "Республика Беларусь",
            "Республика Казахстан",
            "Кыргызская Республика",
            "Российская Федерация",
            "Республика Таджикистан",
        ),
        "next": "Следующая ›",
        "prev": "‹ Предыдущая",
        "last": "Последняя »",
        "latest": "Последние новости",
        "all_news": "Все новости",
        "welcome": "Парламентская Ассамблея Организации Договора о коллективной безопасности – орган "
        "межпарламентского сотрудничества государств – членов ОДКБ.",
        "announcements": "Объявления",
        "calendar": "Архив новостей",
        "not_found": "Страница не найдена",
        "not_found_text": "Запрашиваемая страница не существует или была удалена.",
        "server_error": "Внутренняя ошибка сервера",
        "server_error_text": "Что-то пошло не так. Попробуйте позже.",
        "contacts_text": (
            "Таврический дворец, ул. Шпалерная, 47, Санкт-Петербург, 191015, Россия",
            "Секретариат Парламентской Ассамблеи ОДКБ",
        ),
        "footer": (
            "Парламентская Ассамблея Организации Договора о коллективной безопасности",
            "Таврический дворец, Санкт-Петербург, Россия",
        ),
        "copyright": "© 2006–2025 Парламентская Ассамблея ОДКБ. Все права защищены.",
        "share": "Поделиться",
    },
}


def _e(text: str) -> str:
    return escape(text, quote=True)


def listing_url(page: int = 1, month: int | None = None, year: int | None = None) -> str:
    """``/events?page=N`` or ``/events?month=M&year=YYYY&page=N`` (month not zero-padded)."""
    query = {} if month is None else {"month": month, "year": year}
    return "/events?" + urlencode({**query, "page": page})


# ---------------------------------------------------------------------------- furniture


def nav(lang: str) -> str:
    """The main menu (repeated furniture)."""
    ui = UI[lang]
    countries = "".join(
        f'<li class="menu__subitem"><a href="/countries/{slug}">{_e(name)}</a></li>'
        for slug, name in zip(COUNTRY_SLUGS, ui["countries"])
    )
    return (
        '<nav class="menu"><ul class="menu__list">'
        f'<li class="menu__item"><a href="/">{_e(ui["home"])}</a></li>'
        f'<li class="menu__item"><a href="/events">{_e(ui["news"])}</a></li>'
        f'<li class="menu__item menu__item--dropdown"><span>{_e(ui["member_states"])}</span>'
        f'<ul class="menu__submenu">{countries}</ul></li>'
        f'<li class="menu__item"><a href="/contacts">{_e(ui["contacts"])}</a></li>'
        "</ul></nav>"
    )


def block_header(lines: tuple[str, ...]) -> str:
    """The block as a member-states widget in the header: a ``<p>`` per line, grouped per delegation."""
    groups = "".join(
        '<div class="member-states__item">' + "".join(f"<p>{_e(line)}</p>" for line in lines[start:end]) + "</div>"
        for start, end in DELEGATION_LINES
    )
    return f'<div class="member-states">{groups}</div>'


def block_aside(lines: tuple[str, ...]) -> str:
    """The block as a sidebar list: one ``<li>`` per line."""
    items = "".join(f"<li>{_e(line)}</li>" for line in lines)
    return f'<aside class="delegations"><ul class="delegations__list">{items}</ul></aside>'


def page(
    lang: str,
    title: str,
    main: str,
    block: tuple[str, ...],
    block_markup: str,
    *,
    meta: str = "",
    charset_meta: bool = True,
) -> str:
    """A whole page: header (logo, menu, block in ``header`` markup), aside block, main, footer."""
    ui = UI[lang]
    logo = f'<a class="header__logo" href="/">{_e(ui["site"])}</a>'
    header_block = block_header(block) if block_markup == "header" else ""
    aside_block = block_aside(block) if block_markup == "aside" else ""
    charset = '<meta charset="utf-8">' if charset_meta else ""
    footer = (
        '<footer class="footer"><div class="footer__contacts">'
        + "".join(f"<p>{_e(line)}</p>" for line in ui["footer"])
        + f'</div><div class="footer__copyright">{_e(ui["copyright"])}</div></footer>'
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>{charset}'
        f"<title>{_e(title)} | {_e(ui['site'])}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{meta}</head>\n<body>\n"
        f'<header class="header"><div class="header__top">{logo}{nav(lang)}</div>{header_block}</header>\n'
        f'<div class="layout">{aside_block}<main class="layout__main">{main}</main></div>\n'
        f"{footer}\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------------------- page bodies


def _figure(figure: Figure) -> str:
    return f'<figure class="image"><img src="{figure.path}" alt=""></figure>'


def article_main(article: Article) -> str:
    """Title, date, the title again, then the body of paragraphs and figures."""
    body = "".join(_figure(part) if isinstance(part, Figure) else f"<p>{_e(part)}</p>" for part in article.body)
    return (
        '<div class="content">'
        f'<h1 class="content__title content__title--h2">{_e(article.title)}</h1>'
        f'<div class="content__date">{_e(article.date_text)}</div>'
        f'<div class="content__subtitle">{_e(article.title)}</div>'
        f'<div class="wysiwyg js-wysiwyg">{body}</div>'
        f'<div class="share"><span class="share__label">{_e(UI[article.lang]["share"])}</span></div>'
        "</div>"
    )


def article_meta(article: Article) -> str:
    """Open Graph title and publication date, as a Rails site with meta tags would give."""
    return (
        f'<meta property="og:title" content="{_e(article.title)}">'
        f'<meta property="article:published_time" content="{article.published.isoformat()}">'
    )


def listing_item(article: Article) -> str:
    """One ``div.events__item``: the date link first, then the title link."""
    return (
        '<div class="events__item"><article class="event">'
        f'<a class="event__date" href="{article.path}">{_e(article.date_text)}</a>'
        f'<h3 class="event__title"><a href="{article.path}">{_e(article.title)}</a></h3>'
        "</article></div>"
    )


def pagination(lang: str, page_no: int, last: int, month: int | None = None, year: int | None = None) -> str:
    """Page numbers with previous/next/last links (none past the end)."""
    if last <= 1 or page_no > last:
        return ""
    ui = UI[lang]
    links = []
    if page_no > 1:
        links.append(
            f'<a class="pagination__prev" rel="prev" href="{_e(listing_url(page_no - 1, month, year))}">'
            f"{_e(ui['prev'])}</a>"
        )
    for number in range(1, last + 1):
        if number == page_no:
            links.append(f'<span class="pagination__current">{number}</span>')
        else:
            links.append(f'<a class="pagination__page" href="{_e(listing_url(number, month, year))}">{number}</a>')
    if page_no < last:
        links.append(
            f'<a class="pagination__next" rel="next" href="{_e(listing_url(page_no + 1, month, year))}">'
            f"{_e(ui['next'])}</a>"
        )
        links.append(f'<a class="pagination__last" href="{_e(listing_url(last, month, year))}">{_e(ui["last"])}</a>')
    return f'<nav class="pagination">{"".join(links)}</nav>'


def calendar_links(lang: str, links: list[tuple[str, int, int]]) -> str:
    """Month links (``("prev"|"next"|"month", month, year)``) of the news archive calendar."""
    if not links:
        return ""
    items = "".join(
        f'<a class="calendar__{kind}" href="{_e(listing_url(1, month, year))}">{_e(month_name(month, lang))} {year}</a>'
        for kind, month, year in links
    )
    return f'<div class="calendar"><span class="calendar__label">{_e(UI[lang]["calendar"])}</span>{items}</div>'


def announcements(lang: str, links: list[tuple[str, str]]) -> str:
    """Extra links under the listing (where fault pages are linked from)."""
    if not links:
        return ""
    items = "".join(f'<li><a href="{_e(href)}">{_e(text)}</a></li>' for href, text in links)
    return (
        f'<section class="announcements"><h2>{_e(UI[lang]["announcements"])}</h2>'
        f'<ul class="announcements__list">{items}</ul></section>'
    )


def listing_main(lang: str, heading: str, items: list[Article], extra: str = "") -> str:
    """The news list: ``div.events__content`` (empty past the end) then pagination and extras."""
    content = "".join(listing_item(article) for article in items)
    return (
        f'<div class="events"><h1 class="events__title">{_e(heading)}</h1>'
        f'<div class="events__content">{content}</div>{extra}</div>'
    )


def home_main(lang: str, latest: list[Article]) -> str:
    """The home page: a welcome text and the three latest news."""
    ui = UI[lang]
    items = "".join(f'<li><a href="{a.path}">{_e(a.title)}</a></li>' for a in latest)
    return (
        f'<section class="intro"><p>{_e(ui["welcome"])}</p></section>'
        f'<section class="news-feed"><h2>{_e(ui["latest"])}</h2><ul>{items}</ul>'
        f'<a class="news-feed__all" href="/events">{_e(ui["all_news"])}</a></section>'
    )


def country_main(lang: str, index: int, epoch: int = 1) -> str:
    """A member state's page as on the real site: its name (heading and page title), the delegation
    sentence, the roster line, the plenipotentiary, the website lines, then a biography per member
    (``replica.rosters``)."""
    name = UI[lang]["countries"][index]
    delegation = rosters.DELEGATIONS[index]
    r = rosters.roster(delegation, lang, epoch)
    lines = rosters.page_lines(delegation, lang, epoch)
    head = 3 + len(rosters.CHAMBERS[delegation])  # sentence, roster, plenipotentiary, website lines
    intro = "".join(f"<p>{_e(text)}</p>" for text in lines[:head])
    bios, rest = [], list(lines[head:])
    for person in r.members:
        heading = rest.pop(0)
        count = 4 + (person.position >= 0)  # position?, chamber, born, studies
        body, rest = rest[: count - 1], rest[count - 1 :]
        bios.append(
            f'<div class="member"><h3 class="member__name">{_e(heading)}</h3>'
            + "".join(f"<p>{_e(text)}</p>" for text in body)
            + "</div>"
        )
    return (
        f'<div class="country"><h1 class="country__title">{_e(name)}</h1>'
        f'<div class="country__delegation">{intro}</div>'
        f'<div class="country__members">{"".join(bios)}</div></div>'
    )


def text_main(heading: str, paragraphs: tuple[str, ...] | list[str]) -> str:
    """A plain page (contacts, errors)."""
    body = "".join(f"<p>{_e(text)}</p>" for text in paragraphs)
    return f'<div class="static-page"><h1 class="static-page__title">{_e(heading)}</h1>{body}</div>'


def sitemap(base_url: str, entries: list[tuple[str, str | None]]) -> str:
    """sitemap.xml for ``(path, lastmod)`` entries."""
    urls = "".join(
        f"<url><loc>{_e(base_url + path)}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>"
        for path, lastmod in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'
    )


def robots(base_url: str) -> str:
    """robots.txt: everything allowed except the admin area and search."""
    return f"User-agent: *\nDisallow: /admin\nDisallow: /search\n\nSitemap: {base_url}/sitemap.xml\n"
