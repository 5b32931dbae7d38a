"""Access policies: patterns, {userId}, $sys, admin, field filtering (HARDENING.md §5)."""

from __future__ import annotations

import pytest

from topgun_core.policies import DEFAULT_POLICIES, Policy, PolicyEngine, Principal

ALICE = Principal("alice")
BOB = Principal("bob")
ADMIN = Principal("root", frozenset({"ADMIN"}))


def test_default_policy_lets_users_do_everything_outside_sys() -> None:
    engine = PolicyEngine()
    assert engine.policies == DEFAULT_POLICIES
    for action in ("READ", "PUT", "REMOVE"):
        assert engine.allowed(ALICE, "users", action)
        assert not engine.allowed(ALICE, "$sys/config", action)
        assert engine.allowed(ADMIN, "$sys/config", action)


def test_sys_is_admin_only_even_with_a_matching_policy() -> None:
    engine = PolicyEngine([Policy("USER", "$sys/*", frozenset({"ALL"}))])
    assert not engine.allowed(ALICE, "$sys/users", "READ")


def test_user_id_placeholder_scopes_to_the_caller() -> None:
    engine = PolicyEngine([Policy("USER", "notes/{userId}/*", frozenset({"ALL"}))])
    assert engine.allowed(ALICE, "notes/alice/today", "PUT")
    assert not engine.allowed(BOB, "notes/alice/today", "READ")
    assert not engine.allowed(ALICE, "notes/alice", "READ")


def test_no_matching_policy_denies() -> None:
    engine = PolicyEngine([Policy("USER", "public*", frozenset({"READ"}))])
    assert engine.allowed(ALICE, "public-news", "READ")
    assert not engine.allowed(ALICE, "public-news", "PUT")
    assert not engine.allowed(ALICE, "private", "READ")
    assert not engine.allowed(Principal("x", frozenset()), "public-news", "READ")


def test_pattern_special_characters_are_literal() -> None:
    engine = PolicyEngine([Policy("USER", "a.b", frozenset({"READ"}))])
    assert engine.allowed(ALICE, "a.b", "READ")
    assert not engine.allowed(ALICE, "axb", "READ")


def test_allowed_fields_filter_reads() -> None:
    engine = PolicyEngine([Policy("USER", "users", frozenset({"READ"}), frozenset({"name"}))])
    value = {"name": "Ada", "salary": 10}
    assert engine.filter_value(ALICE, "users", value) == {"name": "Ada"}
    assert engine.filter_value(ADMIN, "users", value) == value
    assert engine.filter_value(ALICE, "users", "scalar") == "scalar"


def test_unrestricted_policy_wins_over_field_limits() -> None:
    engine = PolicyEngine(
        [
            Policy("USER", "users", frozenset({"READ"}), frozenset({"name"})),
            Policy("AUDITOR", "users", frozenset({"READ"})),
        ]
    )
    auditor = Principal("carol", frozenset({"USER", "AUDITOR"}))
    assert engine.readable_fields(auditor, "users") is None
    assert engine.readable_fields(ALICE, "users") == frozenset({"name"})


def test_from_dict_and_its_errors() -> None:
    policy = Policy.from_dict({"role": "USER", "pattern": "x*", "actions": ["read", "PUT"]})
    assert policy.actions == frozenset({"READ", "PUT"})
    with pytest.raises(ValueError, match="unknown policy action"):
        Policy.from_dict({"role": "USER", "pattern": "x", "actions": ["DELETE"]})
    with pytest.raises(ValueError, match="role"):
        Policy.from_dict({"pattern": "x", "actions": ["READ"]})
    with pytest.raises(ValueError, match="allowedFields"):
        Policy.from_dict({"role": "U", "pattern": "x", "actions": ["READ"], "allowedFields": "a"})
    with pytest.raises(ValueError, match="actions"):
        Policy("U", "x", frozenset())
    with pytest.raises(ValueError, match="at most once"):
        Policy("U", "{userId}/{userId}", frozenset({"READ"}))
