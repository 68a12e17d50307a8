"""A local replica of the CSTO PA website (pacsto.org in English, paodkb.org in Russian).

The machines have no internet: the demo and the end-to-end tests crawl this instead. See
``shared/site.md`` for the facts it follows; ``content`` holds the data, ``render`` the
templates, ``site`` the routing, ``faults`` the fault pages and ``server`` the HTTP server.
"""

from .content import EPOCH_CHANGES, EPOCHS, LANGS, PAGE_SIZE, edit_details, site_state
from .faults import FAULT_PATHS, FAULTS
from .server import ReplicaServer
from .site import ReplicaSite

__all__ = [
    "EPOCHS",
    "EPOCH_CHANGES",
    "FAULTS",
    "FAULT_PATHS",
    "LANGS",
    "PAGE_SIZE",
    "ReplicaServer",
    "ReplicaSite",
    "edit_details",
    "site_state",
]
