"""Regex protection: length limit, time budget (no hang, counted, logged), compile cache."""

from __future__ import annotations

import logging
import time

import pytest

from topgun_core.errors import ValidationError
from topgun_core.query import (
    REGEX_PATTERN_CHARS_MAX,
    REGEX_TIMEOUT_MS,
    P,
    evaluate,
    execute,
    regex_stats,
)

# Exponential backtracking even for the ``regex`` module: each "a" can be matched two
# ways, and the trailing "!" makes every attempt fail.
CATASTROPHIC = "(a|aa)+$"
VICTIM = "a" * 40 + "!"


def test_catastrophic_pattern_times_out_as_no_match(caplog: pytest.LogCaptureFixture) -> None:
    before = regex_stats.timeouts
    caplog.set_level(logging.WARNING, logger="topgun_core.query._regex")
    start = time.perf_counter()
    assert not evaluate(P.regex("s", CATASTROPHIC), {"s": VICTIM})
    elapsed_ms = (time.perf_counter() - start) * 1000
    assert regex_stats.timeouts == before + 1
    # The budget is 20 ms; a generous ceiling keeps this robust on a loaded machine
    # while still proving the search was abandoned (unbounded, it runs for hours).
    assert elapsed_ms < REGEX_TIMEOUT_MS * 50
    assert "treated as no match" in caplog.text


def test_a_query_with_a_catastrophic_pattern_finishes() -> None:
    records = {f"k{i}": {"s": VICTIM} for i in range(5)} | {"ok": {"s": "aaa"}}
    before = regex_stats.timeouts
    result = execute({"predicate": P.regex("s", CATASTROPHIC).to_wire()}, records)
    assert result.results == [("ok", {"s": "aaa"})]
    assert regex_stats.timeouts == before + 5


def test_timeouts_are_logged_once_per_pattern(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="topgun_core.query._regex")
    pattern = "(b|bb)+$"
    for _ in range(3):
        evaluate(P.regex("s", pattern), {"s": "b" * 40 + "!"})
    assert caplog.text.count("treated as no match") == 1


def test_searches_are_counted() -> None:
    before = regex_stats.searches
    evaluate(P.regex("s", "x"), {"s": "xyz"})
    evaluate(P.regex("s", "x"), {"s": 5})  # not a string: no search at all
    assert regex_stats.searches == before + 1


def test_pattern_length_limit() -> None:
    assert REGEX_PATTERN_CHARS_MAX == 256
    with pytest.raises(ValidationError, match="longer than 256"):
        evaluate({"op": "regex", "attribute": "s", "value": "a" * 257}, {"s": "a"})


def test_invalid_pattern_is_a_validation_error_not_a_crash() -> None:
    with pytest.raises(ValidationError, match="invalid regex"):
        P.regex("s", "[unclosed")


def test_the_same_pattern_in_many_predicates_works() -> None:
    first = P.regex("s", "^cached-[0-9]+$")
    second = P.regex("s", "^cached-[0-9]+$")
    assert evaluate(first, {"s": "cached-42"})
    assert evaluate(second, {"s": "cached-7"})
