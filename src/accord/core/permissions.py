"""Which brand role may do what. The API and the console check this one table."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    owner = "owner"
    marketer = "marketer"
    analyst = "analyst"
    support = "support"


class Permission(StrEnum):
    read_brand = "read the brand's settings"
    manage_brand = "change the brand's settings"
    manage_members = "manage members"
    manage_api_keys = "manage API keys"
    read_people = "read related people and their preferences"
    manage_topics = "manage topics"
    record_consent = "record consent and invite people"
    write_campaigns = "create and edit campaigns"
    send_campaigns = "send campaigns and messages"
    read_analytics = "read analytics"
    write_analytics = "import transactions and fit models"
    converse = "reply in conversations"
    manage_ideas = "open ideas boards and answer ideas"


_ALL = frozenset(Permission)

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.owner: _ALL,
    Role.marketer: frozenset(
        {
            Permission.read_brand,
            Permission.read_people,
            Permission.manage_topics,
            Permission.record_consent,
            Permission.write_campaigns,
            Permission.send_campaigns,
            Permission.read_analytics,
            Permission.manage_ideas,
        }
    ),
    Role.analyst: frozenset(
        {
            Permission.read_brand,
            Permission.read_people,
            Permission.read_analytics,
            Permission.write_analytics,
        }
    ),
    Role.support: frozenset(
        {
            Permission.read_brand,
            Permission.read_people,
            Permission.converse,
            Permission.manage_ideas,
        }
    ),
}


def role_allows(role: str, permission: Permission) -> bool:
    try:
        return permission in PERMISSIONS[Role(role)]
    except ValueError:
        return False
