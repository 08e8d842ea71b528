"""``POST /api/read``: a drawing of a whole number → its digits, left to right.

It takes the image forms ``/api/predict`` takes, with the same errors and limits (the same
in-flight slots too), and JSON pen strokes, which the page's Number mode sends: strokes make
the digits easier to tell apart than pixels, where two digits that touch are one blob of ink.
``model.segment`` finds the digits; each is then read exactly as ``/api/predict`` reads one.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.deps import InFlightDep, PredictorDep
from app.examples import READ_EXAMPLES
from app.inputs import READ_CONTENT_TEXT
from app.routes.drawing import IncludeInput, answer_drawing, drawing_body, drawing_errors
from app.schemas import NumberReading, ReadInput

router = APIRouter(prefix="/api", tags=["predict"])

_READ_ERRORS = drawing_errors(413, 415, 422, 503)
_READ_ERRORS[422] = {
    **_READ_ERRORS[422],
    "description": "The drawing is malformed, blank (`blank_image`), too complex to decode, has "
    "strokes out of bounds (`bad_strokes`), or holds more digits than the limit "
    "(`too_many_digits`, with `details.found` and `details.limit`); `error.code` says which.",
}


@router.post(
    "/read",
    response_model=NumberReading,
    response_model_exclude_none=True,
    summary="Read a whole number: each digit of a drawing, left to right",
    responses=_READ_ERRORS,
    openapi_extra=drawing_body(
        "ReadInput", "A drawing of a number, in any of these forms.", READ_EXAMPLES, "a number"
    ),
)
async def read_number(
    request: Request,
    predictor: PredictorDep,
    in_flight: InFlightDep,
    include_input: IncludeInput = False,
) -> NumberReading:
    """Send the drawing as JSON (`image`, a data URL; or `strokes` with the canvas's `width`
    and `height`), as a multipart upload in the field `file`, or as raw image bytes with an
    `image/*` Content-Type.

    The ink is split into digits: pieces of ink (pen strokes, or connected blots cut where two
    digits may touch) are grouped left to right into the digits the network reads best, given
    how digits are shaped. Each digit is then brought to MNIST form and read as `/api/predict`
    reads one, so a drawing of one digit gets the same answer here. `number` is the digits read,
    left to right; `digits` has each one's prediction and `box`. At most
    `DIGITS_READ_MAX_DIGITS` (12 by default) digits are read.
    """
    return await answer_drawing(
        request,
        in_flight,
        lambda drawing: predictor.read_number(drawing, include_input),
        ReadInput,
        READ_CONTENT_TEXT,
    )
