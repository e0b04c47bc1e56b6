"""OpenAPI links between the user operations: what a client can do with a user it got.

A user created, registered, read or edited (one's own too, at /api/users/me) links to
reading, editing (with the `version` just read), force-logging-out, unlocking and
deleting that same user.
schemathesis' stateful phase follows them (create, then get, patch, delete).
"""

from __future__ import annotations

from typing import Any

USER = "/api/users/{user_id}"
_ID = {"user_id": "$response.body#/id"}
# Link name -> (method, path, link fields beyond the target operation).
_TARGETS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "GetUser": ("get", USER, {"parameters": _ID}),
    "UpdateUser": (
        "patch",
        USER,
        {"parameters": _ID, "requestBody": {"version": "$response.body#/version"}},
    ),
    "RevokeTokens": ("post", f"{USER}/revoke-tokens", {"parameters": _ID}),
    "UnlockUser": ("post", f"{USER}/unlock", {"parameters": _ID}),
    "DeleteUser": ("delete", USER, {"parameters": _ID}),
}
_EVERY_TARGET = tuple(_TARGETS)
# (method, path, status) of a response carrying a user -> the links it offers.
LINKS: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("post", "/api/users", "201"): _EVERY_TARGET,
    ("post", "/api/auth/register", "201"): _EVERY_TARGET,
    ("get", USER, "200"): _EVERY_TARGET,
    ("get", "/api/users/me", "200"): _EVERY_TARGET,
    ("patch", "/api/users/me", "200"): _EVERY_TARGET,
    ("patch", USER, "200"): _EVERY_TARGET,
    ("post", f"{USER}/revoke-tokens", "200"): _EVERY_TARGET,
    ("post", f"{USER}/unlock", "200"): _EVERY_TARGET,
}


def add_links(document: dict[str, Any]) -> None:
    """Attach LINKS to the document's responses, naming targets by operationId.

    An app without the user routes (a test's own) gets none.
    """
    paths: dict[str, Any] = document["paths"]
    for (method, path, status), names in LINKS.items():
        if path not in paths:
            continue
        response = paths[path][method]["responses"][status]
        links = response.setdefault("links", {})
        for name in names:
            target_method, target_path, fields = _TARGETS[name]
            operation_id = paths[target_path][target_method]["operationId"]
            links[name] = {"operationId": operation_id, **fields}
