"""What a route's request looks like, read from its OpenAPI operation (plain dicts).

`describe_request` turns an operation into the fields a form shows: path and query
parameters with their types, defaults and enums, and the body: a JSON example
generated from the request schema, or the fields of a form (the OAuth2 login route).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
# How deep an example follows nested or recursive schemas before it stops.
MAX_EXAMPLE_DEPTH = 8
EXAMPLE_STRINGS = {
    "email": "user@example.com",
    "date-time": "2030-01-01T00:00:00Z",
    "date": "2030-01-01",
    "time": "12:00:00",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://example.com/",
    "password": "example-password",
}


class BodyKind(enum.StrEnum):
    NONE = "none"
    JSON = "json"
    FORM = "form"


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One input of a request: a path or query parameter, a header, or a form field."""

    name: str
    location: str  # "path", "query", "header" or "form"
    required: bool
    schema: Mapping[str, Any]  # resolved, with a `null` alternative removed
    type: str  # "string", "integer", "number", "boolean", "array" or "any"
    default: Any = None
    enum: tuple[Any, ...] = ()
    description: str = ""
    secret: bool = False  # format: password; shown masked, never kept in history

    @property
    def hint(self) -> str:
        """What to type, for a placeholder: "integer", "one of: admin, user"..."""
        if self.enum:
            return "one of: " + ", ".join(str(value) for value in self.enum)
        if self.default is None or self.default == "":
            return self.type
        return f"{self.type}, default {self.default}"


@dataclass(frozen=True, slots=True)
class RequestShape:
    """The form for one operation."""

    params: tuple[ParamSpec, ...]
    body_kind: BodyKind
    body_required: bool
    body_schema: Mapping[str, Any] | None  # resolved against the document's components
    example_body: str  # pretty JSON for a JSON body, "" otherwise
    form_fields: tuple[ParamSpec, ...] = ()

    def in_location(self, location: str) -> tuple[ParamSpec, ...]:
        return tuple(param for param in self.params if param.location == location)


def describe_request(document: Mapping[str, Any], operation: Mapping[str, Any]) -> RequestShape:
    """The inputs of `operation`: parameters, then the body (JSON example or form fields)."""
    resolver = SchemaResolver(document)
    params = tuple(
        _param(resolver, raw)
        for raw in operation.get("parameters") or ()
        if isinstance(raw, Mapping) and raw.get("in") in ("path", "query", "header")
    )
    body = operation.get("requestBody")
    content = body.get("content") if isinstance(body, Mapping) else None
    required = bool(isinstance(body, Mapping) and body.get("required"))
    if isinstance(content, Mapping) and FORM_TYPE in content:
        schema = resolver.resolve(_schema_of(content[FORM_TYPE]))
        fields = _form_fields(resolver, schema)
        return RequestShape(params, BodyKind.FORM, required, schema, "", fields)
    if isinstance(content, Mapping) and JSON_TYPE in content:
        media = content[JSON_TYPE]
        schema = resolver.resolve(_schema_of(media))
        example = _media_example(media) if isinstance(media, Mapping) else None
        value = example if example is not None else example_for(resolver, schema)
        return RequestShape(
            params, BodyKind.JSON, required, resolver.inline(schema), json.dumps(value, indent=2)
        )
    return RequestShape(params, BodyKind.NONE, False, None, "")


class SchemaResolver:
    """Follows `#/...` references inside one OpenAPI document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def resolve(self, schema: Any, depth: int = 0) -> Mapping[str, Any]:
        """`schema` with a top-level `$ref` followed (sibling keys kept); {} if malformed."""
        if not isinstance(schema, Mapping):
            return {}
        ref = schema.get("$ref")
        if not isinstance(ref, str) or depth > MAX_EXAMPLE_DEPTH:
            return schema
        target = self._lookup(ref)
        rest = {key: value for key, value in schema.items() if key != "$ref"}
        return {**self.resolve(target, depth + 1), **rest}

    def inline(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """`schema` with the document's components beside it, so its refs resolve alone."""
        components = self.document.get("components")
        if not isinstance(components, Mapping):
            return schema
        return {**schema, "components": components}

    def _lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            return {}
        node: Any = self.document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, Mapping) else None
        return node if isinstance(node, Mapping) else {}


