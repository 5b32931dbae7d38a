"""Hardening of the C kernels: bad input is a clear Python exception, never a crash.

Message validation happens in core's codec; what reaches the kernels directly from
users (wrong types, out-of-range integers) must raise TypeError or OverflowError.
"""

from __future__ import annotations

import pytest

import topgun_native


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: topgun_native.hash32(b"bytes"), "must be str"),  # type: ignore[arg-type]
        (lambda: topgun_native.hash32_many(["a", 1]), "must be str"),  # type: ignore[list-item]
        (lambda: topgun_native.hash32_many(5), "sequence of str"),  # type: ignore[arg-type]
        (lambda: topgun_native.merkle_item_hash("k", "1", 0, "n"), "must be int"),  # type: ignore[arg-type]
        (lambda: topgun_native.merkle_item_hash("k", 1, 0), "takes 4 arguments"),  # type: ignore[call-arg]
    ],
)
def test_bad_arguments_raise_type_error(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(TypeError, match=message):
        call()


def test_out_of_range_int_raises_overflow() -> None:
    with pytest.raises(OverflowError):
        topgun_native.merkle_item_hash("k", 2**64, 0, "n")
