"""The `digits` command: serve, train, evaluate, predict, data fetch/info, lab, db migrate/check."""

from __future__ import annotations

import argparse
import atexit
import functools
import json
import sys
from pathlib import Path

import numpy as np

from app.db import DatabaseError
from model import trust
from model.data import DataError, fetch, load_mnist, to_float
from model.modelfile import ModelFileError, load_model, parameters_sha256, save_model
from model.pipeline import train_and_evaluate
from model.train import TrainConfig, evaluate
from model.verdict import Calibration, read

DEFAULTS = TrainConfig()


def _home() -> Path:
    from app.config import get_settings

    return Path(get_settings().home)


@functools.cache
def _stores():
    """The stores the settings name (the data home, or the shared database, migrated), once per
    command: a command sees what the servers see. The feedback store is opened only by what
    reads it."""
    from app.config import get_settings
    from app.stores import open_stores

    stores = open_stores(get_settings(), name="digits-cli", pool_size=2)
    atexit.register(stores.close)
    stores.migrate()
    return stores


def _hidden(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(w) for w in text.split(",") if w.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected widths like 512,256, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError("hidden widths must be positive integers")
    return widths


def _progress(event: dict) -> None:
    """A progress bar on stderr while an epoch runs, and one line per finished epoch."""
    width = 30
    filled = int(width * event["batch_fraction"])
    head = f"epoch {event['epoch']:>3}/{event['epochs']}"
    if event["kind"] == "batch":
        bar = "#" * filled + "." * (width - filled)
        print(f"\r{head} [{bar}] loss {event['loss']:.4f}  eta {event['eta']:.0f}s",
              end="", file=sys.stderr, flush=True)  # fmt: skip
    else:
        print(f"\r{head}  loss {event['loss']:.4f}  train {event['train_accuracy']:.2%}  "
              f"validation {event['validation_accuracy']:.2%}  {event['elapsed']:.0f}s elapsed, "
              f"eta {event['eta']:.0f}s", file=sys.stderr, flush=True)  # fmt: skip


def cmd_train(args) -> int:
    config = TrainConfig(
        hidden=args.hidden, activation=args.activation, loss=args.loss, epochs=args.epochs,
        batch_size=args.batch_size, learning_rate=args.lr, schedule=args.schedule,
        momentum=args.momentum, weight_decay=args.weight_decay, augment=args.augment,
        synthetic_share=args.synthetic_share, mark_share=args.mark_share,
        seed=args.seed, max_train_samples=args.max_train_samples,
    )  # fmt: skip
    stores = _stores()
    mnist = stores.mnist()
    sizes = [784, *config.hidden, config.classes]
    print(f"training {sizes} {config.activation}, {config.loss} loss, {config.epochs} epochs, "
          f"augment={config.augment}, seed={config.seed}", file=sys.stderr)  # fmt: skip
    from app.feedback.store import load_split
    from model.promotion import feedback_report

    feedback = load_split(stores.feedback)
    if args.feedback:
        used, held = (0, 0) if feedback is None else (len(feedback.train_y), len(feedback.held_y))
        print(f"feedback: {used} stored drawings in training (each ×{args.feedback_weight}), "
              f"{held} held back", file=sys.stderr)  # fmt: skip
    drawn = trust.load()
    if drawn is None:
        print("no pen data on this machine: the model keeps the default calibration",
              file=sys.stderr)  # fmt: skip
    try:
        trained = train_and_evaluate(config, mnist, _progress, feedback,
                                     train_on_feedback=args.feedback,
                                     feedback_weight=args.feedback_weight, drawn=drawn)  # fmt: skip
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was written", file=sys.stderr)
        return 130
    result, test, meta = trained.result, trained.test, trained.meta
    if args.out:
        out = Path(args.out)
        meta["version"] = f"{out.stem}-{parameters_sha256(result.network)[:8]}"
        save_model(out, result.network, meta)
        where = str(out)
    else:
        registry = stores.registry
        registry.ensure_initialised()
        version = registry.add(result.network, meta)
        if args.activate:
            registry.activate(version)
        where = f"{registry.where} (version {version}{', now active' if args.activate else ''})"
    print(f"test accuracy {test['accuracy']:.2%} (best validation epoch {result.best_epoch}, "
          f"{result.seconds:.0f}s){feedback_report(trained.held_back, None)}")  # fmt: skip
    if config.classes > 10:
        print(f"MNIST test digits: the digit it names is right {test['digit_accuracy']:.2%}, "
              f"{test['flagged']:.2%} are called 'not a digit'")  # fmt: skip
    if drawn_figures := meta["metrics"]["drawn"]:
        print(trust.describe(drawn_figures, meta["calibration"]))
    print(f"model written to {where}")
    return 0


def _load(model_arg: str | None):
    path = Path(model_arg) if model_arg else None
    if path is not None and path.exists():
        return load_model(path)
    registry = _stores().registry
    return registry.load_active() if model_arg is None else registry.load(model_arg)


def cmd_evaluate(args) -> int:
    loaded = _load(args.model)
    mnist = _stores().mnist()
    x = to_float(mnist.test_x)
    report = evaluate(loaded.network, x, mnist.test_y)
    learnt_marks = loaded.network.sizes[-1] > 10
    if learnt_marks:
        calibration = Calibration.of(loaded.meta)
        report.update(trust.digit_reading(loaded.network, calibration, x, mnist.test_y))
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"model {loaded.version}: MNIST test accuracy {report['accuracy']:.2%}")
    if learnt_marks:
        print(f"the digit it names is right {report['digit_accuracy']:.2%}; "
              f"{report['flagged']:.2%} of the digits are called 'not a digit'")  # fmt: skip
    print("per class: " + "  ".join(f"{d}:{a:.1%}" for d, a in enumerate(report["per_class"])))
    print("confusion (rows = true digit, columns = predicted):")
    columns = [str(d) for d in range(10)] + (["none"] if learnt_marks else [])
    print("      " + "".join(f"{c:>6}" for c in columns))
    for d, row in enumerate(report["confusion"]):
        print(f"{d:>6}" + "".join(f"{v:>6}" for v in row))
    return 0


