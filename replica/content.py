"""The replica's data: articles, delegation-block variants and the site at each epoch.

Pure data and functions, no HTTP. Everything is deterministic (``random.Random`` with fixed
seeds), so every run, test and demo sees the same slugs, dates and texts.

* The 5 English seed snapshots (``dedupe/seeds``) become English-only articles; seed 000
  has no title or date in its snapshot, so the replica gives it ``SEED_000_TITLE`` and
  27 September 2022 and keeps its body exactly.
* 22 generated articles exist in English and Russian (same slug on both sites, as on the
  real pacsto.org/paodkb.org); the English site serves all of them, the Russian site 7.
* Epoch 2 edits one sentence of one article; epoch 3 removes one article and adds two
  (``EPOCH_CHANGES``). Epochs are cumulative: epoch 3 keeps epoch 2's edit.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from importlib.resources import files
from types import SimpleNamespace as NS

from . import words

LANGS = ("en", "ru")
EPOCHS = (1, 2, 3)
PAGE_SIZE = 6
ARCHIVE_START = date(2013, 7, 11)
SEED = 20130711

SEED_000_TITLE = (
    "Kassym-Jomart Tokayev signed the Law on Ratification of the Protocol on Amendments "
    "to the Agreement on Peacekeeping Activities"
)
SEED_000_DATE = date(2022, 9, 27)
# Russian titles of the seed articles: the real site's slug is the transliterated Russian title.
SEED_RU_TITLES = {
    "000": "Касым-Жомарт Токаев подписал закон о ратификации протокола о миротворческой деятельности",
    "001": "Ерлан Кошанов: Казахстан будет делать все возможное для повышения влияния ОДКБ",
    "002": "Парламентарии ОДКБ сосредоточены на защите электоральных процессов и суверенитета",
    "003": "Сергей Рачков: Парламентская Ассамблея укрепляет политическое единство стран ОДКБ",
    "004": "Умахан Умаханов отметил высокий уровень организации выборов в Казахстане",
}
SEED_SLUG_WORDS = {"000": 8, "001": 7, "002": 7, "003": 7, "004": 7}
SEED_WITH_UUID = {"003"}
SEED_FIGURES = {"001": 0, "003": 0}  # seed -> index of the paragraph a figure precedes

N_GENERATED = 22  # generated articles present from epoch 1
N_RUSSIAN = 7  # of which the Russian site serves this many
ADDED_DATES = (date(2025, 11, 14), date(2025, 11, 27))  # the two articles new in epoch 3
N_FAULT_ARTICLES = 4  # bodies for the flaky, slow, truncated and wrong-charset pages

# The site's state at each epoch; Last-Modified of every page is its epoch's time plus a
# per-path offset under an hour, so it only moves forward from one epoch to the next.
EPOCH_TIMES = {
    1: datetime(2025, 10, 20, 9, 0, tzinfo=timezone.utc),
    2: datetime(2025, 11, 10, 9, 0, tzinfo=timezone.utc),
    3: datetime(2025, 12, 1, 9, 0, tzinfo=timezone.utc),
}
EPOCH_BLOCK = {1: "a", 2: "b", 3: "c"}
BLOCK_SEEDS = {"a": "000", "b": "001", "c": "003"}  # English variant -> seed it is taken from
# Lines of the block per delegation: Belarus, Kazakhstan, Kyrgyzstan, Russia, Tajikistan.
DELEGATION_LINES = ((0, 4), (4, 6), (6, 9), (9, 11), (11, 12))


@dataclass(frozen=True)
class Figure:
    """An image in an article body (``/uploads/ckeditor/pictures/<id>/content_<name>.jpg``)."""

    picture_id: int
    name: str

    @property
    def path(self) -> str:
        return f"/uploads/ckeditor/pictures/{self.picture_id}/content_{self.name}.jpg"


@dataclass(frozen=True)
class Article:
    """One news item as a site serves it; ``body`` holds paragraphs (str) and figures."""

    slug: str
    lang: str
    title: str
    published: date
    date_text: str
    body: tuple
    origin: str  # "seed", "generated" or "fault"

    @property
    def path(self) -> str:
        return f"/events/{self.slug}"

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(part for part in self.body if isinstance(part, str))

    @property
    def figures(self) -> tuple[Figure, ...]:
        return tuple(part for part in self.body if isinstance(part, Figure))


@dataclass(frozen=True)
class SiteState:
    """One language's site at one epoch: its block lines and articles, newest first."""

    lang: str
    epoch: int
    block_variant: str
    block_lines: tuple[str, ...]
    articles: tuple[Article, ...]

    @functools.cached_property
    def by_slug(self) -> dict[str, Article]:
        return {article.slug: article for article in self.articles}


