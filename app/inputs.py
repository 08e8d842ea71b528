"""Request payloads → MNIST vectors: float32 (784,) in [0, 1], ink = 1, and how large the ink was.

A drawing arrives as image bytes (a multipart upload or a raw ``image/*`` body) or as JSON with a
data URL or ready-made pixels. Each failure becomes an ``ApiError`` whose code names the reason:

    415 unsupported_media_type    the request's Content-Type is none of the accepted ones
    415 unsupported_image_format  the bytes (or a data URL's type) are not PNG/JPEG/WebP/GIF/BMP
    413 image_too_large           the image header declares more than max_image_pixels
    413 batch_too_many_pixels     the images of one request hold more pixels than its budget
    422 image_too_complex         its structure (JPEG scans, chunks) or decoding time is too much
    422 invalid_image             an accepted format, but truncated or corrupt
    422 empty_body / blank_image / bad_pixels / bad_data_url / invalid_json / validation_error
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from typing import TypeVar

import numpy as np
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from PIL import Image
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import ApiError
from app.schemas import DrawingInput, ReadInput
from model.decode import (
    ACCEPTED_FORMATS_TEXT,
    DecodeLimits,
    ImageError,
    decode_image,
    sniff_format,
)
from model.preprocess import Prepared, pixels_to_mnist, prepare

Body = TypeVar("Body", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class JsonDrawing:
    """The body of a JSON drawing request too large to parse on the event loop.

    It is parsed in the same threadpool call that predicts, so that the request crosses to the
    threadpool once: each crossing costs the event loop about 0.1 ms of waking and handing over.
    """

    body: bytes
    schema: type[BaseModel] = DrawingInput  # what it must be: DrawingInput, or ReadInput


INLINE_JSON_BYTES = 32_768  # JSON bodies up to this size are parsed on the event loop

# image bytes, a JSON drawing (data URL or pixels; for /api/read, data URL or strokes), or a JSON
# body still to be parsed
Drawing = bytes | DrawingInput | ReadInput | JsonDrawing

ACCEPTED_IMAGE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/jpg",
        "image/webp",
        "image/gif",
        "image/bmp",
        "image/x-ms-bmp",
    }
)
ACCEPTED_CONTENT_TEXT = (
    "application/json ({'image': 'data:image/png;base64,...'} or {'pixels': [...]}), "
    "multipart/form-data with the image in a field named 'file', or the raw image bytes with "
    "an image/* Content-Type"
)
READ_CONTENT_TEXT = (
    "application/json ({'image': 'data:image/png;base64,...'} or {'strokes': [[[x, y], ...], "
    "...], 'width': W, 'height': H}), multipart/form-data with the image in a field named "
    "'file', or the raw image bytes with an image/* Content-Type"
)

# A few formats people do send, named in the error so that the fix is obvious.
_REFUSED_SIGNATURES = (
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%PDF", "PDF"),
    (b"<svg", "SVG"),
    (b"<?xml", "SVG/XML"),
    (b"\x00\x00\x01\x00", "ICO"),
)


def media_type(request: Request) -> str:
    """The request's Content-Type without parameters, lower-cased ('' when absent)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def is_json(kind: str) -> bool:
    """Whether a ``media_type`` is JSON: application/json, or any type of it (…+json)."""
    return kind == "application/json" or kind.endswith("+json")


async def read_drawing(
    request: Request,
    schema: type[BaseModel] = DrawingInput,
    accepted: str = ACCEPTED_CONTENT_TEXT,
) -> Drawing:
    """The drawing in a /api/predict request (or, with ``schema`` ReadInput and its
    ``accepted`` text, a /api/read one), in whichever accepted form it came."""
    kind = media_type(request)
    if kind == "multipart/form-data":
        return (await read_upload(request))[0]
    if kind.startswith("image/"):
        return await request.body()
    if is_json(kind):
        body = await request.body()
        # A drawing's JSON is small (784 pixels are 4-8 kB; parsing them takes ~40 µs), and the
        # event loop parses it faster than it could hand it to the threadpool. A larger body
        # goes to the threadpool to be parsed there, with the prediction.
        return (
            parse_json(body, schema)
            if len(body) <= INLINE_JSON_BYTES
            else JsonDrawing(body, schema)
        )
    raise ApiError(
        415,
        "unsupported_media_type",
        f"Content-Type {kind or '(none)'} is not accepted; send {accepted}",
    )


