"""A store's customers, found by name or phone: a guide looking up the customer in front of her."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlmodel import col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from ..common.actor import Actor
from ..common.dialect import json_text
from ..common.errors import CommonErrorCode, DomainError
from ..common.text import contains_pattern
from ..common.validation import text_problem
from . import hooks
from .identifiers import IdentifierType
from .models import CustomerEvent, Identifier, Person, PersonTrait
from .view import STORE_RELATIONSHIP_TYPES

SEARCH_LENGTH = (2, 50)
PHONE_DIGITS_AT_LEAST = 4  # fewer digits would match half the store
_DIGITS = re.compile(r"[\d\s+\-]+")


def store_customer_listing(actor: Actor, store_id: int, search: str) -> SelectOfScalar[Person]:
    """The store's customers whose name holds ``search``, or whose phone holds its digits (from 4 of them).
    The store's own staff and HQ (``actor.require_store``); merged and erased customers are left out."""
    actor.require_store(store_id)
    wanted = _checked(search)
    in_care = _customers_of(store_id)
    found = [_by_name(in_care, wanted)]
    digits = re.sub(r"\D", "", wanted)
    if _DIGITS.fullmatch(wanted) and len(digits) >= PHONE_DIGITS_AT_LEAST:
        found.append(_by_phone(in_care, digits))
    return select(Person).where(
        col(Person.id).in_(in_care),
        col(Person.merged_into_id).is_(None),
        col(Person.erased_at).is_(None),
        or_(*[col(Person.id).in_(matches) for matches in found]),
    )


def _checked(search: str) -> str:
    wanted = (search or "").strip()
    problem = text_problem(wanted)
    low, high = SEARCH_LENGTH
    if problem is not None:
        raise DomainError.single(CommonErrorCode.INVALID_FORMAT, f"search {problem}", ("search",))
    if not low <= len(wanted) <= high:
        raise DomainError.single(CommonErrorCode.OUT_OF_RANGE, f"search is {low}-{high} characters", ("search",))
    return wanted


def _customers_of(store_id: int) -> sa.CompoundSelect:
    """Everyone in the store's care: her own timeline at the store, or what the domains above say."""
    on_timeline = select(CustomerEvent.person_id).where(
        CustomerEvent.store_id == store_id,
        col(CustomerEvent.type).in_(STORE_RELATIONSHIP_TYPES),  # as access_for decides one by one
    )
    return sa.union(on_timeline, *hooks.customers_elsewhere(store_id))


def _by_name(in_care: sa.CompoundSelect, wanted: str) -> SelectOfScalar[int]:
    as_text = json_text(PersonTrait.value)
    return select(PersonTrait.person_id).where(
        col(PersonTrait.person_id).in_(in_care),
        PersonTrait.name == "name",
        as_text.ilike(contains_pattern(wanted), escape="\\"),
    )


def _by_phone(in_care: sa.CompoundSelect, digits: str) -> SelectOfScalar[int]:
    return select(Identifier.person_id).where(
        col(Identifier.person_id).in_(in_care),
        Identifier.type == IdentifierType.PHONE.value,
        col(Identifier.value).like(contains_pattern(digits), escape="\\"),
    )
