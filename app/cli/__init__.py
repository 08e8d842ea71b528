"""The `digits` command, one module per command group, assembled in ``app.cli.main``:

``serve`` (the web app), ``train``, ``evaluate``, ``predict``, ``models`` (the registry's
versions: list, activate, delete), ``data`` (MNIST: fetch, info) and ``lab`` (the lecture's
experiments). ``common`` holds what they share: the data home, the help format, loading a model.
"""

from app.cli.main import main, parser

__all__ = ["main", "parser"]
