"""What the `digits` commands share: the data home and the stores, the help format, numbers
within bounds, loading a model."""

from __future__ import annotations

import argparse
import atexit
import functools
from pathlib import Path


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, as argparse's ArgumentDefaultsHelpFormatter
    does, except where a default says nothing: None (the help says what happens instead), an
    on/off flag's off (--augment/--no-augment does say its default), or a default the help
    already names."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or default is None
            or default is argparse.SUPPRESS
            or (action.nargs == 0 and not isinstance(action, argparse.BooleanOptionalAction))
            or not (action.option_strings or action.nargs in (argparse.OPTIONAL, "*"))
        ):
            return text
        if isinstance(default, tuple | list):
            default = ",".join(map(str, default))
        return f"{text} (default: {str(default).replace('%', '%%')})"


def add_command(sub, name: str, help: str, description: str | None = None):
    """A subcommand's parser with the shared help format; its description defaults to help."""
    text = description or (help[0].upper() + help[1:] + ".")
    return sub.add_parser(name, help=help, description=text, formatter_class=HelpFormatter)


def home() -> Path:
    """The data home (DIGITS_HOME, else app.config.default_home())."""
    from app.config import get_settings

    return Path(get_settings().home)


@functools.cache
def stores():
    """The stores the settings name (the data home, or the shared database, migrated), once per
    command: a command sees what the servers see. The feedback store is opened only by what
    reads it."""
    from app.config import get_settings
    from app.stores import open_stores

    opened = open_stores(get_settings(), name="digits-cli", pool_size=2)
    atexit.register(opened.close)
    opened.migrate()
    return opened


def home_line() -> str:
    """Where the data home is and why, for `digits serve` and `digits data info`."""
    import os

    from app.config import default_home

    where = home().resolve()
    if os.environ.get("DIGITS_HOME", "").strip():
        why = "DIGITS_HOME"
    elif where == default_home().resolve() and where.name == "var":
        why = "the development checkout's var/; set DIGITS_HOME to move it"
    else:
        why = "your user data folder; set DIGITS_HOME to move it"
    return f"data home: {where} ({why})"


def within(lo: float, hi: float, kind: type = int):
    """An argparse type: a ``kind`` number from ``lo`` to ``hi`` (NaN is outside)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo} and {hi}, got {text}")
        return value

    return parse


def plural(n: int, word: str) -> str:
    """1 epoch, 2 epochs."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def load(model: str | None):
    """A model file, a registry version, or (None) the active version of the registry."""
    from model.modelfile import load_model

    path = Path(model) if model else None
    if path is not None and (path.exists() or path.suffix == ".npz" or len(path.parts) > 1):
        return load_model(path)  # a path, even a missing one: "model file not found"
    registry = stores().registry
    return registry.load_active() if model is None else registry.load(model)  # a version name


MODEL_HELP = "a model file or a registry version (default: the active version)"
