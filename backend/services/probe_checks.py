"""Checks with jsonschema: a request's inputs before sending, a response against its docs.

A request's problems are tied to their field (a form shows each beside its input); a
response's are findings, sentences listed under the answer. A status the route does
not document is itself a finding.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backend.services.probe_schema import (
    JSON_TYPE,
    BodyKind,
    ParamSpec,
    RequestShape,
    SchemaResolver,
)

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

MAX_FINDINGS = 20
BODY_FIELD = "body"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str  # "path.user_id", "query.limit", "form.username" or "body"
    message: str


def field_key(param: ParamSpec) -> str:
    return f"{param.location}.{param.name}"


def coerce(param: ParamSpec, text: str) -> Any:
    """The typed value of what was typed for `param`. Raises ValueError with a sentence."""
    kind = param.type
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{param.name} must be a whole number.") from None
    if kind == "number":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{param.name} must be a number.") from None
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"{param.name} must be true or false.")
        return lowered == "true"
    return text


def check_inputs(
    shape: RequestShape, values: Mapping[str, str], body_text: str
) -> list[FieldError]:
    """Everything wrong with a request before it is sent, each at its field.

    `values` maps field keys (see field_key) to what was typed; an empty optional
    value is left out of the request and so is never wrong.
    """
    errors = [
        error
        for param in (*shape.params, *shape.form_fields)
        if (error := _check_param(param, values.get(field_key(param), ""))) is not None
    ]
    if shape.body_kind is BodyKind.JSON:
        body_error = check_json_body(shape, body_text)
        if body_error is not None:
            errors.append(body_error)
    return errors


def _check_param(param: ParamSpec, text: str) -> FieldError | None:
    key = field_key(param)
    if text == "":
        return FieldError(key, f"{param.name} is required.") if param.required else None
    try:
        value = coerce(param, text)
    except ValueError as error:
        return FieldError(key, str(error))
    problem = _first_problem(param.schema, value)
    return None if problem is None else FieldError(key, f"{param.name}: {problem}")


def check_json_body(shape: RequestShape, body_text: str) -> FieldError | None:
    """Bad JSON (with its line and column), or the first way it breaks the schema."""
    if not body_text.strip():
        return FieldError(BODY_FIELD, "A JSON body is required.") if shape.body_required else None
    try:
        value = json.loads(body_text)
    except json.JSONDecodeError as error:
        return FieldError(
            BODY_FIELD, f"Not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        )
    if shape.body_schema is None:
        return None
    problem = _first_problem(shape.body_schema, value)
    return None if problem is None else FieldError(BODY_FIELD, problem)


def _first_problem(schema: Mapping[str, Any], value: Any) -> str | None:
    errors = _validation_errors(schema, value)
    return _sentence(errors[0]) if errors else None


def _validation_errors(schema: Mapping[str, Any], value: Any) -> list[ValidationError]:
    # jsonschema (and its format checkers) load with the first check, not with the console.
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))


def _sentence(error: ValidationError) -> str:
    message = error.message if len(error.message) <= 200 else error.message[:199] + "…"
    return f"At {error.json_path}: {message}." if error.absolute_path else f"{message}."


def check_response(
    document: Mapping[str, Any],
    operation: Mapping[str, Any],
    status: int,
    content_type: str,
    body: bytes,
    *,
    complete: bool,
) -> list[str]:
    """How the answer differs from what the route documents for `status`.

    `complete` is False when only the first part of the body was kept: it is then not
    validated (and that is said).
    """
    responses = operation.get("responses")
    documented = _documented(responses, status) if isinstance(responses, Mapping) else None
    if documented is None:
        return [f"Status {status} is not documented for this route."]
    content = documented.get("content") if isinstance(documented, Mapping) else None
    media = content.get(JSON_TYPE) if isinstance(content, Mapping) else None
    if not isinstance(media, Mapping) or not isinstance(media.get("schema"), Mapping):
        return []
    if not complete:
        return ["The body was too large to keep whole, so it was not checked against its schema."]
    if not content_type.startswith(JSON_TYPE):
        return [f"Documented as JSON, but the answer is {content_type or 'untyped'}."]
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ["Documented as JSON, but the body is not valid JSON."]
    schema = SchemaResolver(document).inline(media["schema"])
    errors = _validation_errors(schema, value)
    findings = [_sentence(error) for error in errors[:MAX_FINDINGS]]
    if len(errors) > MAX_FINDINGS:
        findings.append(f"And {len(errors) - MAX_FINDINGS} more.")
    return findings


def _documented(responses: Mapping[str, Any], status: int) -> Any:
    """The response documented for `status`: exact, then its range (4XX), then default."""
    for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
        if key in responses:
            return responses[key]
    return None
