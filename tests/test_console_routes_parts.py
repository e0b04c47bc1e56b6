"""The Routes screen's pure parts: folding large JSON, finding in the body, sizes."""

from __future__ import annotations

import json

from console.widgets.routes.json_fold import FOLD_ABOVE_LINES, fold_if_large, folded
from console.widgets.routes.response_view import find_next, human_size, location_of, offset_of


def test_long_arrays_keep_their_first_items_and_say_how_many_more() -> None:
    value, cut = folded({"items": list(range(8)), "inner": [{"tags": list(range(7))}]}, keep=5)
    assert value == {
        "items": [0, 1, 2, 3, 4, "… 3 more items (u unfolds)"],
        "inner": [{"tags": [0, 1, 2, 3, 4, "… 2 more items (u unfolds)"]}],
    }
    assert cut == 5


def test_only_a_long_answer_is_folded() -> None:
    short = json.dumps({"items": list(range(20))}, indent=2)
    assert fold_if_large(short) == (short, 0)
    long = json.dumps({"items": list(range(FOLD_ABOVE_LINES + 5))}, indent=2)
    shown, cut = fold_if_large(long)
    assert cut == FOLD_ABOVE_LINES
    assert json.loads(shown)["items"][-1] == f"… {FOLD_ABOVE_LINES} more items (u unfolds)"
    assert fold_if_large("not json\n" * (FOLD_ABOVE_LINES + 1))[1] == 0


def test_search_finds_the_next_match_any_case_and_wraps_round() -> None:
    text = 'one\n"Email": "a"\nTWO email'
    first = find_next(text, "email", 0)
    assert first is not None
    assert location_of(text, first) == (1, 1)
    second = find_next(text, "email", first + 1)
    assert second is not None
    assert location_of(text, second) == (2, 4)
    assert find_next(text, "email", second + 1) == first
    assert find_next(text, "absent", 0) is None
    assert offset_of(text, 2, 4) == second


def test_sizes_read_as_people_say_them() -> None:
    assert [human_size(n) for n in (12, 2048, 10 * 1024 * 1024)] == ["12 B", "2.0 KB", "10.0 MB"]
