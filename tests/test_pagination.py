"""Keyset paging helpers: cursors are opaque, round-trip exactly, and a made-up one is a 400."""
from __future__ import annotations

import pytest

from widget_server.errors import ValidationError
from widget_server.pagination import decode_cursor, encode_cursor, next_cursor, whole_numbers


@pytest.mark.parametrize("key", [[1], [0, 7], [1, -3, 12], [2**40, 5]])
def test_a_cursor_round_trips(key):
    cursor = encode_cursor(key)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor  # URL-safe, unpadded
    assert decode_cursor(cursor, whole_numbers(len(key))) == key


@pytest.mark.parametrize("cursor", ["", "x", "!!!", "bnVsbA", encode_cursor([1, 2]), encode_cursor(["a"]),
                                    encode_cursor([True]), "€"])
def test_a_cursor_that_is_not_ours_is_a_400(cursor):
    with pytest.raises(ValidationError) as refused:
        decode_cursor(cursor, whole_numbers(1))
    assert refused.value.fields == {"cursor": "is not a cursor this server handed out"}


def test_the_next_cursor_is_the_key_of_the_last_item_only_when_more_follow():
    items = [{"id": 3}, {"id": 2}]
    assert next_cursor(items, True, lambda item: [item["id"]]) == encode_cursor([2])
    assert next_cursor(items, False, lambda item: [item["id"]]) is None
    assert next_cursor([], True, lambda item: [item["id"]]) is None
