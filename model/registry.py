"""The registry of model versions, and which one is active: its rules, and its files on disk.

Two things live here, and read best together:

- ``ModelRegistry``, the rules every registry keeps, whatever stores its models. Every change (a
  new version, an activation, a deletion) holds the registry's one lock, so an activation and a
  deletion of the same version can never both succeed: the active version always exists. A
  version is activated only once its file loads, passes its checksum and has the shape of a
  digit model (784 inputs; 10 outputs, or 11 with "not a digit"). ``fall_back`` makes the newest
  version that loads the active one when the active one does not. On a fresh store the shipped
  default becomes the first version.
- ``Registry``, the embedded storage: one folder per version under ``<home>/models``, each with
  ``model.npz`` (``model.modelfile``) and a readable ``meta.json``; the active version named in
  ``ACTIVE``, a small file replaced atomically, so every serving process can cheaply notice a
  change; the lock an ``flock`` on ``models/.lock``; ``clean`` removes what a process killed
  mid-write leaves (temporary files, a version folder without its model).

A registry shared by hosts keeps the same model files in PostgreSQL (``app/db/registry.py``:
this package never needs a database driver, so it lives in the app).
"""

from __future__ import annotations

import abc
import contextlib
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from pathlib import Path

from model.atomic import atomic_write
from model.filelock import exclusive
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


def check_version(version: str) -> str:
    """A version is a validated name, never a path. Raises ModelFileError."""
    if not VERSION_PATTERN.match(version):
        raise ModelFileError(f"not a valid model version: {version!r}")
    return version


class ModelRegistry(abc.ABC):
    """The rules of a registry. A storage implements the primitives marked abstract; each change
    calls them inside ``locked()``."""

    shipped: Path
    where: str  # where the models are kept, for messages

    # -- what a storage provides

    @abc.abstractmethod
    def versions(self) -> list[str]:
        """Every version's name, sorted."""

    @abc.abstractmethod
    def active_version(self) -> str | None:
        """The active version's name (None on a fresh store)."""

    @abc.abstractmethod
    def active_stamp(self) -> Hashable:
        """A value that changes whenever the active version may have changed (cheap to poll)."""

    @abc.abstractmethod
    def locked(self) -> contextlib.AbstractContextManager:
        """Hold the registry's lock (across threads, processes and, for a shared store, hosts)."""

    @abc.abstractmethod
    def metas(self) -> list[dict]:
        """Metadata of every version, newest first; unreadable ones say so instead of failing."""

    @abc.abstractmethod
    def _read(self, version: str) -> LoadedModel:
        """A version's model, checksum verified. Raises VersionNotFound or ModelFileError."""

    @abc.abstractmethod
    def _store(self, version: str, network: MLP, meta: dict) -> None:
        """Keep a new version (under the lock)."""

    @abc.abstractmethod
    def _store_file(self, version: str, data: bytes, meta: dict) -> None:
        """Keep a model file as it is, bytes for bytes (under the lock): the shipped model."""

    @abc.abstractmethod
    def _set_active(self, version: str) -> None:
        """Name the active version (under the lock)."""

    @abc.abstractmethod
    def _remove(self, version: str) -> None:
        """Forget a version (under the lock)."""

    def clean(self) -> list[str]:
        """Remove what a process killed while writing left behind; what was removed."""
        return []

    def subscribe(self, changed: Callable[[], None]) -> Callable[[], None]:
        """Call ``changed()`` (from any thread) as soon as the active version may have changed,
        when the storage can say so; returns what stops it. Watchers poll ``active_stamp`` too."""
        return lambda: None

    # -- the rules

    def ensure_initialised(self) -> str:
        """On a fresh store, register the shipped default and make it active."""
        active = self.active_version()
        if active is not None:
            return active
        with self.locked():
            return self.active_version() or self._install_shipped()

    def _install_shipped(self) -> str:
        """Keep the shipped model as a version (if it is not there) and activate it."""
        version = read_meta(self.shipped)["version"]
        try:
            self.load(version)  # already installed, and intact
        except ModelFileError:
            loaded = load_model(self.shipped)  # verify before copying
            self._store_file(version, self.shipped.read_bytes(), loaded.meta)
        self._activate(version)
        return version

    def add(self, network: MLP, meta: dict) -> str:
        """Store a new version (not yet active); returns its name."""
        created = datetime.now(UTC)
        version = meta.get("version") or created.strftime("%Y%m%d-%H%M%S-") + os.urandom(3).hex()
        created_text = created.isoformat(timespec="seconds")
        full = {**meta, "version": check_version(version), "created": created_text}
        with self.locked():
            self._store(version, network, full)
        return version

    def load(self, version: str) -> LoadedModel:
        """A version's model, verified: its checksum, its name, and the shape of a digit model.
        Raises VersionNotFound, or ModelFileError for a file that cannot be served."""
        loaded = self._read(check_version(version))
        if loaded.version != version:
            raise ModelFileError(f"{version} in {self.where} holds version {loaded.version}")
        sizes = loaded.network.sizes
        if sizes[0] != INPUTS or sizes[-1] not in OUTPUTS:
            raise ModelFileError(
                f"version {version} is not a digit model: it reads {sizes[0]} inputs and gives "
                f"{sizes[-1]} outputs, where a digit model reads {INPUTS} (28×28) and gives 10 "
                "(or 11, with 'not a digit')"
            )
        return loaded

    def load_active(self) -> LoadedModel:
        return self.load(self.ensure_initialised())

    def activate(self, version: str) -> None:
        """Make version active, after verifying its file. Raises VersionNotFound, or
        ModelFileError if the file cannot be served; the active version is then unchanged."""
        with self.locked():
            self._activate(version)

    def _activate(self, version: str) -> None:
        self.load(version)
        self._set_active(version)

    def delete(self, version: str) -> None:
        """Remove a version that is not active. Raises ValueError (active), VersionNotFound."""
        check_version(version)
        with self.locked():
            if version == self.active_version():
                raise ValueError(f"version {version} is active and cannot be deleted")
            if version not in self.versions():
                raise VersionNotFound(f"there is no model version {version!r}")
            self._remove(version)

    def fall_back(self) -> str | None:
        """If the active version cannot be loaded, activate the newest that can (the shipped
        model as the last resort) and return its name; None if the active one was good."""
        with self.locked():
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


