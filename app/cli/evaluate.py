"""`digits evaluate`: a model's MNIST test accuracy, per class, and its confusion matrix."""

from __future__ import annotations

import json

from app.cli.common import MODEL_HELP, add_command, load, stores


def add_parser(sub) -> None:
    e = add_command(sub, "evaluate", "MNIST test accuracy, per class, and the confusion matrix")
    e.add_argument("model", nargs="?", help=MODEL_HELP)
    e.add_argument(
        "--json",
        action="store_true",
        help="print the report as one JSON object (accuracy, per_class, confusion)",
    )
    e.set_defaults(run=run)


def run(args) -> int:
    from model import trust
    from model.data import to_float
    from model.train import evaluate
    from model.verdict import Calibration

    loaded = load(args.model)
    mnist = stores().mnist()
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
        print(
            f"the digit it names is right {report['digit_accuracy']:.2%}; "
            f"{report['flagged']:.2%} of the digits are called 'not a digit'"
        )
    print("per class: " + "  ".join(f"{d}:{a:.1%}" for d, a in enumerate(report["per_class"])))
    print("confusion (rows = true digit, columns = predicted):")
    columns = [str(d) for d in range(10)] + (["none"] if learnt_marks else [])
    print("      " + "".join(f"{c:>6}" for c in columns))
    for d, row in enumerate(report["confusion"]):
        print(f"{d:>6}" + "".join(f"{v:>6}" for v in row))
    return 0
