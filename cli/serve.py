"""``pa-archive serve``: the archive in Datasette, read-only, with the project's metadata and plugin.

The work is ``datasette_pa_archive.serving``'s; Datasette is imported only when the command runs.
"""

from __future__ import annotations

import tempfile

import click

from cli.options import db_option
from dedupe.readonly import uri_safe_path


def serving_module():
    """``datasette_pa_archive.serving``, or one sentence when Datasette is not installed."""
    try:
        from datasette_pa_archive import serving
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("datasette", "markupsafe", "jinja2", "yaml"):
            raise click.ClickException("Datasette is not installed: pip install 'pa-archive[datasette]'") from None
        raise
    return serving


def port_problem(host: str, port: int) -> str | None:
    """One sentence when ``host:port`` cannot be listened on (in use, not an address of this machine), checked
    before anything is printed: uvicorn said "Serving ..." first, then "address already in use", exit 3."""
    import errno
    import socket

    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError:
        return f"cannot serve on {host}: it is not an address of this machine."
    family, kind, proto, _, address = infos[0]
    try:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            sock.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (
                f"port {port} on {host} is already in use (another `pa-archive serve`?): "
                f"stop it, or give another port, e.g. --port {port + 1}."
            )
        return f"cannot serve on {host}:{port}: {exc.strerror or exc}."
    return None


@click.command(context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]})
@db_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 makes the archive reachable from other machines.",
)
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option(
    "--print-metadata",
    is_flag=True,
    help="Print the Datasette metadata (YAML) fitted to this archive and exit, for `datasette -m`.",
)
@click.argument("datasette_args", nargs=-1, type=click.UNPROCESSED)
def serve(db_path: str, host: str, port: int, print_metadata: bool, datasette_args: tuple[str, ...]) -> None:
    """Browse the archive in Datasette: canned questions, search, diffs and a seats timeline.

    Datasette reads the archive and never writes to it, so it can run while a crawl or
    an import adds snapshots. Open http://127.0.0.1:8001/ and start with "Conflicting
    facts" or the seats timeline. Arguments after -- go to `datasette serve`.

    \b
    Example:
      pa-archive serve --db archive.db
      pa-archive serve --port 8002 -- --setting sql_time_limit_ms 5000
      pa-archive serve --print-metadata > metadata.yml && datasette archive.db -m metadata.yml
    """
    serving = serving_module()
    try:
        tables = serving.check_archive(db_path)
    except serving.NotAnArchive as exc:
        raise click.ClickException(str(exc)) from None
    if print_metadata:
        click.echo(serving.metadata_yaml(db_path, tables), nl=False)
        return
    if serving.is_stale(db_path):
        click.echo(
            "note: the derived tables lag behind the latest snapshots; the next `pa-archive import` "
            "or crawl refreshes them.",
            err=True,
        )
    extra = [a for a in datasette_args if a != "--"]
    if "--get" not in extra:
        problem = port_problem(host, port)
        if problem:
            raise click.ClickException(problem)
    with tempfile.TemporaryDirectory(prefix="pa-archive-serve-") as folder:
        served = uri_safe_path(db_path, folder)  # Datasette pastes the path into file:...?mode=ro unescaped
        metadata_path = serving.write_metadata(served, tables, folder)
        if "--get" not in extra:
            click.echo(f"Serving {db_path} read-only at http://{host}:{port}/ (Ctrl-C stops)", err=True)
        serving.run_datasette(serving.datasette_argv(served, metadata_path, host, port, extra))


COMMANDS = (serve,)
