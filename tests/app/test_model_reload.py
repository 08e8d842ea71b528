"""Hot reload: a newly activated model is served within seconds; a broken one never is."""

from __future__ import annotations

import re
import threading
import time

import numpy as np
from drawings import SEVEN_PIXELS

from model.network import MLP
from model.registry import Registry

SEVEN = {"pixels": SEVEN_PIXELS}


def eventually(condition, timeout: float = 2.0) -> bool:
    """Poll condition() until it is true or timeout seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def served_version(client) -> str:
    return client.post("/api/predict", json=SEVEN).json()["model"]["version"]


def metric(client, name: str) -> float:
    """One sample's value from /metrics, e.g. 'digits_model_loads_total{result="error"}'."""
    match = re.search(rf"^{re.escape(name)} (\S+)$", client.get("/metrics").text, re.MULTILINE)
    return float(match.group(1)) if match else float("nan")


def always_three() -> MLP:
    """A network that answers 3 with certainty, whatever it is shown."""
    weights, biases = [np.zeros((784, 10))], [np.zeros(10)]
    biases[0][3] = 50.0
    return MLP([784, 10], weights=weights, biases=biases)


def test_a_newly_activated_version_is_served_within_seconds(client, tmp_path):
    registry = Registry(tmp_path)
    first = registry.active_version()
    assert served_version(client) == first
    new = registry.add(MLP([784, 16, 10], seed=1), {"metrics": {"note": "test"}})
    registry.activate(new)
    assert eventually(lambda: served_version(client) == new)
    assert client.get("/api/model").json()["sizes"] == [784, 16, 10]
    assert client.get("/readyz").json()["model_version"] == new
    assert metric(client, 'digits_model_loads_total{result="ok"}') == 2
    created = registry.load(new).meta["created"]
    info = f'digits_model_info{{created="{created}",version="{new}"}} 1.0'
    assert info in client.get("/metrics").text


def test_a_version_that_cannot_be_loaded_leaves_the_old_model_serving(client, tmp_path):
    registry = Registry(tmp_path)
    first = registry.active_version()
    broken = registry.add(MLP([784, 16, 10]), {"metrics": {}})
    registry.path(broken).write_bytes(b"this is not a model file")
    registry.active_file.write_text(broken)  # activate() would refuse it; write ACTIVE directly

    assert eventually(lambda: metric(client, 'digits_model_loads_total{result="error"}') == 1)
    r = client.post("/api/predict", json=SEVEN)
    assert r.status_code == 200
    assert r.json()["model"]["version"] == first
    assert client.get("/readyz").status_code == 200

    # The failure is not retried every poll, and a good version is picked up afterwards.
    time.sleep(0.2)
    assert metric(client, 'digits_model_loads_total{result="error"}') == 1
    good = registry.add(MLP([784, 16, 10]), {"metrics": {}})
    registry.activate(good)
    assert eventually(lambda: served_version(client) == good)


def test_garbage_in_the_active_file_leaves_the_old_model_serving(client, tmp_path):
    registry = Registry(tmp_path)
    first = registry.active_version()
    registry.active_file.write_text("../../etc/passwd\n")
    assert eventually(lambda: metric(client, 'digits_model_loads_total{result="error"}') == 1)
    assert served_version(client) == first


def test_a_process_whose_active_model_is_broken_falls_back_to_the_newest_that_loads(
    make_client, tmp_path, caplog
):
    registry = Registry(tmp_path)
    registry.ensure_initialised()
    good = registry.add(MLP([784, 16, 10]), {"metrics": {}})
    broken = registry.add(MLP([784, 16, 10]), {"metrics": {}})
    registry.activate(broken)
    registry.path(broken).write_bytes(b"\0" * 100)

    client = make_client()
    assert client.get("/readyz").status_code == 200
    assert served_version(client) == good and registry.active_version() == good
    assert f"the active model version {broken} cannot be loaded; serving {good}" in caplog.text


def test_an_active_version_that_is_missing_falls_back_too(make_client, tmp_path, caplog):
    """ACTIVE naming a deleted version made every prediction 503 after a restart."""
    registry = Registry(tmp_path)
    shipped = registry.ensure_initialised()
    registry.active_file.write_text("20250101-000000-abcdef")  # as a lost race once left it
    client = make_client()
    assert served_version(client) == shipped and registry.active_version() == shipped
    assert "20250101-000000-abcdef cannot be loaded" in caplog.text


def test_every_answer_comes_from_the_version_it_names(client, tmp_path):
    """While the active version flips back and forth, no answer mixes two models."""
    registry = Registry(tmp_path)
    real = registry.active_version()
    three = registry.add(always_three(), {"metrics": {}})
    stop = threading.Event()

    def flip():
        while not stop.is_set():
            for version in (three, real):
                registry.activate(version)
                time.sleep(0.08)

    flipper = threading.Thread(target=flip)
    flipper.start()
    seen, answers = set(), 0
    try:
        start = time.monotonic()
        # At least a second of traffic, and on until both versions have answered (at most 4 s).
        while time.monotonic() - start < 4 and (len(seen) < 2 or time.monotonic() - start < 1):
            body = client.post("/api/predict", json=SEVEN).json()
            version = body["model"]["version"]
            seen.add(version)
            answers += 1
            if version == three:
                assert (body["digit"], body["confidence"]) == (3, 1.0)
            else:
                assert version == real and body["digit"] == 7
    finally:
        stop.set()
        flipper.join()
    assert answers > 50
    assert seen == {real, three}


def test_start_up_clears_what_a_killed_promotion_left(make_client, tmp_path, caplog):
    registry = Registry(tmp_path)
    shipped = registry.ensure_initialised()
    half = registry.root / "20250101-000000-abcdef"
    half.mkdir()
    (half / ".model.npz.k3j.tmp").write_bytes(b"partial")
    (registry.root / ".ACTIVE.m2.tmp").write_bytes(b"partial")
    client = make_client()
    assert served_version(client) == shipped
    assert sorted(p.name for p in registry.root.iterdir()) == [".lock", "ACTIVE", shipped]
    assert "removed 20250101-000000-abcdef/ from the model registry" in caplog.text
