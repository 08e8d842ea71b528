"""The lab's results document → a Markdown report, with one PNG per chart.

The report and static/js/lab.js (the /lab page) read the same JSON (model/lab/sections.py gives
its shape), so they show the same text, tables and numbers. matplotlib is imported only inside
``plot``: everything else works without it (the `lab` extra installs it).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

# Okabe and Ito's palette, readable with every common colour-vision deficiency; static/css/lab.css
# uses the same hues so that a series has one colour in the PNG and on the page.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7F7F7F"]
VERDICT_MARK = {
    "confirmed": "✔ confirmed",
    "not confirmed": "✘ not confirmed",
    "depends": "◐ depends",
}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: dict) -> str:
    lines = [f"**{table['title']}**", ""]
    lines.append("| " + " | ".join(_cell(c) for c in table["columns"]) + " |")
    lines.append("|" + "---|" * len(table["columns"]))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table["rows"]]
    if table.get("note"):
        lines += ["", f"*{table['note']}*"]
    return "\n".join(lines)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def markdown(doc: dict, figures: dict[str, str] | None = None) -> str:
    """The report. ``figures`` maps a chart id to the image's path relative to the report
    (charts without one are left out)."""
    figures = figures or {}
    kind = (
        "a quick run (`--quick`: shrunk sizes, for a first look)" if doc["quick"] else "a full run"
    )
    machine = doc["machine"]
    commit = doc.get("commit") or "an uncommitted tree"
    out = [
        "# The lecture lab",
        "",
        "Hung-yi Lee's *Deep Learning Tutorial* (lecture I) makes claims about neural networks "
        "that a learner can check on the network this project trains, rather than take on trust. "
        "`digits lab` runs one experiment per claim with the project's own NumPy network and "
        "trainer, and writes this report. Each section states the claim, how it was tested, what "
        "came out (mean ± standard deviation over seeds), the published figures it is compared "
        "with, and a verdict. The app shows the same results at `/lab`.",
        "",
        f"This is {kind}, generated on {doc['generated'][:10]} from commit `{commit}`, with "
        f"{doc['seeds']} seeds per configuration (unless a section's setup gives another count) "
        f"and {doc['workers']} runs at a time (one BLAS "
        f"thread each). It took **{_minutes(doc['seconds'])}** on {machine['cpus']} cores "
        f"({machine['processor']}, Python {machine['python']}, NumPy {machine['numpy']}, "
        f"{machine['blas']}). Data: MNIST ({doc['data']['train']:,} training images, "
        f"{doc['data']['validation']:,} held out for validation, {doc['data']['test']:,} test) "
        f"and {doc['data']['pen_digits']:,} digits drawn with a pen by 30 people (evaluation "
        "only). The raw figures are in `results.json` beside the plots.",
        "",
        "A full run is sized to finish within 45 minutes on a 2-core machine; each section's "
        "setup says how many images, epochs and seeds it used. The runs of this one added up to "
        f"{_minutes(sum(s.get('seconds', 0) for s in doc['experiments']))} of computing, "
        f"{doc['workers']} at a time.",
        "",
        "| # | experiment | verdict | why |",
        "|---|---|---|---|",
    ]
    for s in doc["experiments"]:
        out.append(
            f"| {s['number']} | [{s['title']}](#{_anchor(s)}) | "
            f"{VERDICT_MARK[s['verdict']['label']]} | {_cell(s['verdict']['text'])} |"
        )
    for s in doc["experiments"]:
        out += ["", f"## {s['number']}. {s['title']}", "", f"> **The claim.** {s['claim']}", ""]
        out += [f"**Setup.** {s['setup']}", ""]
        for table in s["tables"]:
            out += [markdown_table(table), ""]
        for chart in s["charts"]:
            if chart["id"] in figures:
                out += [f"![{chart['title']}]({figures[chart['id']]})", ""]
        out += [markdown_table(s["anchors"]), ""]
        out += [f"**Verdict: {s['verdict']['label']}.** {s['verdict']['text']}", ""]
        out += [f"*{_minutes(s.get('seconds', 0))} of computing.*"]
    return "\n".join(out) + "\n"


def _anchor(section: dict) -> str:
    """GitHub's anchor for the heading "N. Title"."""
    text = f"{section['number']}. {section['title']}".lower()
    return "".join(c for c in text if c.isalnum() or c in " -_").replace(" ", "-")


