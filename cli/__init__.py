"""pa-archive: the command line. Each command parses options, calls the library, formats.

The commands live in this package by subject (``archive``, ``crawl``, ``web_archives``,
``serve``, ``bench``) and are registered on the one group here. Heavy libraries (Scrapy,
trafilatura, datasketch, Datasette) are imported inside the commands that need them.
Run `pa-archive COMMAND --help` for examples.
"""

from __future__ import annotations

import click

from cli import archive, bench, crawl, rosters, serve, web_archives


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pa-archive")
def cli() -> None:
    """Archive the CSTO Parliamentary Assembly's website with its history.

    Snapshots (imported files or crawled pages) are split into articles and the
    repeated page furniture (the delegation block), stored once per version in
    archive.db, with the facts each block version states and where they conflict.

    \b
    Quick tour:
      pa-archive demo                      # a local replica crawled at three moments: what changed
      pa-archive import snapshots/         # files, folders, globs, JSON Lines
      pa-archive blocks                    # delegation block variants, when seen
      pa-archive conflicts                 # facts that disagree between snapshots
      pa-archive history a1                # every version of article 1
      pa-archive diff bv-1a2b bv-3c4d --words
      pa-archive roster --changes          # who joined and left each delegation, when
      pa-archive parity                    # where the English and Russian sites disagree
    """


for _module in (archive, crawl, web_archives, serve, bench, rosters):
    for _command in _module.COMMANDS:
        cli.add_command(_command)
