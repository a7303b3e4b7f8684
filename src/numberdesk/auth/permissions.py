"""The one role → permission table. Every action checks a permission from here."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    member = "member"
    viewer = "viewer"


_ALL = frozenset(Role)
_ADMINS = frozenset({Role.owner, Role.admin})
_MEMBERS = frozenset({Role.owner, Role.admin, Role.member})
_OWNER = frozenset({Role.owner})

PERMISSIONS: dict[str, frozenset[Role]] = {
    "read": _ALL,                      # numbers, agents, calls, analytics, automations
    "numbers.buy": _ADMINS,
    "numbers.release": _ADMINS,
    "numbers.reactivate": _ADMINS,
    "numbers.assign": _MEMBERS,
    "numbers.edit": _MEMBERS,          # rename, tag, department
    "numbers.test_call": _MEMBERS,
    "agents.write": _ADMINS,
    "pools.write": _ADMINS,
    "pools.dial": _MEMBERS,            # pick a pool's caller ID for an outbound call
    "automations.write": _ADMINS,
    "calls.ingest": _ADMINS,
    "account.settings": _ADMINS,       # time zone, naming template, fallback route
    "audit.read": _ADMINS,
    "billing.read": _OWNER,
    "keys.manage": _OWNER,
    "users.manage": _OWNER,            # dashboard sign-ins of the account
    "sandbox.control": _OWNER,         # move the sandbox clock, failure switches
}


def allowed(role: str, permission: str) -> bool:
    return Role(role) in PERMISSIONS[permission]
