"""Who acts through the admin API or the CLI, and the roles that say what they may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["ROLE_RANK", "Actor", "Role", "at_least"]

Role = Literal["viewer", "operator", "admin"]
#: viewer reads everything (never a secret) < operator resends, deletes, suspends < admin edits subscriptions.
ROLE_RANK: Final[dict[Role, int]] = {"viewer": 0, "operator": 1, "admin": 2}


def at_least(role: Role, needed: Role) -> bool:
    return ROLE_RANK[role] >= ROLE_RANK[needed]


@dataclass(frozen=True, slots=True)
class Actor:
    """A person or program acting: its name goes on the records it changes and on the log lines."""

    name: str
    role: Role
    via: Literal["token", "proxy", "cli"]