def cmd_predict(args) -> int:
    from app.config import get_settings
    from model.decode import ImageError, decode_image
    from model.preprocess import prepare

    loaded = _load(args.model)
    calibration, unsure = Calibration.of(loaded.meta), get_settings().unsure_threshold
    status = 0
    for name in args.files:
        try:
            drawing = prepare(decode_image(Path(name).read_bytes()))
        except (OSError, ImageError) as e:
            print(f"{name}: error: {e}", file=sys.stderr)
            status = 1
            continue
        scores = loaded.network.layer_outputs(drawing.pixels[None], output="scores")[-1]
        reading = read(scores, np.array([drawing.extent]), calibration, unsure)
        probabilities = reading.probabilities[0]
        listing = " ".join(f"{d}:{p:.3f}" for d, p in enumerate(probabilities))
        verdict = reading.verdicts[0]
        said = "" if verdict == "digit" else f" {verdict.replace('_', ' ')}"
        print(f"{name}: {int(np.argmax(probabilities))}{said}  ({listing})")
    return status


def cmd_data(args) -> int:
    home = _home()
    if args.action == "fetch":
        path, source = fetch(
            home, source_dir=args.source_dir, log=lambda m: print(m, file=sys.stderr)
        )
        print(f"MNIST ready at {path} (source: {source})")
        # Rendered once per machine: every model trained here is calibrated on it.
        drawn = trust.load()
        if drawn is not None:
            print(f"drawn digits and marks ready ({len(drawn.labels):,}, in {trust.CACHE})")
        if _stores().share_mnist():
            print("MNIST shared through the database, for training jobs on every host")
        return 0
    mnist = load_mnist(home)
    print(f"MNIST cache: {home / 'mnist.npz'}")
    print(
        f"train {mnist.train_x.shape}, test {mnist.test_x.shape}, fingerprint {mnist.fingerprint}"
    )
    return 0


LAB_DEFAULTS = {"seeds": 5, "quick_seeds": 2, "workers": 2}


