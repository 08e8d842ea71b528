"""`digits train`: train a network on MNIST, with a progress bar, into a file or the registry.

Its choices and defaults are the model's own: TrainConfig's defaults, the activations, losses
and schedules that model/ defines, and the feedback weight of model.feedback_data. Its numbers
have the admin retrain's bounds (RETRAIN_LIMITS): the command line and the admin page accept
the same trainings, and a typo (a negative rate, 2000 units) is refused before a run is spent.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli.common import add_command, plural, stores, within
from app.retrain_limits import RETRAIN_LIMITS
from model.feedback_data import DEFAULT_WEIGHT
from model.losses import LOSSES
from model.network import ACTIVATIONS
from model.optim import SCHEDULES
from model.train import TrainConfig, TrainingDiverged, short_run_note, training_set_size

DEFAULTS = TrainConfig()


def _within(name: str, kind: type = int):
    """An argparse type: a ``kind`` number within RETRAIN_LIMITS[name]."""
    return within(*RETRAIN_LIMITS[name], kind)


def _hidden(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(w) for w in text.split(",") if w.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected widths like 512,256, got {text!r}") from None
    (few, many), (narrow, wide) = RETRAIN_LIMITS["hidden_layers"], RETRAIN_LIMITS["width"]
    if not few <= len(widths) <= many or not all(narrow <= w <= wide for w in widths):
        raise argparse.ArgumentTypeError(
            f"expected {few} to {many} widths of {narrow} to {wide} units, got {text!r}"
        )
    return widths


def add_parser(sub) -> None:
    t = add_command(
        sub,
        "train",
        "train a network on MNIST",
        "Train a network on MNIST, with a progress bar and one line per epoch, then print its "
        "test accuracy. The model goes to --out, or else becomes a new registry version "
        "(--activate makes it live). Ctrl-C stops cleanly and writes nothing.",
    )
    t.add_argument(
        "--hidden",
        type=_hidden,
        default=DEFAULTS.hidden,
        metavar="WIDTHS",
        help="hidden layer widths, input to output, e.g. 512,256",
    )
    t.add_argument(
        "--activation",
        choices=list(ACTIVATIONS),
        default=DEFAULTS.activation,
        help="the hidden layers' activation",
    )
    t.add_argument(
        "--loss",
        choices=list(LOSSES),
        default=DEFAULTS.loss,
        help="cross-entropy (with softmax) or the lecture's squared error",
    )
    t.add_argument(
        "--epochs",
        type=_within("epochs"),
        default=DEFAULTS.epochs,
        help="full passes over the training split",
    )
    t.add_argument(
        "--batch-size",
        type=_within("batch_size"),
        default=DEFAULTS.batch_size,
        help="samples per gradient step",
    )
    t.add_argument(
        "--lr",
        type=_within("learning_rate", float),
        default=DEFAULTS.learning_rate,
        help="the peak learning rate, reached after the warm-up",
    )
    t.add_argument(
        "--schedule",
        choices=list(SCHEDULES),
        default=DEFAULTS.schedule,
        help="the learning rate after the warm-up: constant, or cosine decay to 0",
    )
    t.add_argument(
        "--momentum",
        type=_within("momentum", float),
        default=DEFAULTS.momentum,
        help="SGD momentum",
    )
    t.add_argument(
        "--weight-decay",
        type=_within("weight_decay", float),
        default=DEFAULTS.weight_decay,
        help="L2 penalty on the weights (not the biases)",
    )
    t.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=DEFAULTS.augment,
        help="distort every training image afresh each epoch",
    )
    t.add_argument(
        "--synthetic-share",
        type=float,
        default=DEFAULTS.synthetic_share,
        help="synthetic stroke digits added, as a share of the training split",
    )
    t.add_argument(
        "--mark-share",
        type=float,
        default=DEFAULTS.mark_share,
        help="marks that are not digits added, as a share of the training split "
        "(0: no eleventh 'not a digit' output)",
    )
    t.add_argument(
        "--real-mark-share",
        type=float,
        default=DEFAULTS.real_mark_share,
        help="with marks, real pen marks (letters and symbols people wrote) added too, as a "
        "share of the training split",
    )
    t.add_argument(
        "--seed",
        type=_within("seed"),
        default=DEFAULTS.seed,
        help="initial weights, validation split, shuffling and augmentation",
    )
    t.add_argument(
        "--max-train-samples",
        type=_within("max_train_samples"),
        default=None,
        metavar="N",
        help="train on a seeded subset of N of the 55,000 MNIST images the validation split "
        "leaves (default: all of them)",
    )
    t.add_argument(
        "--feedback",
        action="store_true",
        help="also train on the stored user drawings (20%% of them are held back)",
    )
    t.add_argument(
        "--feedback-weight",
        type=_within("feedback_weight"),
        default=DEFAULT_WEIGHT,
        help="repeats of each drawing per epoch, with --feedback",
    )
    t.add_argument(
        "--out",
        metavar="PATH",
        help="write the model file here (default: a new version in the registry)",
    )
    t.add_argument(
        "--activate", action="store_true", help="make the new registry version the active one"
    )
    t.set_defaults(run=run)


def _progress(event: dict) -> None:
    """A progress bar on stderr while an epoch runs, and one line per finished epoch."""
    width = 30
    filled = int(width * event["batch_fraction"])
    head = f"epoch {event['epoch']:>3}/{event['epochs']}"
    if event["kind"] == "batch":
        bar = "#" * filled + "." * (width - filled)
        print(
            f"\r{head} [{bar}] loss {event['loss']:.4f}  eta {event['eta']:.0f}s",
            end="",
            file=sys.stderr,
            flush=True,
        )
    else:
        print(
            f"\r{head}  loss {event['loss']:.4f}  train {event['train_accuracy']:.2%}  "
            f"validation {event['validation_accuracy']:.2%}  {event['elapsed']:.0f}s elapsed, "
            f"eta {event['eta']:.0f}s",
            file=sys.stderr,
            flush=True,
        )


def run(args) -> int:
    from app.feedback.store import load_split
    from model import trust
    from model.modelfile import parameters_sha256, save_model
    from model.pipeline import train_and_evaluate
    from model.promotion import feedback_report

    config = TrainConfig(
        hidden=args.hidden,
        activation=args.activation,
        loss=args.loss,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        schedule=args.schedule,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        augment=args.augment,
        synthetic_share=args.synthetic_share,
        mark_share=args.mark_share,
        real_mark_share=args.real_mark_share,
        seed=args.seed,
        max_train_samples=args.max_train_samples,
    )
    opened = stores()
    mnist = opened.mnist()
    sizes = [784, *config.hidden, config.classes]
    print(
        f"training {sizes} {config.activation}, {config.loss} loss, "
        f"{plural(config.epochs, 'epoch')}, augment={config.augment}, seed={config.seed}",
        file=sys.stderr,
    )
    feedback = load_split(opened.feedback)
    if args.feedback:
        used, held = (0, 0) if feedback is None else (len(feedback.train_y), len(feedback.held_y))
        print(
            f"feedback: {plural(used, 'stored drawing')} in training (each ×"
            f"{args.feedback_weight}), {held} held back",
            file=sys.stderr,
        )
    extra = len(feedback.trainable(config.classes)[1]) if args.feedback and feedback else 0
    size = training_set_size(config, len(mnist.train_y), extra, args.feedback_weight)
    if note := short_run_note(config, size):
        print(note, file=sys.stderr)
    drawn = trust.load()
    if drawn is None:
        print(
            "no pen data on this machine: the model keeps the default calibration", file=sys.stderr
        )
    try:
        trained = train_and_evaluate(
            config,
            mnist,
            _progress,
            feedback,
            train_on_feedback=args.feedback,
            feedback_weight=args.feedback_weight,
            drawn=drawn,
        )
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was written", file=sys.stderr)
        return 130
    except TrainingDiverged:
        print(file=sys.stderr)  # off the progress bar's line, for the error that follows
        raise
    result, test, meta = trained.result, trained.test, trained.meta
    if args.out:
        out = Path(args.out)
        meta["version"] = f"{out.stem}-{parameters_sha256(result.network)[:8]}"
        save_model(out, result.network, meta)
        written = str(out)
    else:
        registry = opened.registry
        registry.ensure_initialised()
        version = registry.add(result.network, meta)
        if args.activate:
            registry.activate(version)
        now = ", now active" if args.activate else ""
        written = f"{registry.where} (version {version}{now})"
    print(
        f"test accuracy {test['accuracy']:.2%} (best validation epoch {result.best_epoch}, "
        f"{result.seconds:.0f}s){feedback_report(trained.held_back, None)}"
    )
    if config.classes > 10:
        print(
            f"MNIST test digits: the digit it names is right {test['digit_accuracy']:.2%}, "
            f"{test['flagged']:.2%} are called 'not a digit'"
        )
    if drawn_figures := meta["metrics"]["drawn"]:
        print(trust.describe(drawn_figures, meta["calibration"]))
    print(f"model written to {written}")
    return 0
