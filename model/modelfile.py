"""A model file: one ``.npz`` that is enough to rebuild a network, and proves it is intact.

It holds the arrays ``w0, b0, w1, b1, …`` and ``meta``, a JSON string with everything needed to
rebuild the network (sizes, activation), how it was made (train config, data fingerprint,
parent version, created time), its metrics, and the sha256 of its parameters. A file whose
checksum does not match is refused, never loaded as a silently wrong model. Files are written
atomically (``model.atomic``).
"""

from __future__ import annotations

import hashlib
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


def save_model(path: Path, network: MLP, meta: dict) -> dict:
    """Write network and meta to path atomically; returns the meta as stored (with checksum)."""
    meta = {
        **meta,
        "sizes": network.sizes,
        "activation": network.activation.name,
        "sha256": parameters_sha256(network),
    }
    meta.setdefault("created", datetime.now(UTC).isoformat(timespec="seconds"))
    arrays = {}
    for i, (w, b) in enumerate(zip(network.weights, network.biases)):
        arrays[f"w{i}"], arrays[f"b{i}"] = w, b
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    atomic_write(Path(path), lambda f: np.savez_compressed(f, **arrays))
    return meta


def load_model(path: Path) -> LoadedModel:
    """Rebuild a network from its file and verify its checksum. Raises ModelFileError."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            layers = len(meta["sizes"]) - 1
            weights = [npz[f"w{i}"] for i in range(layers)]
            biases = [npz[f"b{i}"] for i in range(layers)]
    except FileNotFoundError:
        raise ModelFileError(f"model file not found: {path}") from None
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ModelFileError(f"model file {path} is unreadable or incomplete: {e}") from None
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


def read_meta(path: Path) -> dict:
    """The metadata of a model file, without loading or verifying its weights."""
    with np.load(path, allow_pickle=False) as npz:
        return json.loads(str(npz["meta"]))
