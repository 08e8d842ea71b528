"""Model files and the registry: round trips, checksums, atomic activation, the shipped model."""

import json
import multiprocessing
import threading

import numpy as np
import pytest

from model.modelfile import ModelFileError, load_model, read_meta, save_model
from model.network import MLP
from model.registry import SHIPPED_MODEL, Registry
from model.train import evaluate


def test_save_and_load_round_trip_rebuilds_the_network_from_its_file(tmp_path):
    net = MLP([784, 20, 15, 10], "sigmoid", seed=4)
    meta = save_model(tmp_path / "m.npz", net, {"version": "v1", "config": {"epochs": 3}})
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.network.sizes == [784, 20, 15, 10]
    assert loaded.network.activation.name == "sigmoid"
    assert loaded.meta == meta and loaded.version == "v1"
    x = np.random.default_rng(0).uniform(0, 1, (4, 784)).astype(np.float32)
    assert np.array_equal(loaded.network.predict(x), net.predict(x))
    assert not list(tmp_path.glob("*.tmp")), "no temporary file is left behind"


def test_a_file_whose_weights_were_altered_fails_its_checksum(tmp_path):
    net = MLP([784, 8, 10], seed=0)
    meta = save_model(tmp_path / "m.npz", net, {"version": "v1"})
    net.weights[0][0, 0] += 1e-3  # same metadata, different weights
    arrays = {f"w{i}": w for i, w in enumerate(net.weights)} | {
        f"b{i}": b for i, b in enumerate(net.biases)
    }
    np.savez(tmp_path / "m.npz", meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(ModelFileError, match="fails its checksum"):
        load_model(tmp_path / "m.npz")


def test_truncated_and_garbage_files_are_refused_clearly(tmp_path):
    save_model(tmp_path / "m.npz", MLP([784, 8, 10], seed=0), {"version": "v1"})
    raw = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "m.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelFileError, match="unreadable"):
        load_model(tmp_path / "m.npz")
    (tmp_path / "g.npz").write_bytes(b"not a model")
    with pytest.raises(ModelFileError):
        load_model(tmp_path / "g.npz")
    with pytest.raises(ModelFileError, match="not found"):
        load_model(tmp_path / "missing.npz")


def test_a_fresh_registry_starts_on_the_shipped_model(tmp_path):
    registry = Registry(tmp_path)
    assert registry.active_version() is None
    version = registry.ensure_initialised()
    assert version == read_meta(SHIPPED_MODEL)["version"]
    assert registry.versions() == [version]
    assert registry.load_active().version == version


def _start_registry(home, barrier, results) -> None:
    barrier.wait()
    try:
        registry = Registry(home)
        registry.load(registry.ensure_initialised())
        results.put("ok")
    except Exception as e:  # reported to the test, which shows it
        results.put(f"{type(e).__name__}: {e}")


def test_workers_starting_together_on_a_fresh_home_all_load_the_shipped_model(tmp_path):
    """The workers of one server initialise the registry at the same moment: none may see the
    shipped model half-copied. (It used to be copied in place: in a run of 20 such homes, 29 of
    the 80 processes failed to load it.) Spawned, not forked: the test process has threads."""
    context = multiprocessing.get_context("spawn")
    outcomes = []
    for attempt in range(10):
        barrier, results = context.Barrier(4), context.Queue()
        workers = [
            context.Process(
                target=_start_registry, args=(tmp_path / str(attempt), barrier, results)
            )
            for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        outcomes += [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
    assert outcomes == ["ok"] * 40, [o for o in outcomes if o != "ok"][:3]


def test_add_activate_and_delete_versions(tmp_path):
    registry = Registry(tmp_path)
    first = registry.ensure_initialised()
    second = registry.add(MLP([784, 8, 10], seed=1), {"metrics": {"mnist_test_accuracy": 0.5}})
    assert registry.active_version() == first, "a new version is not active until promoted"
    registry.activate(second)
    assert registry.active_version() == second
    assert [m["version"] for m in registry.metas()][0] == second
    with pytest.raises(ValueError, match="active"):
        registry.delete(second)
    registry.delete(first)
    assert registry.versions() == [second]


def test_activating_a_corrupted_version_is_refused_and_the_active_one_stays(tmp_path):
    registry = Registry(tmp_path)
    first = registry.ensure_initialised()
    bad = registry.add(MLP([784, 8, 10], seed=1), {})
    registry.path(bad).write_bytes(b"garbage")
    with pytest.raises(ModelFileError):
        registry.activate(bad)
    assert registry.active_version() == first
    assert "error" in next(m for m in registry.metas() if m["version"] == bad)


@pytest.mark.parametrize("version", ["../etc", "/abs", "a/b", "..", "x" * 65, "%2e%2e"])
def test_versions_are_names_never_paths(tmp_path, version):
    with pytest.raises(ModelFileError, match="not a valid model version"):
        Registry(tmp_path).path(version)


def test_the_shipped_model_matches_its_checksum_and_recorded_accuracy(mnist_test):
    loaded = load_model(SHIPPED_MODEL)
    recorded = loaded.meta["metrics"]["mnist_test_accuracy"]
    x, y = mnist_test
    assert evaluate(loaded.network, x, y)["accuracy"] == recorded
    assert recorded >= 0.985
    assert SHIPPED_MODEL.stat().st_size < 5_000_000


def test_activate_and_delete_of_one_version_never_both_succeed(tmp_path):
    """They raced: both answered success and ACTIVE named a deleted version."""
    registry = Registry(tmp_path)
    registry.ensure_initialised()
    outcomes = []
    for _ in range(15):
        version = registry.add(MLP([784, 256, 10], seed=2), {})
        barrier = threading.Barrier(2)
        done = {}

        def attempt(name, action, version=version, barrier=barrier, done=done):
            barrier.wait()
            try:
                action(version)
                done[name] = True
            except (ModelFileError, ValueError):
                done[name] = False

        threads = [
            threading.Thread(target=attempt, args=("activate", registry.activate)),
            threading.Thread(target=attempt, args=("delete", registry.delete)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outcomes.append((done["activate"], done["delete"]))
        assert registry.path(registry.active_version()).exists()
        registry.fall_back()  # back to a version that exists, for the next round
    assert (True, True) not in outcomes
    assert all(a or d for a, d in outcomes)  # one of the two always wins


def test_only_digit_models_are_activated(tmp_path):
    """A valid file with the wrong shapes was activated, then every prediction was a 500."""
    registry = Registry(tmp_path)
    first = registry.ensure_initialised()
    for sizes in ([100, 10], [784, 16, 5], [784, 16, 12]):
        version = registry.add(MLP(sizes, seed=0), {})
        with pytest.raises(ModelFileError, match="not a digit model"):
            registry.activate(version)
        assert registry.active_version() == first


def test_clean_removes_what_an_interrupted_promotion_left(tmp_path):
    registry = Registry(tmp_path)
    first = registry.ensure_initialised()
    half = registry.root / "20250101-000000-abcdef"
    half.mkdir()
    (half / ".model.npz.x1y2.tmp").write_bytes(b"partial")
    (registry.root / ".ACTIVE.z9.tmp").write_bytes(b"partial")
    (registry.root / first / ".meta.json.q.tmp").write_bytes(b"partial")
    removed = registry.clean()
    assert sorted(removed) == sorted(
        ["20250101-000000-abcdef/", ".ACTIVE.z9.tmp", f"{first}/.meta.json.q.tmp"]
    )
    assert not half.exists() and registry.versions() == [first]
    assert registry.load_active().version == first
    assert registry.clean() == []