def without_null(resolver: SchemaResolver, schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """An optional value's schema (`anyOf: [X, {type: null}]`) as X, its siblings kept."""
    schema = resolver.resolve(schema)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            real = [
                resolver.resolve(o) for o in options if resolver.resolve(o).get("type") != "null"
            ]
            if len(real) == 1:
                rest = {k: v for k, v in schema.items() if k != key}
                return {**real[0], **rest}
    return schema


def example_for(resolver: SchemaResolver, schema: Any, depth: int = 0) -> Any:
    """A value valid for `schema`: its examples first, then defaults, then made up by type."""
    schema = resolver.resolve(schema)
    if depth > MAX_EXAMPLE_DEPTH:
        return None
    for key in ("examples", "example", "default", "const", "enum"):
        if key in schema:
            value = schema[key]
            if key in ("examples", "enum"):
                if isinstance(value, list) and value:
                    return value[0]
                continue
            return value
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            real = [o for o in options if resolver.resolve(o).get("type") != "null"]
            return example_for(
                resolver, {**(real or options)[0], **_siblings(schema, key)}, depth + 1
            )
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example_for(resolver, part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    return _example_by_type(resolver, schema, depth)


def _siblings(schema: Mapping[str, Any], key: str) -> dict[str, Any]:
    # Keywords beside anyOf apply to every option (FastAPI puts `format` there).
    return {k: v for k, v in schema.items() if k not in (key, "title", "default")}


def _example_by_type(resolver: SchemaResolver, schema: Mapping[str, Any], depth: int) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        return _example_object(resolver, schema, depth)
    if kind == "array":
        return [example_for(resolver, schema.get("items", {}), depth + 1)]
    if kind == "integer":
        return int(_lowest_number(schema, 1))
    if kind == "number":
        return _lowest_number(schema, 1.0)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return _example_string(schema)


def _example_object(resolver: SchemaResolver, schema: Mapping[str, Any], depth: int) -> Any:
    """Required properties first; then the optional ones that have a default or an example."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    required = [name for name in schema.get("required") or () if name in properties]
    value = {name: example_for(resolver, properties[name], depth + 1) for name in required}
    for name, prop in properties.items():
        prop = resolver.resolve(prop)
        if name in value or not any(k in prop for k in ("default", "example", "examples")):
            continue
        example = example_for(resolver, prop, depth + 1)
        if example is not None:
            value[name] = example
    return value


def _lowest_number(schema: Mapping[str, Any], fallback: float) -> float:
    if isinstance(schema.get("minimum"), int | float):
        return float(schema["minimum"])
    if isinstance(schema.get("exclusiveMinimum"), int | float):
        return float(schema["exclusiveMinimum"]) + 1
    if isinstance(schema.get("maximum"), int | float) and schema["maximum"] < fallback:
        return float(schema["maximum"])
    return fallback


def _example_string(schema: Mapping[str, Any]) -> str:
    text = EXAMPLE_STRINGS.get(str(schema.get("format")), "string")
    minimum = schema.get("minLength")
    if isinstance(minimum, int) and len(text) < minimum:
        text = text + "x" * (minimum - len(text))
    maximum = schema.get("maxLength")
    if isinstance(maximum, int) and len(text) > maximum:
        text = text[:maximum]
    return text


def _schema_of(media: Any) -> Any:
    return media.get("schema") if isinstance(media, Mapping) else None


def _media_example(media: Mapping[str, Any]) -> Any:
    if "example" in media:
        return media["example"]
    examples = media.get("examples")
    if isinstance(examples, Mapping):
        for entry in examples.values():
            if isinstance(entry, Mapping) and "value" in entry:
                return entry["value"]
    return None


def _param(resolver: SchemaResolver, raw: Mapping[str, Any]) -> ParamSpec:
    schema = without_null(resolver, raw.get("schema") or {})
    location = str(raw.get("in"))
    return _spec(
        resolver,
        str(raw.get("name", "")),
        location,
        schema,
        required=location == "path" or raw.get("required") is True,
        description=str(raw.get("description") or ""),
    )


def _form_fields(resolver: SchemaResolver, schema: Mapping[str, Any]) -> tuple[ParamSpec, ...]:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return ()
    required = set(schema.get("required") or ())
    fields = [
        _spec(resolver, str(name), "form", without_null(resolver, prop), required=name in required)
        for name, prop in properties.items()
    ]
    return tuple(sorted(fields, key=lambda field: not field.required))


def _spec(
    resolver: SchemaResolver,
    name: str,
    location: str,
    schema: Mapping[str, Any],
    *,
    required: bool,
    description: str = "",
) -> ParamSpec:
    enum_values = schema.get("enum")
    kind = schema.get("type")
    return ParamSpec(
        name=name,
        location=location,
        required=required,
        schema=resolver.inline(schema),
        type=kind if isinstance(kind, str) else "any",
        default=schema.get("default"),
        enum=tuple(enum_values) if isinstance(enum_values, list) else (),
        description=description or str(schema.get("description") or ""),
        secret=schema.get("format") == "password",
    )
