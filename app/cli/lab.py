"""`digits lab`: the lecture's experiments, run two at a time, written up as JSON, Markdown and
plots (model/lab/)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.cli.common import add_command, home

LAB_DEFAULTS = {"seeds": 5, "quick_seeds": 2, "workers": 2}


def add_parser(sub) -> None:
    lab = add_command(
        sub,
        "lab",
        "run the lecture's experiments; write results.json, a Markdown report and plots",
        "Run one experiment per claim of the lecture (function, depth_width, "
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
        "unless --seeds says otherwise): about 30 s, for CI and a first look",
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
    lab.set_defaults(run=run)


def _commit() -> str | None:
    """The checkout's commit, marked "+dirty" when model/ (the lab's code) has changes."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "model", "app/cli"],
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


def _earlier_results(path: Path) -> dict:
    """An earlier run's results.json, checked as /api/lab/results checks it; ValueError (said as
    one line by the CLI) when it is missing or not one."""
    from pydantic import ValidationError

    from app.routes.lab import LabResults

    try:
        doc = json.loads(path.read_text())
        LabResults.model_validate(doc)
    except OSError as e:
        raise ValueError(f"--from-results: cannot read {path} ({e.strerror})") from None
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(map(str, first["loc"])) or "the document"
        raise ValueError(
            f"--from-results: {path} is not a lab results.json ({where}: {first['msg']})"
        ) from None
    except ValueError as e:  # not JSON
        raise ValueError(f"--from-results: {path} is not JSON ({e})") from None
    return doc


def run(args) -> int:
    from model.lab.job import Settings
    from model.lab.report import write_report
    from model.lab.runner import EXPERIMENTS, run_lab

    out = Path(args.out) if args.out else home() / "lab"
    report = Path(args.report) if args.report else out / "lab.md"
    if args.from_results:
        doc = _earlier_results(Path(args.from_results))
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
            doc = run_lab(names, settings, home(), _LabProgress(), commit=_commit())
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
