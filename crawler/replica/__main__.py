"""``python -m crawler.replica``: serve the replica until Ctrl-C."""

import sys

from .server import main

if __name__ == "__main__":
    sys.exit(main())
