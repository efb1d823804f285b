"""Samples the probes share: conversations with their sizes and a member, hot entities."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from dbopt.workload import queries


@dataclass(frozen=True)
class Conversation:
    id: uuid.UUID
    privacy_mode: str
    messages: int
    listed: int  # not deleted
    visible: int  # not deleted, not recalled
    member: uuid.UUID | None

    @property
    def reader(self) -> uuid.UUID:
        """A user who reads the conversation (a member, or anyone when it has none)."""
        return self.member or uuid.UUID(int=1)


def conversations(conn: Any) -> list[Conversation]:
    """Every conversation a probe may use: strict_e2e ones are left out (sql/.../workload_conversations.sql)."""
    return [Conversation(**row) for row in queries.pg(conn, "workload_conversations")]


def largest(convs: list[Conversation]) -> Conversation | None:
    return max(convs, key=lambda c: (c.messages, c.id), default=None)


def closest(convs: list[Conversation], size: int, exclude: Conversation | None = None) -> Conversation | None:
    """The conversation whose message count is nearest `size` (the plan's "1k conv")."""
    pool = [c for c in convs if exclude is None or c.id != exclude.id]
    return min(pool, key=lambda c: (abs(c.messages - size), c.id), default=None)


def hot_conversations(conn: Any, n: int) -> list[uuid.UUID]:
    return [r["id"] for r in queries.pg(conn, "workload_hot_conversations", {"n": n})]


def hot_posts(conn: Any, n: int) -> list[dict[str, Any]]:
    return queries.pg(conn, "workload_hot_posts", {"n": n})
