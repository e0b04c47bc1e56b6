"""Secret fields, as the OpenAPI document marks them, and 422 details that never echo them.

A field is secret when its JSON Schema says `format: password` or `writeOnly: true`
(pydantic's SecretStr, FastAPI's login form and backend.schemas.user.SECRET all do): the
schema decides, not a list kept by hand, so a secret field added later is covered too.
FastAPI's validation errors carry the submitted value (`input`, and some `ctx`); for a
secret field both go, and an object's `input` loses its secret members. The rest stays.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

JsonSchema = Mapping[str, Any]
_BRANCHES = ("anyOf", "oneOf", "allOf")
_REF_PREFIX = "#/components/schemas/"


@dataclass(frozen=True, slots=True)
class SecretField:
    """A secret field of a request: `loc` as a validation error would name it."""

    method: str  # upper case
    path: str  # the route's template, e.g. /api/users/{user_id}
    content_type: str  # the request body's media type; "" for a parameter
    loc: tuple[str, ...]  # ("body", "password"), ("query", "token"), ...


class SchemaWalker:
    """Walks the schemas of one OpenAPI document, following its `$ref`s."""

    def __init__(self, openapi: Mapping[str, Any]) -> None:
        self._components: Mapping[str, JsonSchema] = openapi.get("components", {}).get(
            "schemas", {}
        )

    def resolve(self, schema: JsonSchema) -> JsonSchema:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            return self.resolve(self._components.get(ref.removeprefix(_REF_PREFIX), {}))
        return schema

    def is_secret(self, schema: JsonSchema) -> bool:
        schema = self.resolve(schema)
        if schema.get("format") == "password" or schema.get("writeOnly") is True:
            return True
        return any(self.is_secret(branch) for branch in self._branches(schema))

    def child(self, schema: JsonSchema, key: str | int) -> JsonSchema | None:
        """The schema of `key` (a property name or an item index) inside `schema`."""
        schema = self.resolve(schema)
        if isinstance(key, str) and key in schema.get("properties", {}):
            child: JsonSchema = schema["properties"][key]
            return child
        if isinstance(key, int) and isinstance(schema.get("items"), Mapping):
            items: JsonSchema = schema["items"]
            return items
        for branch in self._branches(schema):
            found = self.child(branch, key)
            if found is not None:
                return found
        return None

    def at(self, schema: JsonSchema, path: Sequence[str | int]) -> JsonSchema | None:
        for key in path:
            found = self.child(schema, key)
            if found is None:
                return None
            schema = found
        return schema

    def secret_paths(
        self, schema: JsonSchema, seen: frozenset[str] = frozenset()
    ) -> Iterator[tuple[str, ...]]:
        """The property paths of every secret field inside `schema` (objects, nested)."""
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref in seen:
                return  # a recursive schema
            seen = seen | {ref}
        schema = self.resolve(schema)
        for name, child in schema.get("properties", {}).items():
            if self.is_secret(child):
                yield (name,)
            else:
                yield from ((name, *rest) for rest in self.secret_paths(child, seen))
        for branch in self._branches(schema):
            yield from self.secret_paths(branch, seen)

    @staticmethod
    def _branches(schema: JsonSchema) -> Iterator[JsonSchema]:
        for key in _BRANCHES:
            yield from schema.get(key, ())


def secret_fields(openapi: Mapping[str, Any]) -> list[SecretField]:
    """Every secret field of every request the document describes."""
    walker = SchemaWalker(openapi)
    found: list[SecretField] = []
    for path, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            for content_type, schema in _body_schemas(operation):
                found.extend(
                    SecretField(method.upper(), path, content_type, ("body", *loc))
                    for loc in dict.fromkeys(walker.secret_paths(schema))
                )
            for parameter in operation.get("parameters", ()):
                if walker.is_secret(parameter.get("schema", {})):
                    loc = (parameter["in"], parameter["name"])
                    found.append(SecretField(method.upper(), path, "", loc))
    return found


def _body_schemas(operation: Mapping[str, Any]) -> Iterator[tuple[str, JsonSchema]]:
    content = operation.get("requestBody", {}).get("content", {})
    for content_type, media in content.items():
        yield content_type, media.get("schema", {})


def redact_errors(
    openapi: Mapping[str, Any], operation: Mapping[str, Any] | None, errors: Sequence[Any]
) -> list[Any]:
    """`errors` (FastAPI's validation errors for `operation`) without any secret value."""
    if operation is None:
        return list(errors)
    walker = SchemaWalker(openapi)
    roots = _location_schemas(operation)
    return [_redact(walker, roots, error) for error in errors]


def _location_schemas(operation: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The schema of each location a `loc` starts with: body, query, path, header, cookie."""
    roots: dict[str, dict[str, Any]] = {}
    for _content_type, schema in _body_schemas(operation):
        roots.setdefault("body", {"anyOf": []})["anyOf"].append(schema)
    for parameter in operation.get("parameters", ()):
        where = roots.setdefault(parameter["in"], {"properties": {}})
        where["properties"][parameter["name"]] = parameter.get("schema", {})
    return roots


def _redact(walker: SchemaWalker, roots: Mapping[str, JsonSchema], error: Any) -> Any:
    if not isinstance(error, Mapping) or not error.get("loc"):
        return error
    where, *path = error["loc"]
    schema = walker.at(roots.get(where, {}), path)
    if schema is None:
        return error
    if walker.is_secret(schema):
        return {key: value for key, value in error.items() if key not in ("input", "ctx")}
    if isinstance(error.get("input"), Mapping):
        # An object's error carries the object; a missing field's carries its parent.
        parent = walker.at(roots.get(where, {}), path[:-1]) if path else None
        secret = [*walker.secret_paths(schema), *walker.secret_paths(parent or {})]
        return {**error, "input": _without(error["input"], secret)}
    return error


def _without(value: Mapping[str, Any], paths: Sequence[tuple[str, ...]]) -> dict[str, Any]:
    """`value` without the members `paths` name (nested objects copied, not changed)."""
    kept = dict(value)
    for first, *rest in paths:
        if first not in kept:
            continue
        if not rest:
            del kept[first]
        elif isinstance(kept[first], Mapping):
            kept[first] = _without(kept[first], [tuple(rest)])
    return kept
