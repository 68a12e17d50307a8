"""Every module of the project imports on its own, and no two project modules import each other."""

from __future__ import annotations

import ast
import pickle
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cli", "crawler", "datasette_pa_archive", "dedupe")


def project_modules() -> dict[str, Path]:
    """Dotted name -> file, for every .py file of the installed packages (bench/ is a checkout's tool, not one)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports, anywhere in the file (TYPE_CHECKING blocks excepted)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known and m != name}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle_among_project_modules() -> None:
    modules = project_modules()
    graph = {name: imported_modules(name, path, set(modules)) for name, path in modules.items()}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_check_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    names = sorted(project_modules())
    code = (
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in {names!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_the_library_imports_neither_click_nor_datasette() -> None:
    """dedupe/ is the library: the commands live in cli.py, the Datasette plugin in datasette_pa_archive/."""
    modules = project_modules()
    for name, path in modules.items():
        if name.split(".")[0] != "dedupe":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not [n for n in names if n.split(".")[0] in ("click", "datasette")], f"{name} imports {names}"


def test_a_refresh_that_derives_no_signature_does_not_import_datasketch(tmp_path: Path) -> None:
    """datasketch (with its LSH, Redis and aiohttp storage) and scipy cost 0.6 s to import: a re-crawl
    that stores one 304 paid it in its writer, half of its 1.3 s. They load where a signature is made."""
    from dedupe.archive import Archive
    from dedupe.document import RawSnapshot
    from tests.replica_corpus import replica_snapshots

    db = tmp_path / "archive.db"
    first = replica_snapshots(("en",))[0]
    with Archive(db) as archive:
        archive.ingest([first], workers=1)
    code = (
        "import sys; from dedupe.archive import Archive; from dedupe.document import RawSnapshot; "
        f"a = Archive({str(db)!r}); "
        f"r = a.ingest([RawSnapshot({first.url!r}, '2031-01-01T00:00:00Z', None, source='crawl', http_status=304, "
        f"page_type={first.page_type!r})], "
        "workers=1); a.close(); "
        "print(r.after['snapshots'] - r.before['snapshots'], "
        "sorted(m for m in ('datasketch', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "1 []"
    assert RawSnapshot  # the class the child builds its 304 with


def test_a_week_of_pages_seen_again_loads_no_extractor_and_no_minhash(tmp_path: Path) -> None:
    """A writer that stores only pages it already holds (the same bytes again, a weekly crawl's usual
    finding) analyses nothing, so it must not pay for loading trafilatura and htmldate (0.3 s) nor
    datasketch and scipy (0.6-1.2 s): the record stage names languages with ``dedupe.language``, and an
    article seen again reuses its versions' stored similarities instead of reading signatures."""
    import dataclasses

    from dedupe.archive import Archive
    from tests.replica_corpus import replica_snapshots

    db = tmp_path / "archive.db"
    corpus = sorted(replica_snapshots(("en",)), key=lambda s: (s.observed_at, s.url))
    with Archive(db) as archive:
        archive.ingest(corpus, workers=1)
        multi = archive.db.execute("SELECT url FROM articles WHERE versions > 1 ORDER BY id").fetchall()
    assert multi  # articles with versions: their similarities are what would need signatures
    again = [max((s for s in corpus if s.url == url), key=lambda s: s.observed_at) for (url,) in multi]
    pickled = tmp_path / "again.pickle"
    pickled.write_bytes(pickle.dumps([dataclasses.replace(s, observed_at="2031-01-01T00:00:00Z") for s in again]))
    code = (
        "import pickle, sys; from dedupe.archive import Archive; "
        f"pages = pickle.loads(open({str(pickled)!r}, 'rb').read()); a = Archive({str(db)!r}); "
        "r = a.ingest(pages, workers=1); a.close(); "
        "grown = {k: r.after[k] - r.before[k] for k in ('snapshots', 'article_versions')}; "
        "print(grown['snapshots'], grown['article_versions'], "
        "sorted(m for m in ('datasketch', 'scipy', 'trafilatura', 'htmldate') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == f"{len(again)} 0 []"


def test_loading_the_spider_installs_no_twisted_reactor() -> None:
    """run_crawl imports the spider before Scrapy installs the asyncio reactor its settings ask for: a module the
    spider imports that imports ``twisted.internet.reactor`` installs Twisted's default one first, and every crawl
    fails ('The installed reactor ... does not match the requested one')."""
    code = "import sys, crawler.process, crawler.spiders.pacsto; print('twisted.internet.reactor' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "False"
