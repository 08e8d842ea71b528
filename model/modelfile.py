"""A model file: one ``.npz`` that is enough to rebuild a network, and proves it is intact.

It holds the arrays ``w0, b0, w1, b1, …`` and ``meta``, a JSON string with everything needed to
rebuild the network (sizes, activation), how it was made (train config, data fingerprint,
parent version, created time), its metrics, and the sha256 of its parameters. A file whose
checksum does not match is refused, never loaded as a silently wrong model. Files are written
atomically (``model.atomic``). The same bytes can live elsewhere than in a file (a registry in a
database keeps them as they are): ``model_bytes`` makes them, and ``load_model`` reads either.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from model.atomic import atomic_write
from model.network import MLP


class ModelFileError(RuntimeError):
    """A model file is missing, unreadable, inconsistent or fails its checksum."""


@dataclass(frozen=True)
class LoadedModel:
    network: MLP
    meta: dict

    @property
    def version(self) -> str:
        return self.meta["version"]


def parameters_sha256(network: MLP) -> str:
    """sha256 over every parameter's shape, dtype and bytes, in MLP.parameters order."""
    digest = hashlib.sha256()
    for p in network.parameters:
        digest.update(f"{p.shape}{p.dtype.str}".encode())
        digest.update(np.ascontiguousarray(p).tobytes())
    return digest.hexdigest()


def _complete(network: MLP, meta: dict) -> dict:
    """The metadata as stored: what rebuilds the network, and the checksum of its parameters."""
    meta = {
        **meta,
        "sizes": network.sizes,
        "activation": network.activation.name,
        "sha256": parameters_sha256(network),
    }
    meta.setdefault("created", datetime.now(UTC).isoformat(timespec="seconds"))
    return meta


def _write(f, network: MLP, meta: dict) -> None:
    arrays = {}
    for i, (w, b) in enumerate(zip(network.weights, network.biases)):
        arrays[f"w{i}"], arrays[f"b{i}"] = w, b
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    np.savez_compressed(f, **arrays)


def save_model(path: Path, network: MLP, meta: dict) -> dict:
    """Write network and meta to path atomically; returns the meta as stored (with checksum)."""
    meta = _complete(network, meta)
    atomic_write(Path(path), lambda f: _write(f, network, meta))
    return meta


def model_bytes(network: MLP, meta: dict) -> tuple[bytes, dict]:
    """The bytes of the model file ``save_model`` would write, and the meta as stored."""
    meta = _complete(network, meta)
    buffer = io.BytesIO()
    _write(buffer, network, meta)
    return buffer.getvalue(), meta


def load_model(source: Path | bytes, name: str | None = None) -> LoadedModel:
    """Rebuild a network from its file (a path, or the file's bytes) and verify its checksum.
    ``name`` says where the bytes came from, in errors. Raises ModelFileError."""
    path = name or (f"{len(source)} bytes" if isinstance(source, bytes) else str(source))
    try:
        with _archive(source) as npz:
            meta = json.loads(str(npz["meta"]))
            layers = len(meta["sizes"]) - 1
            weights = [npz[f"w{i}"] for i in range(layers)]
            biases = [npz[f"b{i}"] for i in range(layers)]
    except FileNotFoundError:
        raise ModelFileError(f"model file not found: {path}") from None
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as e:
        # NumPy takes a file that is no .npz or .npy for a pickle, and refuses it in words that
        # suggest loading it unsafely: say what the file is not instead.
        why = "it is not an .npz archive of arrays" if "allow_pickle" in str(e) else e
        raise ModelFileError(f"model file {path} is unreadable or incomplete: {why}") from None
    try:
        network = MLP(meta["sizes"], meta["activation"], weights=weights, biases=biases)
    except (KeyError, ValueError) as e:
        raise ModelFileError(f"model file {path} is inconsistent: {e}") from None
    actual = parameters_sha256(network)
    if actual != meta.get("sha256"):
        raise ModelFileError(
            f"model file {path} fails its checksum: recorded {meta.get('sha256')}, actual {actual}"
        )
    return LoadedModel(network, meta)


def read_meta(source: Path | bytes) -> dict:
    """The metadata of a model file, without loading or verifying its weights."""
    with _archive(source) as npz:
        return json.loads(str(npz["meta"]))


def _archive(source: Path | bytes) -> np.lib.npyio.NpzFile:
    """The model file as NumPy opens it; ValueError when it is one bare array (an .npy)."""
    opened = io.BytesIO(source) if isinstance(source, bytes) else source
    loaded = np.load(opened, allow_pickle=False)
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ValueError("it is not an .npz archive of arrays")
    return loaded