def json_if_any_body(request: Request) -> None:
    """A dependency of the admin routes that take a JSON object: a body of another type is 415
    (FastAPI would read it as something else and refuse it with an unclear 422, 'a valid
    dictionary'). A request without a body passes: the route says whether it needs one."""
    length = request.headers.get("content-length", "0")
    if request.headers.get("transfer-encoding") or length.strip() not in ("", "0"):
        require_json(request)


def require_json(request: Request) -> None:
    """415 unless the request says its body is JSON."""
    kind = media_type(request)
    if not is_json(kind):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Content-Type {kind or '(none)'} is not accepted here; send application/json",
        )


async def read_json_body(request: Request) -> bytes:
    """The body of a request that must be JSON (415 otherwise)."""
    require_json(request)
    return await request.body()


async def read_upload(request: Request, fields: Iterable[str] = ()) -> tuple[bytes, dict]:
    """A multipart request → (the bytes of its file field 'file', {name: value} of ``fields``)."""
    try:
        form = await request.form(max_files=1, max_fields=10)
    except StarletteHTTPException as e:
        if e.status_code != 400 or isinstance(e, ApiError):
            raise
        # Starlette answers a body its multipart parser cannot read (no boundary, a broken part,
        # too many parts) with a bare 400; a malformed request is 422 everywhere in this API.
        raise ApiError(
            422,
            "validation_error",
            f"the multipart/form-data body could not be read ({e.detail}); send the image in a "
            "part named 'file'",
        ) from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(
                422,
                "validation_error",
                "multipart/form-data must carry the file in a field named 'file'",
            )
        return await upload.read(), {name: form.get(name) for name in fields}
    finally:
        await form.close()


def parse_json(body: bytes, model: type[Body]) -> Body:
    """JSON bytes → a validated model. Errors take the shape of FastAPI's body errors.

    NaN and Infinity literals parse (as Python's json does) and are then refused as pixels,
    with the other out-of-range values. No body at all is 422 empty_body, as for image bytes.
    """
    if not body.strip():
        raise ApiError(422, "empty_body", "the body is empty; send a JSON object (see /docs)")
    try:
        return model.model_validate_json(body)
    except ValidationError as e:
        errors = e.errors(include_url=False, include_input=False)
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in errors]
        ) from None


class DrawingDecoder:
    """Turns the drawings of one request into MNIST vectors, within the request's limits.

    Each image is decoded within ``limits`` (size, structure and CPU time: ``model.decode``).
    The images of one request may also decode at most ``max_total_pixels`` between them (a
    batch's budget): the image that crosses it is refused with 413 ``batch_too_many_pixels``,
    so a request costs at most the budget plus one image.
    """

    def __init__(self, limits: DecodeLimits, max_total_pixels: int | None = None):
        self.limits = limits
        self.max_total_pixels = max_total_pixels
        self.pixels = 0  # decoded so far by this request

    def prepare(self, drawing: Drawing) -> Prepared:
        """One drawing → its MNIST form (784,) and its ink's extent (NaN for pixels, which come
        already in MNIST form). Raises ApiError (RequestValidationError for a JSON body that
        does not match DrawingInput)."""
        if isinstance(drawing, JsonDrawing):
            drawing = parse_json(drawing.body, drawing.schema)
        if isinstance(drawing, DrawingInput):
            if drawing.image is None:
                return Prepared(pixels_to_vector(drawing.pixels), math.nan)
            drawing = decode_data_url(drawing.image)
        return prepare_image(self.image(drawing))

    def prepare_all(self, drawings: Sequence[Drawing]) -> tuple[np.ndarray, np.ndarray]:
        """Drawings → (pixels float32 (n, 784), extents (n,)). An error names the item:
        ``details: {"index": i}``."""
        x = np.empty((len(drawings), 28 * 28), dtype=np.float32)
        extents = np.empty(len(drawings))
        for i, drawing in enumerate(drawings):
            try:
                x[i], extents[i] = astuple(self.prepare(drawing))
            except ApiError as e:  # the item's own error, status and all, as it would be alone
                raise ApiError(
                    e.status_code, e.code, f"item {i}: {e.message}", {"index": i}
                ) from None
        return x, extents

    def image(self, data: bytes) -> Image.Image:
        """Image bytes → the decoded, upright image: format checked, size checked before
        decoding, decoding bounded (ApiError 413/415/422 otherwise)."""
        if data and sniff_format(data) is None:
            refused = next((n for sig, n in _REFUSED_SIGNATURES if data.startswith(sig)), None)
            what = (
                f"{refused} images are not accepted"
                if refused
                else "the data is not an image in an accepted format"
            )
            raise ApiError(
                415, "unsupported_image_format", f"{what}; send a {ACCEPTED_FORMATS_TEXT} image"
            )
        try:
            image = decode_image(data, self.limits)
        except ImageError as e:
            raise image_error(e) from None
        self.pixels += image.width * image.height
        if self.max_total_pixels is not None and self.pixels > self.max_total_pixels:
            raise ApiError(
                413,
                "batch_too_many_pixels",
                f"the images of this request hold more than {self.max_total_pixels} pixels "
                "between them, the limit; send fewer or smaller images per request",
            )
        return image


