"""Search plans and filters of a user listing, as conditions with bound parameters.

A term of three characters or more matches anywhere in the email or the name
(pg_trgm GIN indexes on PostgreSQL). A shorter term, which trigrams cannot serve,
matches the start of the email: a range on the email index, so the email order
finds its first page at once (a name prefix would have to sort every match).
SQLite runs the same conditions with plain LIKE.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, String, and_, bindparam, func, or_

from backend.database import UTCDateTime
from backend.models import Role, User

# Shorter search terms match email prefixes: trigram indexes need three characters.
SUBSTRING_SEARCH_MIN_LENGTH = 3
# Characters that sort in the same order under every collation: only for these is
# an index range [term, next term) exactly the set of strings starting with term.
_RANGE_SAFE = frozenset(string.ascii_lowercase + string.digits)


class SearchPlan(StrEnum):
    NONE = "none"
    SUBSTRING = "substring"  # anywhere in email or name
    PREFIX = "prefix"  # start of the email, LIKE only
    PREFIX_RANGE = "prefix_range"  # start of the email, as an index range too


def search_plan(term: str) -> SearchPlan:
    """How a (trimmed, lower-cased) term is matched; see the module docstring."""
    if not term:
        return SearchPlan.NONE
    if len(term) >= SUBSTRING_SEARCH_MIN_LENGTH:
        return SearchPlan.SUBSTRING
    if all(char in _RANGE_SAFE for char in term) and term[-1] not in "z9":
        return SearchPlan.PREFIX_RANGE
    return SearchPlan.PREFIX


@dataclass(frozen=True, slots=True)
class Filters:
    """Which filters a query uses (their values travel as bound parameters)."""

    search: SearchPlan
    role: bool
    is_active: bool
    locked: bool | None

    @classmethod
    def of(
        cls, term: str, role: Role | None, is_active: bool | None, locked: bool | None
    ) -> Filters:
        """The shape of these filter values (`term` trimmed and lower-cased)."""
        return cls(search_plan(term), role is not None, is_active is not None, locked)

    def conditions(self) -> list[ColumnElement[bool]]:
        """WHERE conditions with bound parameters (the same objects for the same shape)."""
        conditions = _search_conditions(self.search)
        if self.role:
            conditions.append(User.role == bindparam("role", type_=String()))
        if self.is_active:
            conditions.append(User.is_active == bindparam("is_active"))
        now = bindparam("now", type_=UTCDateTime())
        if self.locked is True:
            conditions.append(User.locked_until > now)
        elif self.locked is False:
            conditions.append(or_(User.locked_until.is_(None), User.locked_until <= now))
        return conditions

    def parameters(
        self, term: str, role: Role | None, is_active: bool | None, now: dt.datetime
    ) -> dict[str, Any]:
        """The bound values of `conditions()` for these filter values."""
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        values: dict[str, Any] = {}
        if self.search is SearchPlan.SUBSTRING:
            values["pattern"] = f"%{escaped}%"
        elif self.search is not SearchPlan.NONE:
            values["pattern"] = f"{escaped}%"
        if self.search is SearchPlan.PREFIX_RANGE:
            values["lower"], values["upper"] = term, term[:-1] + chr(ord(term[-1]) + 1)
        if role is not None:
            values["role"] = role.value
        if is_active is not None:
            values["is_active"] = is_active
        if self.locked is not None:
            values["now"] = now
        return values


def _search_term_parameter(name: str) -> BindParameter[str]:
    # Rendered into the SQL at execution (still one cached statement): PostgreSQL then
    # plans each term for what it is. A generic plan for "LIKE $1" cannot know that
    # 'ma%' is a narrow prefix or that 'zzq' is rare, and picked 50 ms plans for 0.1 ms
    # queries.
    return bindparam(name, type_=String(), literal_execute=True)


def _search_conditions(plan: SearchPlan) -> list[ColumnElement[bool]]:
    pattern = _search_term_parameter("pattern")
    if plan is SearchPlan.NONE:
        return []
    if plan is SearchPlan.SUBSTRING:
        return [
            or_(
                User.email.like(pattern, escape="\\"),
                func.lower(User.full_name).like(pattern, escape="\\"),
            )
        ]
    prefix = User.email.like(pattern, escape="\\")
    if plan is SearchPlan.PREFIX:
        return [prefix]
    # LIKE alone cannot use the email index under a non-C collation; the range can.
    lower, upper = _search_term_parameter("lower"), _search_term_parameter("upper")
    return [and_(User.email >= lower, User.email < upper, prefix)]
