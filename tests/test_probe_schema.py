"""The probe's request shapes, examples and checks, read from OpenAPI documents (no I/O)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings

from backend.api.deps import AdminActorDep
from backend.main import create_app
from backend.services.probe_checks import check_inputs, check_response
from backend.services.probe_schema import BodyKind, describe_request
from backend.services.routes_catalog import describe_routes, find_operation, match_route


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("doc")
    settings = make_settings(f"sqlite+aiosqlite:///{data_dir / 'x.db'}", data_dir)
    return create_app(settings).openapi()


def shape_of(document: dict[str, Any], method: str, path: str) -> Any:
    return describe_request(document, find_operation(document, method, path))


def test_roles_come_from_the_apis_own_declaration(document: dict[str, Any]) -> None:
    routes = {(r.method, r.path): r for r in describe_routes(document)}
    assert routes["GET", "/health"].roles == ()
    assert routes["GET", "/api/users/me"].roles == ("admin", "support", "user")
    assert routes["GET", "/api/users"].roles == ("admin", "support")
    assert routes["DELETE", "/api/users/{user_id}"].roles == ("admin",)
    own = routes["GET", "/api/users/{user_id}"]
    assert (own.roles, own.roles_note) == (
        ("admin", "support"),
        "a user may read their own account",
    )


def test_a_literal_segment_beats_a_path_parameter(document: dict[str, Any]) -> None:
    routes = describe_routes(document)
    me = match_route(routes, "GET", "/api/users/me")
    seven = match_route(routes, "GET", "/api/users/7")
    assert (me and me.path, seven and seven.path) == ("/api/users/me", "/api/users/{user_id}")
    assert match_route(routes, "GET", "/api/nothing") is None


def test_query_parameters_carry_types_defaults_and_enums(document: dict[str, Any]) -> None:
    shape = shape_of(document, "GET", "/api/users")
    params = {p.name: p for p in shape.in_location("query")}
    assert (params["limit"].type, params["limit"].default) == ("integer", 50)
    assert params["role"].enum == ("admin", "support", "user")
    assert params["is_active"].type == "boolean"
    assert not params["search"].required
    assert shape.body_kind is BodyKind.NONE


def test_the_example_body_is_valid_with_required_fields_first(document: dict[str, Any]) -> None:
    shape = shape_of(document, "POST", "/api/users")
    example = json.loads(shape.example_body)
    assert list(example)[:2] == ["email", "password"]
    assert example["email"] == "user@example.com"
    assert example["role"] == "user"  # an optional field with a default is shown
    assert check_inputs(shape, {}, shape.example_body) == []


def test_schema_examples_and_formats_are_respected() -> None:
    document = {
        "paths": {
            "/e": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["when", "name", "n"],
                                    "properties": {
                                        "when": {"type": "string", "format": "date-time"},
                                        "name": {"type": "string", "examples": ["Ada"]},
                                        "n": {"type": "integer", "minimum": 3},
                                        "skip": {"type": "string"},
                                    },
                                }
                            }
                        },
                    }
                }
            }
        }
    }
    shape = shape_of(document, "POST", "/e")
    assert json.loads(shape.example_body) == {"when": "2030-01-01T00:00:00Z", "name": "Ada", "n": 3}


def test_the_login_route_gets_form_fields_not_a_json_body(document: dict[str, Any]) -> None:
    shape = shape_of(document, "POST", "/api/auth/login")
    assert shape.body_kind is BodyKind.FORM
    fields = {f.name: f for f in shape.form_fields}
    assert [f.name for f in shape.form_fields][:2] == ["username", "password"]
    assert fields["password"].secret
    assert not fields["username"].secret
    errors = check_inputs(shape, {"form.username": "a@example.com"}, "")
    assert [(e.field, e.message) for e in errors] == [("form.password", "password is required.")]


def test_bad_inputs_are_reported_at_their_fields(document: dict[str, Any]) -> None:
    shape = shape_of(document, "PATCH", "/api/users/{user_id}")
    errors = check_inputs(shape, {"path.user_id": "seven"}, '{"version": 1,}')
    assert [(e.field, e.message.split(":")[0]) for e in errors] == [
        ("path.user_id", "user_id must be a whole number."),
        ("body", "Not valid JSON"),
    ]
    assert "line 1" in errors[1].message
    missing = check_inputs(shape, {}, '{"full_name": 3}')
    assert [e.field for e in missing] == ["path.user_id", "body"]
    assert "'version' is a required property" in missing[1].message
    listing = shape_of(document, "GET", "/api/users")
    wrong = check_inputs(listing, {"query.limit": "0", "query.role": "boss"}, "")
    assert {e.field for e in wrong} == {"query.role", "query.limit"}
    assert all(e.message.startswith(("limit:", "role:")) for e in wrong)


def test_an_answer_is_checked_against_its_documented_status(document: dict[str, Any]) -> None:
    operation = find_operation(document, "GET", "/api/users/me")
    good = json.dumps(
        {
            "id": 1,
            "email": "a@example.com",
            "full_name": "",
            "role": "user",
            "is_active": True,
            "created_at": "2030-01-01T00:00:00Z",
            "updated_at": "2030-01-01T00:00:00Z",
            "version": 1,
            "failed_login_attempts": 0,
            "locked_until": None,
            "tokens_valid_after": None,
            "last_login_at": None,
        }
    ).encode()
    findings = check_response(document, operation, 200, "application/json", good, complete=True)
    assert all("email" not in f for f in findings), findings
    assert check_response(document, operation, 418, "application/json", b"{}", complete=True) == [
        "Status 418 is not documented for this route."
    ]
    wrong = check_response(
        document, operation, 200, "application/json", b'{"id": "x"}', complete=True
    )
    assert any("'x' is not of type 'integer'" in f for f in wrong)
    cut = check_response(document, operation, 200, "application/json", b"{", complete=False)
    assert cut == [
        "The body was too large to keep whole, so it was not checked against its schema."
    ]
    text = check_response(document, operation, 200, "text/plain", b"hi", complete=True)
    assert text == ["Documented as JSON, but the answer is text/plain."]


def test_the_cli_and_screen_see_roles_in_to_dict(document: dict[str, Any]) -> None:
    routes = describe_routes(document)
    listed = next(r for r in routes if r.label == "GET /api/users").to_dict()
    assert (listed["roles"], listed["roles_note"]) == (["admin", "support"], None)


def test_a_route_added_later_appears_with_the_roles_its_dependency_declares(
    tmp_path: Path,
) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path)
    app = create_app(settings)
    before = {r.label for r in describe_routes(app.openapi())}

    async def purge(actor: AdminActorDep) -> None:
        return None

    app.add_api_route("/api/purge", purge, methods=["POST"], tags=["admin"])
    routes = {r.label: r for r in describe_routes(app.openapi())}
    assert set(routes) - before == {"POST /api/purge"}
    assert routes["POST /api/purge"].roles == ("admin",)


def test_texts_from_the_api_are_never_read_as_markup() -> None:
    from console.widgets.routes.builder import describe_route
    from console.widgets.routes.route_list import route_line

    odd = describe_routes({"paths": {"/x/[id]": {"get": {"summary": "[b]not bold[/b] [/oops]"}}}})[
        0
    ]
    assert "[/oops]" in describe_route(odd).plain
    assert "[b]not bold[/b]" in route_line(odd).plain
