"""What an experiment hands the runner: its settings in, jobs out.

Each experiment module (function, depth_width, activations, losses, batch_size, minima) has

    ID, NUMBER, TITLE
    plan(settings) -> list[Job]                       the runs it needs
    follow_up(settings, results) -> list[Job]         optional: runs that depend on the first
                                                      ones (a tuned learning rate, say)
    summarise(settings, results) -> dict              its report section (model/lab/sections.py)

where ``results`` maps each job's key to what its function returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Progress = Callable[[float], None]


@dataclass(frozen=True)
class Settings:
    """How big a lab run is."""

    quick: bool = False  # every experiment shrunk (fewer samples, epochs and seeds): a first look
    seeds: int = 5  # seeds per configuration (experiment 6 has its own count of initialisations)
    workers: int = 2  # runs at a time, one process and one BLAS thread each


@dataclass(frozen=True)
class Job:
    """One run: ``fn(params, data, progress)`` in a worker returns a JSON-able dict."""

    experiment: str  # the experiment's ID
    key: str  # unique within the experiment: how summarise finds the result
    label: str  # what the progress line shows
    fn: Callable  # a module-level function, so that it can be sent to a worker process
    params: dict = field(default_factory=dict)
    cost: float = 1.0  # estimated seconds on one core: longest first, and the ETA
