"""The `digits` command line: train, evaluate, predict and data, run as a user runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model import trust
from model.modelfile import load_model, save_model
from model.network import MLP
from model.pendigits import PEN_DIGITS

ROOT = Path(__file__).resolve().parents[1]
DATA_HOME = ROOT / "var"


def digits(*args, home=DATA_HOME, check=True):
    env = {**os.environ, "DIGITS_HOME": str(home)}
    result = subprocess.run([sys.executable, "-m", "app.cli", *map(str, args)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_train_writes_a_model_that_evaluate_reports_on(tmp_path):
    out = tmp_path / "small.npz"
    result = digits("train", "--hidden", "32", "--epochs", "2", "--max-train-samples", "3000",
                    "--no-augment", "--seed", "3", "--out", out)  # fmt: skip
    assert "epoch   2/2" in result.stderr and "validation" in result.stderr
    assert f"model written to {out}" in result.stdout
    printed = float(result.stdout.split("test accuracy ")[1].split("%")[0]) / 100
    loaded = load_model(out)
    assert loaded.network.sizes == [784, 32, 11]  # the default recipe learns "not a digit" too
    assert loaded.meta["config"]["seed"] == 3 and len(loaded.meta["history"]) == 2
    assert loaded.meta["metrics"]["mnist_test_accuracy"] == pytest.approx(printed, abs=5e-5)
    if PEN_DIGITS.exists():  # calibrated on the drawn digits of 20 writers, measured on 10 more
        assert loaded.meta["calibration"]["fitted_on"] == trust.FITTED_ON
        assert 0.2 < loaded.meta["calibration"]["temperature"] < 5
        drawn = loaded.meta["metrics"]["drawn"]
        assert drawn["digits"] > 2000 and 0.5 < drawn["accuracy"] < 1
        assert 0 <= drawn["marks_detected"] <= 1 and "called 'not a digit'" in result.stdout
        assert f"{drawn['accuracy']:.2%} of {drawn['digits']:,} right" in result.stdout
    else:  # without ../shared: the defaults, said to be such
        assert loaded.meta["calibration"]["fitted_on"] is None

    report = json.loads(digits("evaluate", out, "--json").stdout)
    assert report["accuracy"] == loaded.meta["metrics"]["mnist_test_accuracy"]
    assert len(report["per_class"]) == 10
    confusion = np.array(report["confusion"])
    assert confusion.shape == (10, 11) and confusion.sum() == 10_000  # column 10: "not a digit"
    assert report["digit_accuracy"] >= report["accuracy"] and 0 <= report["flagged"] < 0.5
    assert confusion.trace() / 10_000 == pytest.approx(report["accuracy"])


def test_evaluate_defaults_to_the_active_model_of_the_data_home(tmp_path):
    (tmp_path / "mnist.npz").symlink_to(DATA_HOME / "mnist.npz")
    text = digits("evaluate", home=tmp_path).stdout
    assert "MNIST test accuracy" in text and "confusion" in text


def test_predict_prints_the_digit_and_ten_probabilities(tmp_path, mnist):
    seven = Image.fromarray(255 - mnist.test_x[0]).resize((200, 200))  # test digit 0 is a 7
    seven.save(tmp_path / "seven.png")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    result = digits("predict", tmp_path / "seven.png", tmp_path / "junk.png", check=False)
    line = result.stdout.strip()
    assert line.startswith(f"{tmp_path / 'seven.png'}: 7 ")
    assert len(line.split("(")[1].split()) == 10
    assert result.returncode == 1 and "junk.png: error" in result.stderr


def test_data_info_names_the_cache_and_its_fingerprint(mnist):
    text = digits("data", "info").stdout
    assert str(DATA_HOME / "mnist.npz") in text and mnist.fingerprint in text


def test_errors_are_one_clear_line_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.npz"
    save_model(bad, MLP([784, 4, 10]), {"version": "x"})
    bad.write_bytes(bad.read_bytes()[:100])
    result = digits("evaluate", bad, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("digits: error:") and "Traceback" not in result.stderr
