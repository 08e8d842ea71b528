"""The `digits` command line: train, evaluate, predict and data, run as a user runs them."""

import argparse
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


def digits(*args, home=DATA_HOME, check=True, cwd=ROOT):
    env = {**os.environ, "DIGITS_HOME": str(home)}
    if home is None:  # as a user runs it, with no DIGITS_HOME
        env.pop("DIGITS_HOME")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_train_writes_a_model_that_evaluate_reports_on(tmp_path):
    out = tmp_path / "small.npz"
    result = digits(
        "train",
        "--hidden",
        "32",
        "--epochs",
        "2",
        "--max-train-samples",
        "3000",
        "--no-augment",
        "--seed",
        "3",
        "--out",
        out,
    )
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
    assert text.startswith(f"data home: {DATA_HOME} (DIGITS_HOME)")


def test_without_digits_home_the_checkout_keeps_its_var_wherever_it_is_run(tmp_path, mnist):
    """Run from another folder, the commands use the checkout's var/ (never ./var there)."""
    text = digits("data", "info", home=None, cwd=tmp_path).stdout
    assert text.startswith(f"data home: {DATA_HOME} (the development checkout's var/")
    assert mnist.fingerprint in text
    seven = tmp_path / "seven.png"
    Image.fromarray(255 - mnist.test_x[0]).save(seven)
    assert digits("predict", seven, home=None, cwd=tmp_path).stdout.startswith(f"{seven}: 7")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seven.png"]  # no var/ left here


def test_installed_elsewhere_the_data_home_is_the_user_data_folder(tmp_path, monkeypatch):
    from app.config import default_home

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_home(tmp_path / "site-packages") == tmp_path / "xdg" / "digits"
    assert default_home(ROOT) == ROOT / "var"  # this checkout


def test_every_option_says_what_it_does_and_its_default():
    from app.cli import parser

    top = parser()
    commands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    seen = set()
    for name, command in commands.choices.items():
        text = command.format_help()
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            seen.add(name)
            assert action.help, f"digits {name} {action.dest}: no help"
            shown = action.default
            if isinstance(shown, tuple):
                shown = ",".join(map(str, shown))
            if shown not in (None, False) and action.option_strings:
                flat = " ".join(text.split())
                assert f"(default: {shown})" in flat or "(default" in action.help, (name, action)
    assert seen == {"serve", "train", "evaluate", "predict", "models", "data", "lab", "db"}
    train = " ".join(commands.choices["train"].format_help().split())
    assert "--epochs EPOCHS full passes over the training split (default: 30)" in train
    assert "--activation {relu,sigmoid,tanh}" in train  # the model's own list
    serve = " ".join(commands.choices["serve"].format_help().split())
    assert "(default: 127.0.0.1)" in serve and "(default: 8000)" in serve


@pytest.mark.parametrize(
    ("flag", "value", "said"),
    [
        ("--lr", "-1", "must be between 1e-05 and 2.0, got -1"),
        ("--lr", "nan", "must be between 1e-05 and 2.0, got nan"),
        ("--epochs", "101", "must be between 1 and 100"),
        ("--hidden", "2000", "expected 1 to 4 widths of 1 to 1024 units"),
        ("--hidden", "1,2,3,4,5", "expected 1 to 4 widths"),
        ("--max-train-samples", "50", "must be between 100 and 55000"),
    ],
)
def test_train_refuses_what_the_admin_retrain_refuses_before_training(tmp_path, flag, value, said):
    """A negative rate once trained for 30 epochs to a model of NaN weights."""
    result = digits("train", flag, value, "--out", tmp_path / "m.npz", check=False)
    assert result.returncode == 2 and said in result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_a_training_that_diverges_within_the_bounds_says_so_on_its_own_line(tmp_path):
    out = tmp_path / "m.npz"
    steep = ["--lr", "2.0", "--momentum", "0.999", "--weight-decay", "0.1", "--batch-size", "8"]
    small = ["--hidden", "512,256", "--max-train-samples", "1000", "--no-augment"]
    marks = ["--synthetic-share", "0", "--mark-share", "0", "--epochs", "1"]
    result = digits("train", *steep, *small, *marks, "--out", out, check=False)
    assert result.returncode == 2 and not out.exists()
    last = result.stderr.splitlines()[-1]
    assert last.startswith("digits: error: the training loss became nan in epoch 1")
    assert "RuntimeWarning" not in result.stderr


