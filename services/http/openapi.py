"""What the OpenAPI document states beyond the marshmallow fields: constraints on a body as a
whole (which fields go together), and path parameters a view checks itself."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from apispec import BasePlugin

# A field that, in one of a body's shapes, is left out or null.
ABSENT: dict[str, Any] = {"nullable": True, "enum": [None]}


class SchemaConstraints(BasePlugin):
    """Adds a marshmallow schema's `OPENAPI` (e.g. a `oneOf` of the field combinations the view
    accepts) to the schema's component; the view enforces the same, with a 422 naming the field."""

    def schema_helper(self, name: str, definition: dict[str, Any], **kwargs: Any) -> Any:
        schema = kwargs.get("schema")
        if schema is None:
            return None
        declared = getattr(schema if isinstance(schema, type) else type(schema), "OPENAPI", None)
        return deepcopy(declared) if declared else None


def path_text(name: str, pattern: str, description: str) -> dict[str, Any]:
    """A path parameter the view checks against `pattern` itself (a `string` converter, so that a
    wrong one is a 422 naming it rather than a 404)."""
    return {"in": "path", "name": name, "required": True, "description": description,
            "schema": {"type": "string", "pattern": pattern}}


def pointer(method: str, path: str) -> str:
    """The operationRef of an operation of this document (a JSON pointer, RFC 6901)."""
    return f"#/paths/{path.replace('~', '~0').replace('/', '~1')}/{method.lower()}"


def links(parameter: str, value: str, *operations: str) -> dict[str, Any]:
    """OpenAPI links from an answer to `operations` ("METHOD /path"), each given the answer's
    `value` (a runtime expression such as `$response.body#/id`) as its path `parameter`: what a
    client, and schemathesis's stateful phase, may call next with the resource just made."""
    found = {}
    for operation in operations:
        method, path = operation.split(" ", 1)
        words = path.replace("-", "/").replace("_", "/").strip("/{}").split("/")
        name = method.lower() + "".join(word.strip("{}").capitalize() for word in words)
        found[name] = {"operationRef": pointer(method, path), "parameters": {parameter: value}}
    return found
