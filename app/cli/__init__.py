"""The `digits` command, one module per command group, assembled in ``app.cli.main``:

``serve`` (the web app), ``train``, ``evaluate``, ``predict``, ``models`` (the registry's
versions: list, activate, delete), ``data`` (MNIST: fetch, info), ``lab`` (the lecture's
experiments) and ``db`` (the shared database: migrate, check). ``common`` holds what they share:
the data home and the stores, the help format, loading a model.
"""

from app.cli.main import main, parser

__all__ = ["main", "parser"]
