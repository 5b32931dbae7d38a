"""The dispatch table covers the client message union exactly, and nothing else."""

from __future__ import annotations

from typing import get_type_hints

from topgun_core.protocol import (
    CLIENT_MESSAGE_TYPES,
    ClientMessage,
    message_type_name,
    union_members,
)
from topgun_server.dispatch import ROUTES
from topgun_server.handlers.unsupported import not_supported

LATER_FEATURES = {
    "QUERY_SUB", "QUERY_UNSUB", "HYBRID_QUERY_SUB", "HYBRID_QUERY_UNSUB", "SEARCH",
    "SEARCH_SUB", "SEARCH_UNSUB", "LOCK_REQUEST", "LOCK_RELEASE", "TOPIC_SUB",
    "TOPIC_UNSUB", "TOPIC_PUB", "COUNTER_REQUEST", "COUNTER_SYNC", "ENTRY_PROCESS",
    "ENTRY_PROCESS_BATCH", "REGISTER_RESOLVER", "UNREGISTER_RESOLVER", "LIST_RESOLVERS",
    "JOURNAL_SUBSCRIBE", "JOURNAL_UNSUBSCRIBE", "JOURNAL_READ", "PARTITION_MAP_REQUEST",
}  # fmt: skip
# Topics, locks, counters, journal, entry processors and resolvers are served (issue 5).
LATER_FEATURES -= {
    "LOCK_REQUEST", "LOCK_RELEASE", "TOPIC_SUB", "TOPIC_UNSUB", "TOPIC_PUB", "COUNTER_REQUEST",
    "COUNTER_SYNC", "ENTRY_PROCESS", "ENTRY_PROCESS_BATCH", "REGISTER_RESOLVER",
    "UNREGISTER_RESOLVER", "LIST_RESOLVERS", "JOURNAL_SUBSCRIBE", "JOURNAL_UNSUBSCRIBE",
    "JOURNAL_READ",
}  # fmt: skip
# Live queries, search and hybrid queries are served (issue 4).
LATER_FEATURES -= {
    "QUERY_SUB", "QUERY_UNSUB", "HYBRID_QUERY_SUB", "HYBRID_QUERY_UNSUB", "SEARCH",
    "SEARCH_SUB", "SEARCH_UNSUB",
}  # fmt: skip


def test_table_covers_the_union_exactly() -> None:
    members = union_members(ClientMessage)
    assert set(ROUTES) == {message_type_name(m) for m in members}
    assert len(ROUTES) == len(members) == len(CLIENT_MESSAGE_TYPES)


def test_each_entry_pairs_a_type_with_its_own_class() -> None:
    for name, (message_class, _) in ROUTES.items():
        assert message_type_name(message_class) == name


def test_each_handler_is_typed_with_its_message_class() -> None:
    for name, (message_class, handler) in ROUTES.items():
        if handler is not_supported:
            continue
        hints = get_type_hints(handler)
        assert hints["message"] is message_class, name


def test_later_features_are_listed_explicitly_with_the_501_handler() -> None:
    unsupported = {name for name, (_, handler) in ROUTES.items() if handler is not_supported}
    assert unsupported == LATER_FEATURES
