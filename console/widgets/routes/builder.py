"""The request builder: a form generated from the selected route's OpenAPI operation.

Path, query and header parameters get an input each (typed hints, defaults filled
in); a JSON body gets a TextArea with JSON highlighting, pre-filled with an example;
a form body (the login route) gets its fields; any other header is typed in the
headers editor below them. Problems show under their field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Input, Label, Static, TextArea

from backend.services.probe_checks import BODY_FIELD, FieldError, check_inputs, field_key
from backend.services.probe_client import ProbeRequest
from backend.services.probe_headers import HeaderProblem, check_headers, typed_headers
from backend.services.probe_schema import BodyKind, ParamSpec, RequestShape
from backend.services.routes_catalog import RouteInfo
from console.widgets.fixed_size_input import FixedSizeInput
from console.widgets.routes.headers_editor import HeadersEditor
from console.widgets.tokens.field_error import FieldError as FieldErrorView

BODY_ID = "builder-body"


def widget_id(key: str) -> str:
    """A widget id for a field key such as "query.limit" ("field-query-limit")."""
    return "field-" + re.sub(r"[^A-Za-z0-9_-]", "-", key.replace(".", "-"))


def describe_route(route: RouteInfo) -> Content:
    """The route's title and who may call it (its texts come from the API: not markup)."""
    roles = ", ".join(route.roles) if route.roles else "anyone"
    note = f" ({route.roles_note})" if route.roles_note else ""
    auth = "token needed" if route.requires_auth else "no token needed"
    summary = f" · {route.summary}" if route.summary else ""
    return Content.assemble(
        (f"{route.method} {route.path}", "bold"),
        summary,
        "\n",
        (f"{auth} · may call: {roles}{note}", "dim"),
    )