def prepare_image(image: Image.Image) -> Prepared:
    """A decoded image → its MNIST form and extent (ApiError 422 blank_image if no ink)."""
    try:
        return prepare(image)
    except ImageError as e:
        raise image_error(e) from None


def pixels_to_vector(pixels: list) -> np.ndarray:
    """MNIST-form pixels, 784 numbers or 28 rows of 28 → float32 (784,), used as they are."""
    try:
        array = np.asarray(pixels)  # no dtype yet, so that strings, booleans and nulls show
    except ValueError:  # rows of different lengths make a ragged array
        raise _bad_pixels("the rows differ in length") from None
    if array.dtype.kind == "O" and value_types(pixels) <= {int, float}:
        raise _bad_pixels("some values are far outside [0, 1]")  # integers too large for NumPy
    if array.dtype.kind not in "iuf" or bool in value_types(pixels):
        raise _bad_pixels("some values are not numbers")
    with np.errstate(over="ignore"):  # 1e300 → inf, refused below with NaN and the rest
        array = array.astype(np.float32)
    try:
        return pixels_to_mnist(array)
    except ImageError as e:
        raise image_error(e) from None


def value_types(values: list) -> set[type]:
    """The Python types in a JSON list of numbers, or of rows of them (pixels, a stroke's
    points). A check that they are numbers needs them: NumPy takes JSON's true and false for 1
    and 0 when numbers are beside them."""
    rows = bool(values) and all(isinstance(row, list) for row in values)
    return set(map(type, itertools.chain.from_iterable(values) if rows else values))


def _bad_pixels(reason: str) -> ApiError:
    return ApiError(
        422, "bad_pixels", f"pixels must be 784 numbers or 28 rows of 28, in [0, 1]; {reason}"
    )


def decode_data_url(url: str) -> bytes:
    """``data:image/png;base64,...`` → the image bytes. Raises ApiError (bad_data_url, 415).

    As RFC 2397 and the tools that make data URLs have it: the scheme in any case, and base64
    broken over lines (``base64`` without ``-w0``, Python's ``encodebytes``)."""
    if url[:5].lower() != "data:":
        raise _bad_data_url(f"got a string starting with {url[:16]!r}")
    header, comma, payload = url[len("data:") :].partition(",")
    if not comma:
        raise _bad_data_url("it has no ',' before the data")
    kind, *params = (part.strip().lower() for part in header.split(";"))
    if kind not in ACCEPTED_IMAGE_TYPES:
        raise ApiError(
            415,
            "unsupported_image_format",
            f"a data URL of type {kind or '(none)'} is not accepted; use image/png, image/jpeg, "
            "image/webp, image/gif or image/bmp",
        )
    if "base64" not in params:
        raise _bad_data_url("only base64 data URLs are accepted")
    if not payload.strip():
        raise _bad_data_url("it holds no image data after the ','")
    try:
        return base64.b64decode(payload.translate(_ASCII_WHITESPACE), validate=True)
    except (binascii.Error, ValueError):
        raise _bad_data_url("its base64 data is malformed") from None


# Dropped from base64 before it is decoded: the line breaks and spaces tools put in, nothing else
# (str.split() would also drop Unicode spaces, and build a string per line).
_ASCII_WHITESPACE = dict.fromkeys(map(ord, " \t\r\n"))


def _bad_data_url(reason: str) -> ApiError:
    return ApiError(
        422,
        "bad_data_url",
        f"'image' must be a base64 data URL such as data:image/png;base64,iVBOR...; {reason}",
    )


_STATUS_BY_CODE = {"image_too_large": 413, "unsupported_image_format": 415}


def image_error(e: ImageError) -> ApiError:
    """A decoding or preprocessing error → the API error with the status its code calls for
    (422 by default)."""
    return ApiError(_STATUS_BY_CODE.get(e.code, 422), e.code, str(e))
