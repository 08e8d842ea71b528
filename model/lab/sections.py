"""The shape of a report section, shared by the experiments, report.py and static/js/lab.js.

An experiment's ``summarise`` returns one section: plain JSON, numbers already formatted where a
person reads them, so the Markdown report and the /lab page show the same text and figures.

    {"id", "number", "title",
     "claim":   the lecture's claim, quoted or paraphrased (plain text; `code` in backticks),
     "setup":   how it was tested: data, network, training, seeds,
     "tables":  [table], "charts": [chart], "anchors": table (published figures beside ours),
     "verdict": {"label": "confirmed" | "not confirmed" | "depends", "text": one sentence},
     "runs":    [{...}]  one row of raw figures per training run (the evidence behind the tables)}

    table = {"id", "title", "columns": [str], "rows": [[str]], "note": str}
    chart = {"id", "title", "kind": "line" | "bar", "x": axis, "y": axis, "series": [series],
             "categories": [str] (bar charts: one group of bars per category)}
    axis = {"label": str, "log": bool, "bounds": [low, high] | null (the values the quantity can
            take, e.g. [0, 100] for a percentage: a band or an error bar stops there)}
    series = {"name", "x": [num] (line), "y": [num],
             "sd": [num] | null (a band or an error bar of ± one standard deviation),
             "dashed": bool (a reference line, e.g. a published figure)}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

VERDICTS = ("confirmed", "not confirmed", "depends")
PERCENT = (0, 100)  # the bounds of an accuracy or an error rate in %: its mean ± sd may pass them


def mean_sd(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n − 1 in the denominator; 0 for a single value)."""
    v = np.asarray(list(values), dtype=np.float64)
    if v.size == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def pm(values: Iterable[float], scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
    """ "1.71 ± 0.05 %": mean ± sd of values × scale."""
    mean, sd = mean_sd(values)
    return f"{mean * scale:.{digits}f} ± {sd * scale:.{digits}f}{unit}"


def pct(values: Iterable[float], digits: int = 2) -> str:
    """Shares in [0, 1] as "97.81 ± 0.06 %"."""
    return pm(values, 100, digits, " %")


def err(values: Iterable[float], digits: int = 2) -> str:
    """Accuracies in [0, 1] as an error rate "2.19 ± 0.06 %"."""
    return pct([1 - a for a in values], digits)


def count(n: int) -> str:
    """669706 → "669,706"."""
    return f"{n:,}"


def sig(x: float, digits: int = 3) -> str:
    """A number to ``digits`` significant figures, without exponent for ordinary sizes."""
    if x == 0 or not math.isfinite(x):
        return str(x)
    return f"{x:.{max(digits - 1 - math.floor(math.log10(abs(x))), 0)}f}"


def table(id: str, title: str, columns: Sequence[str], rows: Sequence[Sequence], note: str = ""):
    return {
        "id": id,
        "title": title,
        "columns": list(columns),
        "rows": [[str(c) for c in row] for row in rows],
        "note": note,
    }


def series(
    name: str,
    y: Sequence[float],
    x: Sequence[float] | None = None,
    sd: Sequence[float] | None = None,
    dashed: bool = False,
) -> dict:
    def clean(v):
        return None if v is None else [_num(a) for a in v]

    return {"name": name, "x": clean(x), "y": clean(y), "sd": clean(sd), "dashed": dashed}


def curve_series(
    name: str,
    curves: Sequence[Sequence[dict]],
    x: str,
    y,
    scale: float = 1.0,
    band: bool = True,
    dashed: bool = False,
    keep=lambda x: True,
) -> dict:
    """One line from several runs' curves (lists of rows with the same checkpoints): x is the
    mean of field ``x``, y the mean of field ``y`` (or of ``y(row)``) × scale, with a ± sd band.
    ``keep(x)`` drops points (e.g. x = 0 on a log axis)."""
    get = y if callable(y) else (lambda row: row[y])
    n = min(len(c) for c in curves)
    xs, ys, sds = [], [], []
    for i in range(n):
        x_mean = mean_sd(c[i][x] for c in curves)[0]
        if keep(x_mean):
            mean, sd = mean_sd(get(c[i]) * scale for c in curves)
            xs.append(x_mean), ys.append(mean), sds.append(sd)
    return series(name, ys, x=xs, sd=sds if band else None, dashed=dashed)


def line_chart(
    id: str,
    title: str,
    x_label: str,
    y_label: str,
    lines: Sequence[dict],
    x_log: bool = False,
    y_log: bool = False,
    y_bounds: tuple[float, float] | None = None,
) -> dict:
    return {
        "id": id,
        "title": title,
        "kind": "line",
        "x": _axis(x_label, x_log),
        "y": _axis(y_label, y_log, y_bounds),
        "series": list(lines),
        "categories": [],
    }


def _axis(label: str, log: bool, bounds: tuple[float, float] | None = None) -> dict:
    return {"label": label, "log": log, "bounds": None if bounds is None else list(bounds)}


def bar_chart(
    id: str,
    title: str,
    categories: Sequence[str],
    y_label: str,
    bars: Sequence[dict],
    y_log: bool = False,
    y_bounds: tuple[float, float] | None = None,
) -> dict:
    return {
        "id": id,
        "title": title,
        "kind": "bar",
        "x": _axis("", False),
        "y": _axis(y_label, y_log, y_bounds),
        "series": list(bars),
        "categories": list(categories),
    }


def section(
    number: int,
    id: str,
    title: str,
    *,
    claim: str,
    setup: str,
    tables: list,
    charts: list,
    anchors: dict,
    verdict: str,
    why: str,
    runs: list,
) -> dict:
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    return {
        "id": id,
        "number": number,
        "title": title,
        "claim": claim,
        "setup": setup,
        "tables": tables,
        "charts": charts,
        "anchors": anchors,
        "verdict": {"label": verdict, "text": why},
        "runs": runs,
    }


def _num(v) -> float | None:
    """Six significant figures; JSON has no NaN or infinity, so a missing or diverged value is
    null."""
    if v is None:
        return None
    v = float(v)
    return float(f"{v:.6g}") if math.isfinite(v) else None
