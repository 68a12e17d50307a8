"""``python -m cli COMMAND``: the ``pa-archive`` command line (used where the script may not be on PATH)."""

from cli import cli

if __name__ == "__main__":
    cli(prog_name="pa-archive")