def test_one_epoch_is_one_epoch(tmp_path):
    out = tmp_path / "m.npz"
    quick = [
        "--hidden",
        "8",
        "--max-train-samples",
        "500",
        "--no-augment",
        "--synthetic-share",
        "0",
    ]
    result = digits("train", "--epochs", "1", *quick, "--out", out)
    assert ", 1 epoch, augment=False" in result.stderr


def test_models_lists_activates_and_deletes_as_the_admin_api_does(tmp_path):
    from model.registry import Registry

    home = tmp_path / "home"
    listed = digits("models", home=home).stdout  # a fresh home gets the shipped model
    registry = Registry(home)
    shipped = registry.active_version()
    accuracy = registry.load(shipped).meta["metrics"]["mnist_test_accuracy"]
    assert _marked(listed) == shipped and f"{accuracy:.2%}" in listed
    other = registry.add(MLP([784, 16, 10], "relu", seed=2), {"metrics": {}})
    assert (
        f"{other} is now the active model" in digits("models", "activate", other, home=home).stdout
    )
    assert registry.active_version() == other
    assert _marked(digits("models", "list", home=home).stdout) == other
    refused = digits("models", "delete", other, "--yes", home=home, check=False)
    assert refused.returncode == 2 and "is active" in refused.stderr
    asked = digits("models", "delete", shipped, home=home, check=False)  # no terminal to ask on
    assert asked.returncode == 2 and "--yes" in asked.stderr
    assert (
        digits("models", "delete", shipped, "--yes", home=home).stdout.strip()
        == f"{shipped} deleted"
    )
    assert [m["version"] for m in registry.metas()] == [other]
    missing = digits("models", "activate", "20990101-000000-abcdef", home=home, check=False)
    assert missing.returncode == 2 and "no model version" in missing.stderr


def test_errors_are_one_clear_line_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.npz"
    save_model(bad, MLP([784, 4, 10]), {"version": "x"})
    bad.write_bytes(bad.read_bytes()[:100])
    result = digits("evaluate", bad, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("digits: error:") and "Traceback" not in result.stderr


def test_a_misused_command_says_what_is_wrong_in_one_line(tmp_path):
    """From a newcomer's read-through: each of these was a traceback, a misleading line, or
    (--port 99999) a server on another port than it said."""
    junk, empty = tmp_path / "junk.npz", tmp_path / "results.json"
    junk.write_text("not a model")
    empty.write_text("{}")
    npy = tmp_path / "array.npz"  # one bare array, saved as .npy and renamed
    with npy.open("wb") as f:
        np.save(f, np.zeros(3))
    cases = [
        (("evaluate", junk), "is not an .npz archive of arrays"),
        (("evaluate", tmp_path / "missing.npz"), "model file not found"),
        (("lab", "--from-results", tmp_path / "none.json"), "cannot read"),
        (("lab", "--from-results", empty), "is not a lab results.json (schema: Field required)"),
        (("serve", "--port", "99999"), "--port: must be between 0 and 65535, got 99999"),
        (("serve", "--workers", "0"), "--workers: must be between 1 and 64, got 0"),
        (("data", "fetch", "--from", tmp_path / "nowhere"), "nowhere is not a folder"),
        (("evaluate", npy), "is not an .npz archive of arrays"),
        (("train", "--epochs", "2.5"), "--epochs: expected a whole number, got '2.5'"),
    ]
    for args, said in cases:
        out = ("--out", tmp_path) if args[0] == "lab" else ()  # nothing written in the repo
        result = digits(*args, *out, check=False)
        assert result.returncode == 2 and said in result.stderr, (args, result.stderr)
        assert "allow_pickle" not in result.stderr and "Traceback" not in result.stderr


def _marked(listing: str) -> str:
    """The version on the row that `digits models` marks active (*)."""
    (row,) = [line for line in listing.splitlines() if line.startswith("* ") and "(" not in line]
    return row.split()[1]
