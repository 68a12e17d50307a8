"""The README's Quickstart and "Using it" command lines, run as a newcomer runs them, each must exit 0.

What is adapted, and why: `pip install` is skipped (the test runs in the installed project) and so
is `pytest` (it is this suite); the demo's archive is the one every later line uses
(``PA_ARCHIVE_DB``, as the README says); a line run twice is run once; the loopback ports 8000 and
8001 become free ones (CI may have them taken); a line ending in ``&`` is started, must answer on
its port, and is stopped by the test at the end. `pa-archive demo` is run so once a test run, in a
folder of its own, for this test and the demo's own (``tests.support.shared.demo``); its folder is
copied here.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import shared

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SKIPPED = ("pip", "pytest")


def readme_commands(sections: tuple[str, ...] = ("Quickstart", "Using it")) -> list[str]:
    """Command lines of the ```bash blocks in those sections, comments cut, split at '&&', in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands: list[str] = []
    for section in sections:
        body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
        for block in re.findall(r"```bash\n(.*?)```", body, re.S):
            for line in block.splitlines():
                line = re.sub(r"\s+#\s.*$", "", line).strip()
                commands += [part.strip() for part in line.split("&&") if part.strip()]
    return commands


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{url}: the command exited with {process.returncode}"
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_the_readme_lists_what_a_newcomer_needs() -> None:
    commands = readme_commands()
    assert "pa-archive demo" in commands and "pa-archive import --seeds" in commands
    assert not any("shared/seeds" in c or "…" in c for c in commands)  # nothing that does not exist in a clone


def test_every_readme_command_runs_and_exits_0(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    ports = {"8000": str(free_port()), "8001": str(free_port())}
    env = {
        **os.environ,
        "PA_ARCHIVE_DB": str(tmp_path / "demo-archive.db"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    background: list[subprocess.Popen] = []
    seen: set[str] = set()
    try:
        for command in readme_commands():
            if command.split()[0] in SKIPPED or command in seen:
                continue
            seen.add(command)
            for old, new in ports.items():
                command = command.replace(old, new)
            if command == "pa-archive demo":  # run once a test run, as here (own folder, $PA_ARCHIVE_DB): its files
                made, done = shared.demo(tmp_path_factory)
                assert done["returncode"] == 0, f"{command}\n{done['stdout'][-2000:]}\n{done['stderr'][-2000:]}"
                assert "Traceback" not in done["stderr"], f"{command}\n{done['stderr'][-2000:]}"
                shared.copy_of(made, tmp_path)
                continue
            if command.endswith("&"):
                argv = shlex.split(command[:-1])
                process = subprocess.Popen(
                    argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                background.append(process)
                port = next(p for p in ports.values() if p in command)
                wait_for(f"http://127.0.0.1:{port}/", process)
                continue
            done = subprocess.run(
                shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
            )
            assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            assert "Traceback" not in done.stderr, f"{command}\n{done.stderr[-2000:]}"
    finally:
        for process in background:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
    assert len(seen) >= 15