class RequestBuilder(VerticalScroll):
    """Shows one route's form; `values()` and `body()` read it, `show_errors` marks it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.route: RouteInfo | None = None
        self.shape: RequestShape | None = None
        self._keys: dict[str, str] = {}  # field key -> input id
        self._inputs: dict[str, Input] = {}  # field key -> its input (no query per read)
        self._shown_errors: dict[str, str] = {}  # field key -> the error under it

    def compose(self) -> ComposeResult:
        yield Static("Pick a route on the left.", id="builder-title")
        yield Static("", id="builder-note")
        yield Vertical(id="builder-fields")
        yield HeadersEditor(id="builder-headers")

    async def load(self, route: RouteInfo, shape: RequestShape, *, note: str = "") -> None:
        """Replace the form with `route`'s (its defaults and example body filled in)."""
        self.route, self.shape = route, shape
        self.query_one("#builder-title", Static).update(describe_route(route))
        self.query_one("#builder-note", Static).update(note)
        fields = self.query_one("#builder-fields", Vertical)
        await fields.remove_children()
        self._keys, self._inputs, self._shown_errors = {}, {}, {}
        await fields.mount_all(list(self._field_widgets(shape)))

    def _field_widgets(self, shape: RequestShape) -> Iterable[Widget]:
        for param in (*shape.params, *shape.form_fields):
            key = field_key(param)
            self._keys[key] = widget_id(key)
            required = " *" if param.required else ""
            yield Label(
                Content.assemble(
                    f"{param.name}{required} ", (f"({param.location}, {param.type})", "dim")
                )
            )
            field = self._inputs[key] = FixedSizeInput(
                value="" if param.default is None else _text(param.default),
                placeholder=param.hint,
                password=param.secret,
                compact=True,
                id=self._keys[key],
            )
            yield field
            yield FieldErrorView(id=f"{self._keys[key]}-error")
        if shape.body_kind is BodyKind.JSON:
            yield Label("JSON body" + (" *" if shape.body_required else ""))
            yield TextArea.code_editor(
                shape.example_body, language="json", compact=True, id=BODY_ID
            )
            yield FieldErrorView(id=f"{BODY_ID}-error")

    def values(self) -> dict[str, str]:
        """What was typed, by field key."""
        return {key: field.value for key, field in self._inputs.items()}

    @property
    def headers(self) -> HeadersEditor:
        return self._headers

    def on_mount(self) -> None:
        self._headers = self.query_one(HeadersEditor)  # read with every send

    def header_problems(self, *, auth_sets_authorization: bool) -> list[HeaderProblem]:
        """What is wrong with the typed headers (see check_headers)."""
        documented = [p.name for p in self.shape.in_location("header")] if self.shape else []
        return check_headers(
            self.headers.pairs(),
            documented=documented,
            auth_sets_authorization=auth_sets_authorization,
        )

    def body(self) -> str:
        areas = self.query(f"#{BODY_ID}")
        return areas.first(TextArea).text if areas else ""

    def show_errors(self, errors: Iterable[FieldError]) -> None:
        """Each error under its field; fields without one are cleared."""
        by_field = {error.field: error.message for error in errors}
        # Only those that change: each update lays out the whole screen.
        for key in set(self._shown_errors) | set(by_field):
            if self._shown_errors.get(key) == by_field.get(key):
                continue
            wid = f"{self._keys[key]}-error" if key in self._keys else f"{BODY_ID}-error"
            for view in self.query(f"#{wid}").results(FieldErrorView):
                view.show(by_field.get(key))
        self._shown_errors = by_field
        first = next((k for k in by_field if k in self._keys), None)
        if first is not None:
            self._inputs[first].focus()
        elif BODY_FIELD in by_field and self.query(f"#{BODY_ID}"):
            self.query_one(f"#{BODY_ID}", TextArea).focus()

    def checked_request(self, *, auth_sets_authorization: bool) -> ProbeRequest | None:
        """The request, or None with every problem shown at its field (the first focused)."""
        assert self.shape is not None
        errors = check_inputs(self.shape, self.values(), self.body())
        problems = self.header_problems(auth_sets_authorization=auth_sets_authorization)
        self.show_errors(errors)
        self.headers.show_problems(problems, focus=not errors)
        return None if errors or problems else self.request()

    def request(self) -> ProbeRequest:
        """The request the form describes (call after checking it); empty optionals omitted."""
        assert self.route is not None
        assert self.shape is not None
        values = self.values()

        def pairs(params: Iterable[ParamSpec]) -> tuple[tuple[str, str], ...]:
            return tuple(
                (p.name, values[field_key(p)]) for p in params if values.get(field_key(p), "") != ""
            )

        shape = self.shape
        return ProbeRequest(
            method=self.route.method,
            path=self.route.path,
            path_params=dict(pairs(shape.in_location("path"))),
            query=pairs(shape.in_location("query")),
            headers=pairs(shape.in_location("header")) + typed_headers(self.headers.pairs()),
            json_body=self.body()
            if shape.body_kind is BodyKind.JSON and self.body().strip()
            else None,
            form=pairs(shape.form_fields) if shape.body_kind is BodyKind.FORM else None,
        )

    async def fill(self, request: ProbeRequest) -> None:
        """Put a recorded request's values into the form (a replay)."""
        documented = (
            {p.name.lower() for p in self.shape.in_location("header")} if self.shape else set()
        )
        await self.headers.fill([(k, v) for k, v in request.headers if k.lower() not in documented])
        given: Mapping[str, str] = {
            **{f"path.{k}": v for k, v in request.path_params.items()},
            **{f"query.{k}": v for k, v in request.query},
            **{f"header.{k}": v for k, v in request.headers},
            **{f"form.{k}": v for k, v in request.form or ()},
        }
        for key, field in self._inputs.items():
            field.value = given.get(key, "")
        if request.json_body is not None and self.query(f"#{BODY_ID}"):
            self.query_one(f"#{BODY_ID}", TextArea).text = request.json_body


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
