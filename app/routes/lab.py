"""The lecture lab: the page at ``/lab`` and its data at ``GET /api/lab/results``.

Both show ``docs/lab/results.json``, written by one full run of ``digits lab`` and committed with
its report (``docs/lab.md``), so a fresh install shows the same figures as the report. The page
renders the text and tables; ``static/js/lab.js`` draws the charts from the API's JSON. The
models below are that JSON's contract (model/lab/sections.py builds it).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.routing import NoMatchFound

from app.deps import ServerDep
from app.errors import ApiError
from app.routes.pages import TEMPLATES_DIR
from app.schemas import ErrorResponse

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "lab" / "results.json"

router = APIRouter(tags=["lab"])
templates = Jinja2Templates(directory=TEMPLATES_DIR)


def _code_spans(text: str) -> Markup:
    """Plain text with `code` in backticks → HTML: escaped, with <code> around the spans."""
    parts = str(text).split("`")
    return Markup("").join(
        Markup("<code>{}</code>").format(p) if i % 2 else escape(p) for i, p in enumerate(parts)
    )


templates.env.filters["code_spans"] = _code_spans


class Axis(BaseModel):
    label: str
    log: bool = Field(description="A logarithmic axis.")
    bounds: list[float] | None = Field(
        None,
        description="[low, high]: the values the quantity can take ([0, 100] for a percentage); "
        "a ± sd band or error bar is drawn no further.",
        min_length=2,
        max_length=2,
    )


class Series(BaseModel):
    name: str
    x: list[float | None] | None = Field(description="x of each point (line charts).")
    y: list[float | None] = Field(description="One value per point or category; null = none.")
    sd: list[float | None] | None = Field(description="± one standard deviation over seeds.")
    dashed: bool = Field(description="A reference or secondary line.")


class Chart(BaseModel):
    id: str
    title: str
    kind: Literal["line", "bar"]
    x: Axis
    y: Axis
    series: list[Series]
    categories: list[str] = Field(description="Bar charts: one group of bars per category.")


class Table(BaseModel):
    id: str
    title: str
    columns: list[str]
    rows: list[list[str]] = Field(description='Cells already formatted, e.g. "1.71 ± 0.05 %".')
    note: str = ""


class Verdict(BaseModel):
    label: Literal["confirmed", "not confirmed", "depends"]
    text: str = Field(description="One sentence: why, with the figures.")


class Experiment(BaseModel):
    id: str
    number: int
    title: str
    claim: str = Field(description="The lecture's claim; `code` in backticks.")
    setup: str = Field(description="How it was tested: data, network, training, seeds.")
    tables: list[Table]
    charts: list[Chart]
    anchors: Table = Field(description="Published figures beside this run's.")
    verdict: Verdict
    runs: list[dict[str, Any]] = Field(description="Raw figures, one row per training run.")
    seconds: float = Field(description="Computing time of the experiment's runs.")


class LabResults(BaseModel):
    """One run of `digits lab`: what ran, where, and every experiment's section."""

    model_config = ConfigDict(populate_by_name=True)

    format: int = Field(alias="schema", description="The version of this document's shape.")
    title: str
    generated: str = Field(description="When the run ended (ISO 8601, UTC).")
    commit: str | None = Field(description="The commit it ran from (+dirty: with changes).")
    quick: bool = Field(description="A --quick run (shrunk sizes), or a full one.")
    seeds: int
    workers: int = Field(description="Runs at a time, one process and BLAS thread each.")
    seconds: float = Field(description="Wall time of the whole run.")
    machine: dict[str, Any]
    data: dict[str, Any] = Field(description="MNIST's fingerprint and split sizes, drawn digits.")
    experiments: list[Experiment]


def load_results(path: Path | None = None) -> LabResults:
    """The committed results (or ``path``), validated; ApiError 503 when they are missing or
    unreadable."""
    path = path or RESULTS
    try:
        return _parsed(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise ApiError(
            503,
            "lab_results_missing",
            f"no lab results at {path.name}: run `digits lab --out docs/lab`",
        ) from None
    except (OSError, ValueError, ValidationError) as e:
        raise ApiError(503, "lab_results_invalid", f"the lab results cannot be read: {e}") from None


@lru_cache(maxsize=2)
def _parsed(path: Path, mtime_ns: int) -> LabResults:
    """Read and validated once per version of the file (a few hundred kB)."""
    return LabResults.model_validate(json.loads(path.read_text()))


@router.get(
    "/api/lab/results",
    response_model=LabResults,
    response_model_by_alias=True,
    summary="The lecture lab's results",
    responses={503: {"model": ErrorResponse, "description": "No readable lab results."}},
)
def lab_results() -> LabResults:
    """Every experiment of the lecture lab from its committed full run: the claim, the setup,
    tables, charts (as data), the published anchors and the verdict. The /lab page draws it."""
    return load_results()


@router.get("/lab", response_class=HTMLResponse, include_in_schema=False)
def lab_page(request: Request, server: ServerDep) -> HTMLResponse:
    """The lab's report as a page, beside the drawing page for a lecture."""
    try:
        results, problem = load_results(), None
    except ApiError as e:
        results, problem = None, e.message
    try:
        docs_path = request.url_for("swagger_ui").path
    except NoMatchFound:
        docs_path = None
    context = {
        "model_version": server.version,
        "docs_path": docs_path,
        "results": results,
        "problem": problem,
    }
    return templates.TemplateResponse(request, "lab.html", context)