def plot(chart: dict, path: Path) -> None:
    """One chart → a PNG (line: mean with a ± sd band; bar: grouped bars with ± sd whiskers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.2, 4.0), dpi=120, layout="constrained")
    low, high = chart["y"].get("bounds") or (-math.inf, math.inf)

    def within(v: float) -> float:  # a mean ± sd of accuracies can pass 100 %; they cannot
        return min(max(v, low), high)

    if chart["kind"] == "line":
        for i, s in enumerate(chart["series"]):
            points = [
                (x, y, None if s["sd"] is None else s["sd"][j])
                for j, (x, y) in enumerate(zip(s["x"], s["y"]))
                if y is not None
            ]
            if not points:
                continue
            xs, ys, sds = zip(*points)
            color = PALETTE[i % len(PALETTE)]
            ax.plot(
                xs,
                ys,
                color=color,
                linestyle="--" if s["dashed"] else "-",
                marker="o",
                markersize=2.5,
                linewidth=1.6,
                label=s["name"],
            )
            if s["sd"] is not None and any(sds):
                lo = [y - (sd or 0) for y, sd in zip(ys, sds)]
                hi = [within(y + (sd or 0)) for y, sd in zip(ys, sds)]
                if chart["y"]["log"]:
                    lo = [max(v, y * 0.05) for v, y in zip(lo, ys)]
                lo = [within(v) for v in lo]
                ax.fill_between(xs, lo, hi, color=color, alpha=0.15, linewidth=0)
    else:
        categories, groups = chart["categories"], chart["series"]
        width = 0.8 / len(groups)
        for i, s in enumerate(groups):
            xs = [c + (i - (len(groups) - 1) / 2) * width for c in range(len(categories))]
            keep = [j for j, y in enumerate(s["y"]) if y is not None]
            ys = [s["y"][j] for j in keep]
            sds = [0 if s["sd"] is None else s["sd"][j] or 0 for j in keep]
            ax.bar(
                [xs[j] for j in keep],
                ys,
                width * 0.92,
                # [below, above] each bar, each whisker stopping at the bounds
                yerr=None
                if s["sd"] is None
                else [
                    [y - within(y - sd) for y, sd in zip(ys, sds)],
                    [within(y + sd) - y for y, sd in zip(ys, sds)],
                ],
                color=PALETTE[i % len(PALETTE)],
                label=s["name"],
                capsize=2.5,
                error_kw={"linewidth": 1},
            )
        ax.set_xticks(range(len(categories)), categories)
    if chart["x"]["log"]:
        ax.set_xscale("log")
        _log_ticks(ax.xaxis, *ax.get_xlim())
    if chart["y"]["log"]:
        ax.set_yscale("log")
        _log_ticks(ax.yaxis, *ax.get_ylim())
    ax.set_xlabel(chart["x"]["label"])
    ax.set_ylabel(chart["y"]["label"])
    ax.set_title(chart["title"], fontsize=11)
    ax.grid(True, which="major", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if len(chart["series"]) > 1:
        ax.legend(fontsize=8, frameon=False)
    fig.savefig(path)
    plt.close(fig)


def _log_ticks(axis, lo: float, hi: float) -> None:
    """Plain numbers on a log axis (0.01, 2, 5, not 10⁻², 2×10⁰), as many as its span needs:
    powers of ten over a wide span, 1-2-5 over a narrower one, every digit within a decade."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    span = hi / lo if lo > 0 else float("inf")
    subs = (1.0,) if span > 1000 else (1.0, 2.0, 5.0) if span > 10 else tuple(range(1, 10))
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def write_report(doc: dict, report: Path, figures_dir: Path, plots: bool = True) -> list[Path]:
    """Write ``report`` (Markdown) and, if ``plots``, one PNG per chart into ``figures_dir``.
    Returns the files written."""
    written, figures = [], {}
    if plots:
        figures_dir.mkdir(parents=True, exist_ok=True)
        for section in doc["experiments"]:
            for chart in section["charts"]:
                path = figures_dir / f"{chart['id']}.png"
                plot(chart, path)
                written.append(path)
                figures[chart["id"]] = Path(os.path.relpath(path, report.parent)).as_posix()
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(markdown(doc, figures))
    return [report, *written]