def _commit() -> str | None:
    """The checkout's commit, marked "+dirty" when model/ (the lab's code) has changes."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "model", "app/cli.py"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}+dirty" if dirty else head


class _LabProgress:
    """One line per finished run (with its bar full), and on a terminal a live line with a bar
    for each run in progress."""

    def __init__(self, stream=sys.stderr):
        self.stream, self.live = stream, stream.isatty()

    @staticmethod
    def _bar(fraction: float, width: int = 20) -> str:
        filled = int(width * min(max(fraction, 0.0), 1.0))
        return "[" + "#" * filled + "." * (width - filled) + "]"

    def __call__(self, event: dict) -> None:
        import shutil

        eta = "" if event["eta"] is None else f", eta {event['eta'] / 60:.1f} min"
        counts = f"{event['done']}/{event['total']} runs, {event['elapsed'] / 60:.1f} min{eta}"
        if event["kind"] == "done":
            line = f"{self._bar(1)} {event['job']}: {event['seconds']:.1f} s  ({counts})"
            print(("\r\033[K" if self.live else "") + line, file=self.stream, flush=True)
        elif event["kind"] == "progress" and self.live:
            bars = "  ".join(f"{self._bar(f, 12)} {label}" for label, f in event["running"].items())
            line = f"{bars}  ({counts})"[: shutil.get_terminal_size().columns - 1]
            print("\r\033[K" + line, end="", file=self.stream, flush=True)


def cmd_lab(args) -> int:
    from model.lab.job import Settings
    from model.lab.report import write_report
    from model.lab.runner import EXPERIMENTS, run_lab

    out = Path(args.out) if args.out else _home() / "lab"
    report = Path(args.report) if args.report else out / "lab.md"
    if args.from_results:
        doc = json.loads(Path(args.from_results).read_text())
    else:
        names = args.experiments or list(EXPERIMENTS)
        seeds = args.seeds or LAB_DEFAULTS["quick_seeds" if args.quick else "seeds"]
        settings = Settings(quick=args.quick, seeds=seeds, workers=args.workers)
        if settings.seeds < 2 or settings.workers < 1:
            raise ValueError("--seeds must be at least 2 (for a standard deviation), --workers 1+")
        print(
            f"lab: {', '.join(names)} ({'quick' if args.quick else 'full'} run, "
            f"{seeds} seeds, {args.workers} at a time)",
            file=sys.stderr,
        )
        try:
            doc = run_lab(names, settings, _home(), _LabProgress(), commit=_commit())
        except KeyboardInterrupt:
            print("\ninterrupted: nothing was written", file=sys.stderr)
            return 130
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    try:
        import matplotlib  # noqa: F401

        plots = True
    except ImportError:
        plots = False
        print(
            "lab: matplotlib is missing, so the report has no plots (pip install -e '.[lab]')",
            file=sys.stderr,
        )
    written = write_report(doc, report, out, plots=plots)
    print(
        f"lab: {doc['seconds'] / 60:.1f} min; results in {out / 'results.json'}, "
        f"report in {report} ({len(written) - 1} plots)"
    )
    for section in doc["experiments"]:
        print(f"  {section['number']}. {section['title']}: {section['verdict']['label']}")
    return 0


def cmd_db(args) -> int:
    """`digits db migrate`: apply the shared database's migrations; `digits db check`: can this
    host reach it, and is its schema the one this release expects (exit 1 if not)."""
    from app.config import get_settings
    from app.db.schema import SCHEMA_VERSION, check, migrate
    from app.stores import open_stores

    settings = get_settings()
    if settings.database_url is None:
        message = (
            f"DIGITS_DATABASE_URL is not set: the state is in the data home ({settings.home}), "
            f"and there is no database to {args.action}"
        )
        print(f"digits: {message}", file=sys.stderr)
        return 2
    stores = open_stores(settings, name="digits-cli", pool_size=1)
    try:
        if args.action == "migrate":
            before, after = migrate(stores.database)
            if before == after:
                print(f"schema at version {after}; nothing to apply")
            else:
                print(f"schema migrated from version {before} to {after}")
            return 0
        lines = check(stores.database)
        for what, ok, detail in lines:
            print(f"{'ok  ' if ok else 'FAIL'} {what}: {detail}")
        healthy = all(ok for _, ok, _ in lines) and len(lines) > 2
        print(f"this release expects schema version {SCHEMA_VERSION}")
        return 0 if healthy else 1
    finally:
        stores.close()


def cmd_serve(args) -> int:
    import os
    import secrets

    import uvicorn

    from app.config import get_settings

    # Every worker reads the admin token from the environment. With none set, make a random one
    # for this run and show it once, on the terminal only (never through logging); replicas on
    # several hosts must share one, so there it has to be set.
    if not os.environ.get("DIGITS_ADMIN_TOKEN", "").strip():
        if os.environ.get("DIGITS_DATABASE_URL", "").strip():
            raise ValueError(
                "with DIGITS_DATABASE_URL set, set DIGITS_ADMIN_TOKEN too, the same on every host "
                "(a random token per host would let the admin in on one host only)"
            )
        token = secrets.token_urlsafe(24)
        os.environ["DIGITS_ADMIN_TOKEN"] = token
        url = f"http://{args.host}:{args.port}/admin"
        print(f"\n    The admin page is at {url}\n"
              f"    Admin token for this run (set DIGITS_ADMIN_TOKEN to choose your own):\n\n"
              f"        {token}\n", flush=True)  # fmt: skip
    get_settings.cache_clear()
    settings = get_settings()  # refuse a weak DIGITS_ADMIN_TOKEN here, before any worker starts
    # A client is its address (rate limits, the admin lockout). X-Forwarded-For is believed only
    # from the reverse proxies named in DIGITS_TRUSTED_PROXIES, so no client can pick its key.
    proxies = settings.trusted_proxies
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=proxies is not None,
        forwarded_allow_ips=proxies,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="digits", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the web app")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1)
    s.set_defaults(run=cmd_serve)

    t = sub.add_parser("train", help="train a network on MNIST")
    t.add_argument("--hidden", type=_hidden, default=DEFAULTS.hidden, help="e.g. 512,256")
    t.add_argument("--activation", choices=["relu", "sigmoid", "tanh"], default=DEFAULTS.activation)
    t.add_argument("--loss", choices=["cross-entropy", "squared"], default=DEFAULTS.loss)
    t.add_argument("--epochs", type=int, default=DEFAULTS.epochs)
    t.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    t.add_argument("--lr", type=float, default=DEFAULTS.learning_rate)
    t.add_argument("--schedule", choices=["cosine", "constant"], default=DEFAULTS.schedule)
    t.add_argument("--momentum", type=float, default=DEFAULTS.momentum)
    t.add_argument("--weight-decay", type=float, default=DEFAULTS.weight_decay)
    t.add_argument("--augment", action=argparse.BooleanOptionalAction, default=DEFAULTS.augment)
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
        help="marks that are not digits added, as a share of the training split (0: no "
        "eleventh 'not a digit' output)",
    )
    t.add_argument("--seed", type=int, default=DEFAULTS.seed)
    t.add_argument("--max-train-samples", type=int, default=None)
    t.add_argument(
        "--feedback",
        action="store_true",
        help="also train on the stored user drawings (20%% of them are held back)",
    )
    t.add_argument("--feedback-weight", type=int, default=10,
                   help="repeats of each drawing per epoch (default 10)")  # fmt: skip
    t.add_argument("--out", help="write the model file here instead of adding a registry version")
    t.add_argument("--activate", action="store_true", help="make the new registry version active")
    t.set_defaults(run=cmd_train)

    e = sub.add_parser("evaluate", help="MNIST test accuracy, per class, confusion matrix")
    e.add_argument("model", nargs="?", help="a model file or version (default: the active one)")
    e.add_argument("--json", action="store_true")
    e.set_defaults(run=cmd_evaluate)

    pr = sub.add_parser("predict", help="recognise the digit in image files")
    pr.add_argument("files", nargs="+")
    pr.add_argument("--model", help="a model file or version (default: the active one)")
    pr.set_defaults(run=cmd_predict)

    lab = sub.add_parser(
        "lab",
        help="run the lecture's experiments; write results.json, a Markdown report and plots",
        description="Run one experiment per claim of the lecture (function, depth_width, "
        "activations, losses, batch_size, minima) with this project's trainer, and write "
        "results.json, lab.md and one PNG per chart.",
    )
    lab.add_argument(
        "experiments",
        nargs="*",
        metavar="EXPERIMENT",
        help="experiments to run, by name (default: all six)",
    )
    lab.add_argument(
        "--seeds",
        type=int,
        default=None,
        help=f"seeds per configuration, at least 2 (default {LAB_DEFAULTS['seeds']}, "
        f"{LAB_DEFAULTS['quick_seeds']} with --quick; experiment 6 always starts from 10 "
        "initialisations, 4 with --quick)",
    )
    lab.add_argument(
        "--quick",
        action="store_true",
        help="shrink every experiment (fewer images, epochs and seeds; 2 seeds "
        "unless --seeds says otherwise): about a minute, for CI and a first look",
    )
    lab.add_argument(
        "--workers",
        type=int,
        default=LAB_DEFAULTS["workers"],
        help="runs at a time, each in its own process with one BLAS thread "
        "(default %(default)s, one per core of the 2-core machine the lab is sized for)",
    )
    lab.add_argument(
        "--out", help="folder for results.json and the plots (default: <DIGITS_HOME>/lab)"
    )
    lab.add_argument("--report", help="where the Markdown report goes (default: OUT/lab.md)")
    lab.add_argument(
        "--from-results",
        metavar="JSON",
        help="write the report and plots from an earlier results.json, running nothing",
    )
    lab.set_defaults(run=cmd_lab)

    db = sub.add_parser(
        "db",
        help="the shared database (DIGITS_DATABASE_URL): apply its migrations, or check it",
        description="migrate: apply the schema migrations this release has and the database "
        "lacks (servers also do it at start-up, under the same lock). check: connect, compare "
        "the schema version, count each table's rows; exit 1 if anything is wrong.",
    )
    db.add_argument("action", choices=["migrate", "check"])
    db.set_defaults(run=cmd_db)

    d = sub.add_parser("data", help="MNIST: fetch it, or show where it is")
    d.add_argument("action", choices=["fetch", "info"])
    d.add_argument("--from", dest="source_dir", type=Path, help="a folder with the 4 IDX files")
    d.set_defaults(run=cmd_data)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (DataError, ModelFileError, ValueError, DatabaseError) as e:
        print(f"digits: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
