"""OpenAPI schemas for request bodies that routes parse by hand.

/api/predict accepts several content types, and /api/predict/batch parses its megabytes of JSON
in the threadpool, so neither declares a FastAPI body parameter, and FastAPI would not list
their models. Their ``openapi_extra`` refers to ``#/components/schemas/<Model>``; this adds
those schemas (and the models they nest) to the generated document.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema


def document_request_models(app: FastAPI, *models: type[BaseModel]) -> None:
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
        return app.openapi_schema

    app.openapi = openapi
