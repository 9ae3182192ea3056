"""JSON request bodies read past their wrong fields, so one answer can name all of them.

FastAPI stops at the schema: a body with a bad `levels` would never reach the domain
rules, and the client would fix one error per round trip. Here the schema's errors are
kept by field, wrong fields are replaced by harmless stand-ins, and the domain checks
the rest; the use case reports both together.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


async def json_object(request: Request) -> dict[str, Any]:
    """The body parsed as a JSON object (400 when it is not JSON, 422 when not an object)."""
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "the body is not JSON") from None
    except RecursionError:  # nested ~1,000 deep: no request of ours is, so say so (not a 500)
        raise HTTPException(400, "the body's JSON is nested too deeply") from None
    if not isinstance(data, dict):
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "the body must be a JSON object", "type": "dict_type"}]
        )
    return data


def read_body(
    model: type[M], data: dict[str, Any], *, stand_ins: dict[str, Any]
) -> tuple[M, dict[str, str]]:
    """Return the body with stand-ins for its wrong fields, and those fields' errors."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        wrong: set[str] = set()
        for e in exc.errors():
            loc = [str(p) for p in e["loc"]]
            if not loc:
                continue
            wrong.add(loc[0])
            # A field of a nested object (`caregiver.phone`) is named on its own.
            depth = 2 if len(loc) > 1 and isinstance(data.get(loc[0]), dict) else 1
            inner = ".".join(loc[depth:])
            message = str(e["msg"])
            errors.setdefault(".".join(loc[:depth]), f"{inner}: {message}" if inner else message)
        kept = {k: v for k, v in data.items() if k not in wrong}
        return model.model_validate({**stand_ins, **kept}), errors


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI requestBody for a model the route reads itself (see read_body)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)  # the nested models are in the document's components already
    return {"required": True, "content": {"application/json": {"schema": schema}}}
