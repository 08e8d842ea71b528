"""What every route that reads one drawing shares: how it reads it, and how /docs describes it.

The rule for the work: reading the body is I/O and stays on the event loop; then the route takes
an in-flight slot (``app.limits``). Ready-made pixels are handled on the loop itself (they cost
less than a round trip to the threadpool costs the loop); an image (decoding, finding the ink,
scaling: milliseconds) goes to the threadpool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.examples import PREDICT_JSON_EXAMPLES
from app.inputs import ACCEPTED_CONTENT_TEXT, Drawing, read_drawing
from app.limits import InFlightLimit
from app.schemas import DrawingInput, ErrorResponse
from model.decode import ACCEPTED_FORMATS_TEXT

Answer = TypeVar("Answer")

IncludeInput = Annotated[
    bool, Query(description="Also return `input`: the 28×28 image the network saw.")
]


async def answer_drawing(
    request: Request,
    in_flight: InFlightLimit,
    work: Callable[[Drawing], Answer],
    schema: type[BaseModel] = DrawingInput,
    accepted: str = ACCEPTED_CONTENT_TEXT,
) -> Answer:
    """Read the request's drawing (its JSON form a ``schema``), take a slot, and run ``work`` on
    it where it belongs."""
    drawing = await read_drawing(request, schema, accepted)
    with in_flight.slot():
        if isinstance(drawing, DrawingInput) and drawing.pixels is not None:
            return work(drawing)
        return await run_in_threadpool(work, drawing)


def drawing_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error responses of a route that reads drawings, for /docs."""
    reasons = {
        413: "The body, or the image's declared size, is over the limit.",
        415: "The Content-Type, or the image format, is not accepted.",
        422: "The drawing is malformed, blank, too complex to decode, or out of range; "
        "`error.code` says which.",
        503: "No model is loaded yet (`model_unavailable`), or too many drawings are being read "
        "(`overloaded`); `Retry-After` says when to try again.",
    }
    return {s: {"model": ErrorResponse, "description": reasons[s]} for s in statuses}


_BINARY = {"schema": {"type": "string", "format": "binary"}}
# Raw image bytes, one entry per accepted Content-Type, for a request body's "content".
RAW_IMAGE_CONTENT = {f"image/{kind}": _BINARY for kind in ("png", "jpeg", "webp", "gif", "bmp")}


def drawing_body(schema: str, description: str, examples: dict, what: str) -> dict:
    """The request body of a route that reads a drawing: JSON of ``schema`` (a component's
    name), a multipart upload or raw image bytes of ``what``; for its ``openapi_extra``."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{schema}"},
                    "examples": examples,
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": f"A {ACCEPTED_FORMATS_TEXT} image of {what}.",
                            }
                        },
                        "required": ["file"],
                    }
                },
                **RAW_IMAGE_CONTENT,
            },
        }
    }


DRAWING_BODY = drawing_body(
    "DrawingInput", "One drawing, in any of these forms.", PREDICT_JSON_EXAMPLES, "one digit"
)
