"""The versioned registry of models under ``<home>/models/``, and which version is active.

The registry keeps one folder per version; each holds ``model.npz`` (``model.modelfile``) and a
readable copy of its metadata as ``meta.json``. The active version is named in ``ACTIVE``, a small
file replaced atomically, so every serving process can cheaply notice a change.

The rules that keep it consistent, across threads and processes:

- Every change (a new version, an activation, a deletion, a clean-up) holds one lock, an
  ``flock`` on ``models/.lock``, so an activation and a deletion of the same version can never
  both succeed: ``ACTIVE`` never names a missing version.
- A version is activated only once its file loads, passes its checksum and has the shape of a
  digit model (784 inputs; 10 outputs, or 11 with "not a digit").
- ``clean`` removes what a process killed mid-write leaves (temporary files, a version folder
  without its model); ``fall_back`` makes the newest version that loads the active one when
  ``ACTIVE`` names one that does not.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from model.atomic import atomic_write
from model.modelfile import LoadedModel, ModelFileError, load_model, read_meta, save_model
from model.network import MLP

SHIPPED_MODEL = Path(__file__).parent / "weights" / "default.npz"
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# What a served model reads (28×28 pixels) and gives: ten digit scores, and perhaps an eleventh
# for "not a digit" (model/verdict.py).
INPUTS, OUTPUTS = 784, (10, 11)

log = logging.getLogger(__name__)


class VersionNotFound(ModelFileError):
    """No such version in the registry."""


def _write_meta(path: Path, meta: dict) -> None:
    text = json.dumps(meta, indent=2, sort_keys=True).encode()
    atomic_write(path, lambda f: f.write(text))


class Registry:
    """Versioned models under ``<home>/models``. The shipped default becomes the first version."""

    def __init__(self, home: Path, shipped: Path = SHIPPED_MODEL):
        self.root = Path(home) / "models"
        self.active_file = self.root / "ACTIVE"
        self.lock_file = self.root / ".lock"
        self.shipped = Path(shipped)

    def path(self, version: str) -> Path:
        """The model file of a version. Versions are validated names, never paths."""
        if not VERSION_PATTERN.match(version):
            raise ModelFileError(f"not a valid model version: {version!r}")
        return self.root / version / "model.npz"

    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            d.name
            for d in self.root.iterdir()
            if (d / "model.npz").is_file() and not d.name.startswith(".")
        )

    def active_version(self) -> str | None:
        """The active version's name, read from one small file (cheap enough to poll)."""
        try:
            return self.active_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the registry's lock: every change happens inside it (threads and processes)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def ensure_initialised(self) -> str:
        """On a fresh data home, register the shipped default and make it active."""
        active = self.active_version()
        if active is not None:
            return active
        with self._locked():
            return self.active_version() or self._install_shipped()

    def _install_shipped(self) -> str:
        """Copy the shipped model in as a version (if it is not there) and activate it."""
        version = read_meta(self.shipped)["version"]
        try:
            self.load(version)  # already installed, and intact
        except ModelFileError:
            loaded = load_model(self.shipped)  # verify before copying
            # Atomically: the workers of one server all start on a fresh home at once, and one
            # that sees the file must never read it half-copied.
            shipped = self.shipped.read_bytes()
            self._install(version, lambda dest: atomic_write(dest, lambda f: f.write(shipped)))
            _write_meta(self.root / version / "meta.json", loaded.meta)
        self._activate(version)
        return version

    def add(self, network: MLP, meta: dict) -> str:
        """Store a new version (not yet active); returns its name."""
        created = datetime.now(UTC)
        version = meta.get("version") or created.strftime("%Y%m%d-%H%M%S-") + os.urandom(3).hex()
        full = {**meta, "version": version, "created": created.isoformat(timespec="seconds")}
        stored = {}

        def write(dest: Path):
            stored.update(save_model(dest, network, full))

        with self._locked():
            self._install(version, write)
            _write_meta(self.root / version / "meta.json", stored)
        return version

    def _install(self, version: str, write) -> None:
        dest = self.path(version)
        dest.parent.mkdir(parents=True, exist_ok=True)
        write(dest)

    def load(self, version: str) -> LoadedModel:
        """A version's model, verified: its checksum, its name, and the shape of a digit model.
        Raises VersionNotFound, or ModelFileError for a file that cannot be served."""
        path = self.path(version)
        if not path.exists():
            raise VersionNotFound(f"there is no model version {version!r}")
        loaded = load_model(path)
        if loaded.version != version:
            raise ModelFileError(f"{path} holds version {loaded.version}, not {version}")
        sizes = loaded.network.sizes
        if sizes[0] != INPUTS or sizes[-1] not in OUTPUTS:
            raise ModelFileError(
                f"{path} is not a digit model: it reads {sizes[0]} inputs and gives {sizes[-1]} "
                f"outputs, where a digit model reads {INPUTS} (28×28) and gives 10 (or 11, with "
                "'not a digit')"
            )
        return loaded

    def load_active(self) -> LoadedModel:
        return self.load(self.ensure_initialised())

    def activate(self, version: str) -> None:
        """Make version active, after verifying its file. Raises VersionNotFound, or
        ModelFileError if the file cannot be served; the active version is then unchanged."""
        with self._locked():
            self._activate(version)

    def _activate(self, version: str) -> None:
        self.load(version)
        atomic_write(self.active_file, lambda f: f.write(version.encode()))

    def delete(self, version: str) -> None:
        """Remove a version that is not active. Raises ValueError (active), VersionNotFound."""
        with self._locked():
            if version == self.active_version():
                raise ValueError(f"version {version} is active and cannot be deleted")
            path = self.path(version)
            if not path.exists():
                raise VersionNotFound(f"there is no model version {version!r}")
            shutil.rmtree(path.parent)

    def clean(self) -> list[str]:
        """Remove what a process killed while writing left behind: temporary files, and version
        folders without a model file. Returns what was removed (paths under the registry)."""
        if not self.root.is_dir():
            return []
        removed = []
        with self._locked():  # no write is under way while the lock is held
            for entry in sorted(self.root.iterdir()):
                if entry.is_dir() and not entry.name.startswith("."):
                    leftovers = list(entry.glob(".*.tmp"))
                    if not (entry / "model.npz").is_file():
                        shutil.rmtree(entry)
                        removed.append(entry.name + "/")
                        continue
                elif entry.name.startswith(".") and entry.name.endswith(".tmp"):
                    leftovers = [entry]
                else:
                    continue
                for leftover in leftovers:
                    leftover.unlink(missing_ok=True)
                    removed.append(str(leftover.relative_to(self.root)))
        return removed

    def fall_back(self) -> str | None:
        """If ACTIVE names a version that cannot be loaded, activate the newest that can (the
        shipped model as the last resort) and return its name; None if ACTIVE was good."""
        with self._locked():
            active = self.active_version()
            if active is not None:
                with contextlib.suppress(ModelFileError):
                    self.load(active)
                    return None
            for meta in self.metas():
                if meta.get("error") is None and meta["version"] != active:
                    try:
                        self._activate(meta["version"])
                    except ModelFileError as e:
                        log.warning("version %s cannot be served either: %s", meta["version"], e)
                        continue
                    return meta["version"]
            return self._install_shipped()

    def metas(self) -> list[dict]:
        """Metadata of every version, newest first; unreadable ones say so instead of failing."""
        result = []
        for version in self.versions():
            try:
                meta = read_meta(self.path(version))
            except Exception as e:  # a damaged file must not hide the others
                meta = {"version": version, "error": str(e)}
            result.append(meta)
        return sorted(result, key=lambda m: m.get("created", ""), reverse=True)
