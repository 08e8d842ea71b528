"""The generated OpenAPI document, corrected where FastAPI cannot know what this app does.

/api/predict accepts several content types, and /api/predict/batch parses its megabytes of JSON
in the threadpool, so neither declares a FastAPI body parameter, and FastAPI would not list
their models. Their ``openapi_extra`` refers to ``#/components/schemas/<Model>``; this adds
those schemas (and the models they nest) to the generated document.

FastAPI also declares its own 422 body, ``HTTPValidationError`` (``{"detail": [...]}``), on every
route with parameters that does not declare a 422 itself. This app's handler (``app.errors``)
answers every validation error as ``ErrorResponse`` instead, so those declarations are replaced.

The body limits (``app.limits``) apply to every request before any route sees it, so every
operation that takes a body also declares their 413 and 408.

Some answers are best shown as the served model really gives them (an explanation is hundreds of
numbers): ``response_examples`` maps a POST path to a function that makes its 200 example when
the document is first asked for, by which time the model is loaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

_FASTAPI_422 = "#/components/schemas/HTTPValidationError"
_ERROR_RESPONSE = "#/components/schemas/ErrorResponse"


def complete_openapi(
    app: FastAPI,
    *models: type[BaseModel],
    response_examples: dict[str, Callable[[], dict | None]] | None = None,
) -> None:
    """Make app.openapi() add models' schemas and the corrections above to FastAPI's document."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = generate()  # FastAPI's generator, which caches into app.openapi_schema
            _, definitions = models_json_schema(
                [(model, "validation") for model in models],
                ref_template="#/components/schemas/{model}",
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(definitions.get("$defs", {}))
            _declare_error_shape_for_422(schema)
            _declare_body_limits(schema)
            for path, make in (response_examples or {}).items():
                example = make()
                if example is not None:
                    answer = schema["paths"][path]["post"]["responses"]["200"]
                    answer["content"]["application/json"]["example"] = example
        return app.openapi_schema

    app.openapi = openapi


def _declare_error_shape_for_422(schema: dict) -> None:
    """Point FastAPI's default 422 responses at ErrorResponse, the body the app really sends."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            response = operation.get("responses", {}).get("422")
            content = (response or {}).get("content", {}).get("application/json", {})
            if content.get("schema", {}).get("$ref") == _FASTAPI_422:
                content["schema"] = {"$ref": _ERROR_RESPONSE}
                response["description"] = "A parameter or the body is invalid (`validation_error`)."
    components = schema.get("components", {}).get("schemas", {})
    # Drop HTTPValidationError, then the ValidationError it nests, once nothing refers to them.
    for name in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{name}"' not in json.dumps(schema):
            components.pop(name, None)


_BODY_LIMITS = {
    "413": "The body is over the size limit (`body_too_large`).",
    "408": "The body did not arrive within the time limit (`body_timeout`).",
}


def _declare_body_limits(schema: dict) -> None:
    """Add the body limits' 413 and 408 to every operation that takes a body."""
    error = {"application/json": {"schema": {"$ref": _ERROR_RESPONSE}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if "requestBody" in operation:
                responses = operation.setdefault("responses", {})
                for status, description in _BODY_LIMITS.items():
                    responses.setdefault(status, {"description": description, "content": error})
