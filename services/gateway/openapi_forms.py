"""OpenAPI request bodies for the streamed multipart endpoints.

They read `request.stream()` themselves (no `UploadFile`/`Form`, which spool), so
FastAPI cannot infer their bodies; this documents them via `openapi_extra`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def multipart_body(files: dict[str, tuple[str, bool]], fields: type[BaseModel] | None = None) -> dict[str, Any]:
    """`files`: name → (description, required); `fields`: the model of the text fields."""
    properties: dict[str, Any] = {
        name: {"type": "string", "format": "binary", "description": description}
        for name, (description, _) in files.items()
    }
    required = [name for name, (_, needed) in files.items() if needed]
    if fields is not None:
        schema = fields.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            properties[name] = prop
        required.extend(schema.get("required", []))
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": {"type": "object", "properties": properties, "required": required}}
            },
        }
    }
