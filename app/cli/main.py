"""The `digits` command's parser, assembled from one module per command group, and main()."""

from __future__ import annotations

import argparse
import sys

from app.cli import data, db, evaluate, lab, models, predict, serve, train
from app.cli.common import HelpFormatter

COMMANDS = (serve, train, evaluate, predict, models, data, lab, db)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="digits",
        description="Draw a digit, watch a neural network written in NumPy read it: the web app, "
        "and the network's training, evaluation and models from the command line. Everything "
        "is kept under the data home (DIGITS_HOME; `digits data info` says where it is), or, "
        "with DIGITS_DATABASE_URL set, in the PostgreSQL database that several hosts share.",
        formatter_class=HelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    from app.db import DatabaseError
    from model.data import DataError
    from model.modelfile import ModelFileError

    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (DataError, ModelFileError, ValueError, DatabaseError) as e:
        print(f"digits: error: {e}", file=sys.stderr)
        return 2