def _write_meta(path: Path, meta: dict) -> None:
    text = json.dumps(meta, indent=2, sort_keys=True).encode()
    atomic_write(path, lambda f: f.write(text))


class Registry(ModelRegistry):
    """Versioned models under ``<home>/models``. The shipped default becomes the first version."""

    def __init__(self, home: Path, shipped: Path = SHIPPED_MODEL):
        self.root = Path(home) / "models"
        self.where = str(self.root)
        self.active_file = self.root / "ACTIVE"
        self.lock_file = self.root / ".lock"
        self.shipped = Path(shipped)

    def path(self, version: str) -> Path:
        """The model file of a version. Versions are validated names, never paths."""
        return self.root / check_version(version) / "model.npz"

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

    def active_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.active_file.stat()
        except FileNotFoundError:
            return None
        # An atomic replace gives a new inode; an in-place edit changes mtime or size.
        return st.st_ino, st.st_mtime_ns, st.st_size

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold the registry's lock: every change happens inside it (threads and processes)."""
        return exclusive(self.lock_file)

    def _read(self, version: str) -> LoadedModel:
        path = self.path(version)
        if not path.exists():
            raise VersionNotFound(f"there is no model version {version!r}")
        return load_model(path)

    def _store(self, version: str, network: MLP, meta: dict) -> None:
        dest = self.path(version)
        dest.parent.mkdir(parents=True, exist_ok=True)
        stored = save_model(dest, network, meta)
        _write_meta(dest.parent / "meta.json", stored)

    def _store_file(self, version: str, data: bytes, meta: dict) -> None:
        dest = self.path(version)
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Atomically: the workers of one server all start on a fresh home at once, and one that
        # sees the file must never read it half-copied.
        atomic_write(dest, lambda f: f.write(data))
        _write_meta(dest.parent / "meta.json", meta)

    def _set_active(self, version: str) -> None:
        atomic_write(self.active_file, lambda f: f.write(version.encode()))

    def _remove(self, version: str) -> None:
        shutil.rmtree(self.path(version).parent)

    def clean(self) -> list[str]:
        """Remove what a process killed while writing left behind: temporary files, and version
        folders without a model file. Returns what was removed (paths under the registry)."""
        if not self.root.is_dir():
            return []
        removed = []
        with self.locked():  # no write is under way while the lock is held
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

    def metas(self) -> list[dict]:
        result = []
        for version in self.versions():
            try:
                meta = read_meta(self.path(version))
            except Exception as e:  # a damaged file must not hide the others
                meta = {"version": version, "error": str(e)}
            result.append(meta)
        return sorted(result, key=lambda m: m.get("created", ""), reverse=True)