# ---------------------------------------------------------------------------- text helpers


def format_date(day: date, lang: str, pad: bool = False) -> str:
    """ "4 June 2022" / "4 июня 2022"; ``pad`` gives the site's occasional "02 December 2021"."""
    number = f"{day.day:02d}" if pad else str(day.day)
    month = words.MONTHS_EN[day.month - 1] if lang == "en" else words.MONTHS_RU_GEN[day.month - 1]
    return f"{number} {month} {day.year}"


def month_name(month: int, lang: str) -> str:
    """Month name for calendar links ("October" / "Октябрь")."""
    return (words.MONTHS_EN if lang == "en" else words.MONTHS_RU_NOM)[month - 1]


def transliterate(text: str) -> str:
    """Russian text in Latin letters, the way the site builds slugs ("Казахстан" -> "kazahstan")."""
    return "".join(words.TRANSLIT.get(ch, ch) for ch in text.lower())


def make_slug(russian_title: str, n_words: int, suffix: uuid.UUID | None = None) -> str:
    """Transliterated title cut to ``n_words`` words, lower-case with dashes, maybe a UUID after."""
    parts = re.findall(r"[a-z0-9]+", transliterate(russian_title))[:n_words]
    slug = "-".join(parts)
    return f"{slug}-{suffix}" if suffix else slug


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


# ---------------------------------------------------------------------------- seeds


def _seed_files() -> dict[str, str]:
    folder = files("dedupe") / "seeds"
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".txt"):
            found[entry.name[:3]] = entry.read_text(encoding="utf-8")
    return found


@functools.cache
def english_blocks() -> dict[str, tuple[str, ...]]:
    """English block variants a/b/c: the first 12 lines of seeds 000, 001 and 003."""
    seeds = _seed_files()
    return {variant: tuple(seeds[seed].split("\n")[:12]) for variant, seed in BLOCK_SEEDS.items()}


@functools.cache
def russian_blocks() -> dict[str, tuple[str, ...]]:
    """Russian block variants a/b/c from ``replica/data/block_ru_*.txt``."""
    folder = files("replica") / "data"
    return {
        variant: tuple((folder / f"block_ru_{variant}.txt").read_text(encoding="utf-8").splitlines())
        for variant in "abc"
    }


def block_lines(lang: str, variant: str) -> tuple[str, ...]:
    """The 12 lines of one block variant in one language."""
    return (english_blocks() if lang == "en" else russian_blocks())[variant]


@functools.cache
def seed_articles() -> tuple[Article, ...]:
    """The five English seed articles, body text exactly as in the snapshots."""
    rng = random.Random(SEED + 1)
    articles = []
    for key, text in _seed_files().items():
        lines = text.split("\n")[12:]
        if key == "000":
            title, published, paragraphs = SEED_000_TITLE, SEED_000_DATE, lines
            date_text = format_date(published, "en")
        else:
            title, date_text, repeated, *paragraphs = lines
            assert repeated == title, f"seed {key}: title not repeated"
            day, month, year = date_text.split()
            published = date(int(year), words.MONTHS_EN.index(month) + 1, int(day))
        body: list = list(paragraphs)
        if key in SEED_FIGURES:
            body.insert(SEED_FIGURES[key], Figure(rng.randrange(1000, 9000), f"seed_{key}_photo"))
        suffix = _uuid(rng) if key in SEED_WITH_UUID else None
        slug = make_slug(SEED_RU_TITLES[key], SEED_SLUG_WORDS[key], suffix)
        articles.append(Article(slug, "en", title, published, date_text, tuple(body), "seed"))
    return tuple(articles)


# ---------------------------------------------------------------------------- generated news


@dataclass(frozen=True)
class _Abstract:
    """A generated article before rendering: the same structure renders in EN and RU."""

    kind: str
    ctx: NS
    published: date
    pad_day: bool
    slug: str
    paragraphs: tuple  # of tuples of (template index, slot namespace); index -1 = the lead
    figures: tuple  # of (paragraph index, Figure)


def _day_month(day: date) -> NS:
    return NS(en=f"{words.MONTHS_EN[day.month - 1]} {day.day}", ru=f"{day.day} {words.MONTHS_RU_GEN[day.month - 1]}")


