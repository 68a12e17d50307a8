"""The incremental engine's stages, one module each; ``dedupe.archive.incremental`` runs them in order.

``pages`` (what a window of snapshots brings), ``lines`` (line and title clusters), ``texts`` (article
text groups), ``evidence`` (evidence and furniture of a round), ``round_texts`` (a round's article
texts and block runs), ``blocks`` (blocks and block versions), ``records`` (the public rows) and
``ranks`` (public ids as ranks); ``sql`` holds every statement they run, ``model`` the values they pass.
"""
