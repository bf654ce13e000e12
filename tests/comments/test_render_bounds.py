"""No reader text makes render() do super-linear work (outside audit, item 1).

Each shape is a text at the longest length a reader may send, built to make a
backtracking regex or a rescanning parser work hard: bleach's URL regex took
30 s on "a.b-" repeated, markdown-it's inline linkify rule was quadratic on
"<http://" repeated, linkify-it's path regex scans to the end of a run at every
unclosed bracket. Each must render within a small multiple of an ordinary
comment of the same length, timed in the same test.

Timing is CPU time of this thread (``time.thread_time``), best of a few runs,
the ordinary comment timed next to each shape, turn about, so that other
processes on a busy machine count as little as possible. The multiple is 10:
the densest linear shapes (every character markup, e.g. "***a" repeated) cost
about 5 times the ordinary comment, because each output tag costs the
sanitizer more than a character of prose does; the shapes this test was
written against cost 15 to 580 times as much on the old renderer
(docs/security.md).
"""
from __future__ import annotations

import time

import pytest
from support.pathological import MAX_LENGTH, ORDINARY, SHAPES

from widget_server.comments.render import render

FACTOR = 10
RUNS = 3


def cpu_seconds(text: str) -> float:
    start = time.thread_time()
    render(text)
    return time.thread_time() - start


@pytest.fixture(scope="module", autouse=True)
def warm():
    render(ORDINARY)  # compiled patterns, caches, the thread's Cleaner


def test_shapes_are_at_the_longest_length():
    assert {len(text) for text in SHAPES.values()} == {MAX_LENGTH}
    assert len(ORDINARY) == MAX_LENGTH


@pytest.mark.parametrize("name", SHAPES)
def test_pathological_text_renders_within_a_small_multiple_of_an_ordinary_comment(name):
    # The ordinary comment is timed next to the shape, turn about, so that both see the same machine.
    ordinary, shape = [], []
    for _ in range(RUNS):  # best of RUNS each: one run within the bound is enough
        ordinary.append(cpu_seconds(ORDINARY))
        shape.append(cpu_seconds(SHAPES[name]))
        if min(shape) <= FACTOR * min(ordinary) or shape[-1] > 10 * FACTOR * min(ordinary):
            break  # within the bound, or so far over it that no noise explains it
    base, worst = min(ordinary), min(shape)
    assert worst <= FACTOR * base, (
        f"{name}: {worst:.3f} s of CPU, {worst / base:.0f} times an ordinary comment "
        f"of the same length ({base:.4f} s); the bound is {FACTOR} times")
