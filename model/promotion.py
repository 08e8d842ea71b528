"""Whether a newly trained model goes live, and what its version records.

The rules, used by the admin's retrain jobs (``app.jobs.process``) and by ``digits train``:

- **The gate** compares MNIST test accuracy. A candidate passes if it is no lower than the active
  model's, re-measured now (never read from its metadata), minus the tolerance in percentage
  points. With no active model that can be measured, it passes.
- **The held-back user drawings** are scored for both models and reported beside the gate's
  figures; they never decide.
- **Force** promotes a candidate whatever the gate says, and the record says so.
- Only a promoted model is written to the registry: its metadata names its parent version, the
  job that made it and the gate's verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.data import Mnist, to_float
from model.feedback_data import FeedbackSplit
from model.pipeline import Trained, evaluate_held_back
from model.registry import Registry
from model.train import evaluate


@dataclass(frozen=True)
class GateResult:
    """The quality gate's verdict on a candidate model, with both figures it compared."""

    passed: bool
    candidate_accuracy: float
    active_accuracy: float | None
    tolerance: float  # as a fraction: 0.003 is 0.3 percentage points
    reason: str


def gate(
    candidate_accuracy: float, active_accuracy: float | None, tolerance: float = 0.003
) -> GateResult:
    """Promote a candidate only if its MNIST test accuracy is no lower than the active model's
    minus ``tolerance`` (a fraction). With no active model to compare against, it passes."""
    if active_accuracy is None:
        reason = f"no active model to compare with; test accuracy {candidate_accuracy:.2%}"
        return GateResult(True, candidate_accuracy, None, tolerance, reason)
    floor = active_accuracy - tolerance
    passed = candidate_accuracy >= floor - 1e-12
    verb = "passes" if passed else "fails"
    reason = (
        f"{verb} the gate: test accuracy {candidate_accuracy:.2%} vs the active model's "
        f"{active_accuracy:.2%} (minimum {max(floor, 0.0):.2%}, a tolerance of "
        f"{tolerance * 100:.2f} percentage points)"
    )
    return GateResult(passed, candidate_accuracy, active_accuracy, tolerance, reason)


@dataclass(frozen=True)
class Active:
    """The active model as measured now: None for a figure that could not be measured."""

    version: str | None
    accuracy: float | None  # on the MNIST test set
    feedback_accuracy: float | None  # on the held-back drawings
    error: str | None = None  # why it could not be measured


def measure_active(registry: Registry, mnist: Mnist, feedback: FeedbackSplit | None) -> Active:
    """Measure the active model on the figures the gate compares. An active model that cannot
    be loaded cannot veto a new one: its figures are then None, and ``error`` says why."""
    version = registry.active_version()
    try:
        network = registry.load(version).network
    except Exception as e:
        return Active(version, None, None, f"{type(e).__name__}: {e}")
    accuracy = evaluate(network, to_float(mnist.test_x), mnist.test_y)["accuracy"]
    held = evaluate_held_back(network, feedback)
    return Active(version, accuracy, held and held["accuracy"])


def feedback_report(held: dict | None, active: float | None) -> str:
    """The verdict's line about the held-back drawings (it reports them; MNIST decides)."""
    if not held:
        return ""
    line = f"; held-back drawings: {held['accuracy']:.2%} of {held['size']}"
    return line + (f" vs the active model's {active:.2%}" if active is not None else "")


@dataclass
class Decision:
    """The gate's verdict on a trained candidate, and the result a job records."""

    verdict: GateResult
    tolerance_pp: float
    forced: bool
    result: dict  # the job record's "result": both models' figures, the verdict, the version
    feedback_line: str

    @property
    def promote(self) -> bool:
        return self.verdict.passed or self.forced

    def rejection(self) -> str:
        return f"rejected: {self.verdict.reason}{self.feedback_line}"

    def promotion(self, version: str) -> str:
        if self.verdict.passed:
            return f"promoted {version}: {self.verdict.reason}{self.feedback_line}"
        return f"promoted {version} by force, although it {self.verdict.reason}{self.feedback_line}"


def decide(trained: Trained, active: Active, tolerance_pp: float, force: bool) -> Decision:
    """Apply the gate to a trained candidate against the measured active model."""
    verdict = gate(trained.test["accuracy"], active.accuracy, tolerance_pp / 100)
    held = trained.held_back
    result = {
        "mnist_test_accuracy": trained.test["accuracy"],
        "feedback_accuracy": held and held["accuracy"],
        "feedback_size": held["size"] if held else 0,
        "active_feedback_accuracy": active.feedback_accuracy,
        "trained_on_feedback": bool((trained.meta.get("feedback") or {}).get("trained_on")),
        "validation_accuracy": trained.result.validation_accuracy,
        "best_epoch": trained.result.best_epoch,
        "train_seconds": round(trained.result.seconds, 1),
        "compared_with": active.version,
        "active_accuracy": active.accuracy,
        "gate_passed": verdict.passed,
        "forced": force,
        "version": None,
        "promoted": False,
    }
    report = feedback_report(held, active.feedback_accuracy)
    return Decision(verdict, tolerance_pp, force, result, report)


def promote(
    registry: Registry, trained: Trained, decision: Decision, parent: str, job_id: str | None
) -> str:
    """Write the candidate as a new version and make it active; returns the version."""
    result = decision.result
    meta = {
        **trained.meta,
        "parent": parent,
        "job_id": job_id,
        "gate": {
            "passed": decision.verdict.passed,
            "forced": decision.forced,
            "active_accuracy": result["active_accuracy"],
            "tolerance_pp": decision.tolerance_pp,
            "feedback_accuracy": result["feedback_accuracy"],
            "active_feedback_accuracy": result["active_feedback_accuracy"],
            "feedback_size": result["feedback_size"],
        },
    }
    version = registry.add(trained.network, meta)
    registry.activate(version)
    result.update(version=version, promoted=True)
    return version