def _slots(rng: random.Random, base: NS) -> NS:
    """Per-sentence slots: the article's own context plus fresh secondary choices."""
    p2 = rng.choice([p for p in words.PERSONS if p is not base.p])
    c2 = rng.choice([c for c in words.COUNTRIES if c is not base.c])
    city2 = rng.choice([c for c in words.CITIES if c is not base.city])
    law2 = rng.choice([law for law in words.LAWS if law is not base.law])
    later = base.day + timedelta(days=rng.randint(7, 75))
    fresh = dict(
        p2=p2,
        c2=c2,
        city2=city2,
        law2=law2,
        org=rng.choice(words.ORGS),
        field=rng.choice(words.FIELDS),
        n=rng.randint(3, 6),
        n5=rng.randint(5, 9),
        big10=rng.randint(2, 40) * 10,
        big=rng.randint(12, 300),
        pct=rng.randint(11, 64),
        yprev=base.year - rng.randint(1, 3),
        d2=_day_month(later),
    )
    return NS(**{**vars(base), **fresh})


def _context(rng: random.Random, day: date) -> NS:
    country = rng.choice(words.COUNTRIES)
    city = words.CAPITALS[country.key] if rng.random() < 0.6 else rng.choice(words.CITIES)
    return NS(
        p=rng.choice(words.PERSONS),
        c=country,
        city=city,
        com=rng.choice(words.COMMISSIONS),
        law=rng.choice(words.LAWS),
        org=rng.choice(words.ORGS),
        ex=rng.choice(words.EXERCISES),
        elec=rng.choice(words.ELECTIONS),
        year=day.year,
        ynext=day.year + 1,
        day=day,
        d=_day_month(day),
    )


def _render_sentence(item: tuple, kind: str, lang: str) -> str:
    index, slots = item
    if index < 0:
        template = words.KINDS[kind][2 if lang == "en" else 3]
    else:
        template = words.SENTENCES[index][0 if lang == "en" else 1]
    return template.format(**vars(slots))


def _generate_one(rng: random.Random, day: date, used_slugs: set[str]) -> _Abstract:
    """One article of a random kind; ``used_slugs`` (slugs and 'title:' entries) keeps both unique."""
    kind = rng.choice(sorted(words.KINDS))
    for _ in range(100):
        ctx = _context(rng, day)
        ru_title = words.KINDS[kind][1].format(**vars(ctx))
        if f"title:{ru_title}" in used_slugs:  # every generated title is distinct
            continue
        slug = make_slug(ru_title, rng.randint(5, 8), _uuid(rng) if rng.random() < 0.25 else None)
        if slug in used_slugs:  # like friendly_id, disambiguate with a UUID
            slug = make_slug(ru_title, 8, _uuid(rng))
        if slug not in used_slugs:
            break
    used_slugs.update((slug, f"title:{ru_title}"))
    pool = list(range(len(words.SENTENCES)))
    rng.shuffle(pool)
    n_paragraphs = rng.randint(5, 12)
    paragraphs = [[(-1, ctx)] + [(pool.pop(), _slots(rng, ctx)) for _ in range(rng.randint(0, 1))]]
    for _ in range(n_paragraphs - 1):
        size = rng.choice((1, 1, 2, 2, 2))
        paragraphs.append([(pool.pop(), _slots(rng, ctx)) for _ in range(size)])
    figures = []
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 2)):
            where = rng.randrange(len(paragraphs))
            figures.append((where, Figure(rng.randrange(10000, 99999), f"img_{rng.randrange(1000, 9999)}")))
    return _Abstract(
        kind,
        ctx,
        day,
        day.day < 10 and rng.random() < 0.4,
        slug,
        tuple(tuple(p) for p in paragraphs),
        tuple(sorted(figures, key=lambda f: f[0])),
    )


def _render(abstract: _Abstract, lang: str, paragraphs: tuple | None = None, origin: str = "generated") -> Article:
    paragraphs = abstract.paragraphs if paragraphs is None else paragraphs
    title = words.KINDS[abstract.kind][0 if lang == "en" else 1].format(**vars(abstract.ctx))
    title = title[0].upper() + title[1:]
    body: list = []
    for index, paragraph in enumerate(paragraphs):
        body += [figure for where, figure in abstract.figures if where == index]
        body.append(" ".join(_render_sentence(item, abstract.kind, lang) for item in paragraph))
    date_text = format_date(abstract.published, lang, pad=abstract.pad_day and lang == "en")
    return Article(abstract.slug, lang, title, abstract.published, date_text, tuple(body), origin)


@dataclass(frozen=True)
class _Generated:
    base: tuple  # N_GENERATED _Abstract, oldest first
    added: tuple  # the two of epoch 3
    faults: tuple  # bodies for fault pages
    russian: frozenset  # slugs of base articles the Russian site serves
    edited: str
    edit: tuple  # (paragraph index, sentence index, new item)
    removed: str


