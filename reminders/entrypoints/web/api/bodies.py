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
            field, inner = _field_of(data, list(e["loc"]))
            message = str(e["msg"])
            errors.setdefault(field, f"{inner}: {message}" if inner else message)
        kept = {k: v for k, v in data.items() if k not in wrong}
        return model.model_validate({**stand_ins, **kept}), errors


# Models that routes read themselves: FastAPI never sees them, so the API document adds
# them (and the models nested in them) to its components (api_docs.py).
READ_BY_HAND: list[type[BaseModel]] = []


def _field_of(data: dict[str, Any], loc: list[Any]) -> tuple[str, str]:
    """The body's path to a wrong field (`caregiver.phone`, `consents.1.method`), and the
    rest of pydantic's location (a union's member), followed as far as the body goes."""
    parts, node, i = [str(loc[0])], data.get(loc[0]), 1
    while i < len(loc) and isinstance(node, dict | list):
        key = loc[i]
        parts.append(str(key))
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            node = None
        i += 1
    return ".".join(parts), ".".join(str(p) for p in loc[i:])


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI requestBody for a model the route reads itself (see read_body)."""
    if model not in READ_BY_HAND:
        READ_BY_HAND.append(model)
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def component_schemas(models: list[type[BaseModel]]) -> dict[str, Any]:
    """Each model's JSON schema and those of the models inside it, as document components."""
    found: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        found.update(schema.pop("$defs", {}))
        found[model.__name__] = schema
    return found
