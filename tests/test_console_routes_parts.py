"""The Routes screen's pure parts: JSON as foldable lines, finding in the body, sizes."""

from __future__ import annotations

import json
from typing import Any

from rich.style import Style

from console.widgets.routes.body_view import find_in_lines, overlay
from console.widgets.routes.json_lines import (
    FOLD_ABOVE_LINES,
    FOLD_BUDGET_LINES,
    FoldedJson,
    Kind,
    folded_summary,
    json_lines,
)
from console.widgets.routes.response_view import human_size

ODD_VALUES: list[Any] = [
    {"items": [], "meta": {}, "text": 'quote " and\nnewline ñ ✓', "n": -1.5e300, "big": 10**30},
    [[], [[]], {"a": [1, {"b": None}]}, True, False, None, 0.1],
    "just a string",
    42,
    {},
]


def test_the_lines_are_exactly_those_json_dumps_writes() -> None:
    for value in ODD_VALUES:
        text = "\n".join(line.text for line in json_lines(value))
        assert text == json.dumps(value, indent=2, ensure_ascii=False)


def test_each_line_knows_its_key_value_and_container() -> None:
    lines = json_lines({"users": [{"email": "a@example.com"}], "total": 1})
    users, item, email = lines[1], lines[2], lines[3]
    assert (users.kind, users.text[: users.key_end], users.end) == (Kind.OPEN, '  "users"', 5)
    assert email.text[email.value_start : email.value_end] == '"a@example.com"'
    assert (email.kind, email.parent, item.parent) == (Kind.STRING, 2, 1)
    assert lines[6].text[lines[6].value_start : lines[6].value_end] == "1"


def test_a_document_up_to_the_limit_starts_open() -> None:
    doc = FoldedJson(json_lines({"items": [[n] for n in range(65)], "x": 1}))
    assert len(doc.lines) == FOLD_ABOVE_LINES
    assert doc.folded == set()
    assert len(doc.rows) == len(doc.lines)
    larger = FoldedJson(json_lines({"items": [[n] for n in range(66)], "x": 1}))
    assert len(larger.rows) <= FOLD_BUDGET_LINES


def listing(count: int) -> dict[str, Any]:
    users = [{"id": n, "email": f"u{n}@example.com", "role": "user"} for n in range(count)]
    return {"items": users, "next_cursor": None, "total": count}


def test_a_large_document_opens_breadth_first_within_the_budget() -> None:
    doc = FoldedJson(json_lines(listing(50)), fold_above=100, budget=100)
    assert len(doc.rows) <= 100
    shown = [doc.shown_text(row) for row in range(len(doc.rows))]
    # The root and the array are open; the first users too, the rest one line each.
    assert shown[:3] == ["{", '  "items": [', "    {"]
    folded = [text for text in shown if text.startswith("    {…}")]
    assert len(folded) == 50 - shown.count("    {") > 0
    assert shown[-4:] == ["  ],", '  "next_cursor": null,', '  "total": 50', "}"]
    folded_user = doc.lines[doc.rows[shown.index("    {…},")]]
    assert folded_summary(folded_user) == "3 keys: id, email, role"


def test_the_root_stays_open_however_large() -> None:
    doc = FoldedJson(json_lines(list(range(500))), fold_above=50, budget=50)
    assert doc.folded == set()  # no container inside: every item is one line
    doc = FoldedJson(json_lines({"a": list(range(500))}), fold_above=50, budget=50)
    assert [doc.shown_text(row) for row in range(len(doc.rows))] == ["{", '  "a": […]', "}"]
    assert folded_summary(doc.lines[1]) == "500 items"


def test_folding_opening_and_revealing_a_line() -> None:
    doc = FoldedJson(json_lines(listing(50)), fold_above=100, budget=100)
    last_email = max(i for i, line in enumerate(doc.lines) if "u49@" in line.text)
    assert doc.row_of(last_email) is None
    doc.reveal(last_email)
    row = doc.row_of(last_email)
    assert row is not None
    assert doc.shown_text(row) == '      "email": "u49@example.com",'
    items = doc.container_at(1)
    assert items == 1
    doc.set_folded(1, True)
    assert [doc.shown_text(r) for r in range(len(doc.rows))][1] == '  "items": […],'
    doc.unfold_all()
    assert len(doc.rows) == len(doc.lines)


def test_search_finds_the_next_match_any_case_and_wraps_round() -> None:
    texts = ["one", '"Email": "a"', "TWO email"]
    assert find_in_lines(texts, "email", 0, 0) == (1, 1)
    assert find_in_lines(texts, "email", 1, 2) == (2, 4)
    assert find_in_lines(texts, "email", 2, 5) == (1, 1)
    assert find_in_lines(texts, "EMAIL", 1, 1) == (1, 1)
    assert find_in_lines(texts, "absent", 0, 0) is None
    assert find_in_lines(["only here"], "here", 0, 6) == (0, 5)


def test_overlay_styles_a_span_across_parts() -> None:
    bold, red = Style(bold=True), Style(color="red")
    parts = overlay([("abc", bold), ("def", Style())], 2, 4, red)
    assert [text for text, _ in parts] == ["ab", "c", "d", "ef"]
    assert parts[1][1] == bold + red
    assert parts[2][1] == Style() + red


def test_sizes_read_as_people_say_them() -> None:
    assert [human_size(n) for n in (12, 2048, 10 * 1024 * 1024)] == ["12 B", "2.0 KB", "10.0 MB"]