@functools.cache
def _generated() -> _Generated:
    rng = random.Random(SEED)
    used = {article.slug for article in seed_articles()}
    taken = {article.published for article in seed_articles()} | set(ADDED_DATES)
    span = (date(2025, 9, 30) - ARCHIVE_START).days
    days = {ARCHIVE_START}
    while len(days) < N_GENERATED:
        day = ARCHIVE_START + timedelta(days=rng.randrange(span))
        if day not in taken:
            days.add(day)
    base = tuple(_generate_one(rng, day, used) for day in sorted(days))
    added = tuple(_generate_one(rng, day, used) for day in ADDED_DATES)
    faults = tuple(_generate_one(rng, date(2025, 10, 1) + timedelta(days=i), used) for i in range(N_FAULT_ARTICLES))
    russian = rng.sample(range(1, N_GENERATED), N_RUSSIAN)  # never the 2013-07-11 article
    # The edit: a Russian-served article with a two-sentence paragraph; change its second sentence.
    for index in russian:
        candidates = [i for i, p in enumerate(base[index].paragraphs) if len(p) == 2 and p[1][0] >= 0]
        if candidates:
            edited, where = base[index], candidates[0]
            break
    else:  # pragma: no cover - the fixed seed always finds one
        raise AssertionError("no paragraph to edit")
    template, old_slots = edited.paragraphs[where][1]
    for _ in range(100):
        new_item = (template, _slots(rng, edited.ctx))
        if all(
            _render_sentence(new_item, edited.kind, lang) != _render_sentence((template, old_slots), edited.kind, lang)
            for lang in LANGS
        ):
            break
    removed = next(base[i] for i in russian if base[i] is not edited)
    return _Generated(
        base, added, faults, frozenset(base[i].slug for i in russian), edited.slug, (where, 1, new_item), removed.slug
    )


def _edited_paragraphs(abstract: _Abstract, edit: tuple) -> tuple:
    where, sentence, item = edit
    paragraphs = [list(p) for p in abstract.paragraphs]
    paragraphs[where][sentence] = item
    return tuple(tuple(p) for p in paragraphs)


# ---------------------------------------------------------------------------- the site per epoch


def _epoch_changes() -> dict:
    gen = _generated()
    changes = {
        1: {"block": "a", "edited": [], "removed": [], "added": []},
        2: {"block": "b", "edited": [gen.edited], "removed": [], "added": []},
        3: {"block": "c", "edited": [], "removed": [gen.removed], "added": [a.slug for a in gen.added]},
    }
    return {lang: changes for lang in LANGS}


# EPOCH_CHANGES[lang][epoch]: what differs from the previous epoch. The slugs are the same on
# both sites (the edited and removed articles are among those the Russian site serves).
EPOCH_CHANGES: dict = _epoch_changes()


def edit_details(lang: str) -> dict:
    """The epoch-2 edit: article slug, paragraph index, and the sentence before and after."""
    gen = _generated()
    abstract = next(a for a in gen.base if a.slug == gen.edited)
    where, sentence, item = gen.edit
    return {
        "slug": gen.edited,
        "paragraph": where,
        "old": _render_sentence(abstract.paragraphs[where][sentence], abstract.kind, lang),
        "new": _render_sentence(item, abstract.kind, lang),
    }


@functools.cache
def site_state(lang: str, epoch: int) -> SiteState:
    """The articles (newest first) and block of one language's site at one epoch."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    if epoch not in EPOCHS:
        raise ValueError(f"epoch must be one of {EPOCHS}, not {epoch!r}")
    gen = _generated()
    abstracts = [a for a in gen.base if lang == "en" or a.slug in gen.russian]
    if epoch >= 3:
        abstracts = [a for a in abstracts if a.slug != gen.removed] + list(gen.added)
    articles = []
    for abstract in abstracts:
        if epoch >= 2 and abstract.slug == gen.edited:
            articles.append(_render(abstract, lang, _edited_paragraphs(abstract, gen.edit)))
        else:
            articles.append(_render(abstract, lang))
    if lang == "en":
        articles += seed_articles()
    articles.sort(key=lambda a: (a.published, a.slug), reverse=True)
    variant = EPOCH_BLOCK[epoch]
    return SiteState(lang, epoch, variant, block_lines(lang, variant), tuple(articles))


def fault_article(index: int, lang: str, slug: str) -> Article:
    """A generated article served on a fault page (never listed, never in the sitemap)."""
    abstract = dataclasses.replace(_generated().faults[index], slug=slug)
    return _render(abstract, lang, origin="fault")


def all_figures() -> dict[str, Figure]:
    """Every image path any page of any epoch or language shows."""
    found = {}
    for lang in LANGS:
        for epoch in EPOCHS:
            for article in site_state(lang, epoch).articles:
                found.update({figure.path: figure for figure in article.figures})
    for index in range(N_FAULT_ARTICLES):
        found.update({figure.path: figure for figure in fault_article(index, "en", "x").figures})
    return found
