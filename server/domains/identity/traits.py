"""Traits and consents: projections of PROFILE_UPDATE and CONSENT_UPDATE events, latest occurredAt wins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from ..common.errors import CommonErrorCode as Common
from ..common.validation import text_problem
from .events import EventRejected, EventType

TRAIT_NAMES = ("name", "gender", "birthday", "city", "skinType", "preferredCategories", "tags")
LIST_TRAITS = frozenset({"preferredCategories", "tags"})
CONSENT_KINDS = ("marketingSms", "wechatMessages", "dataProcessing")
MAX_TEXT = 100
MAX_LIST = 30


def check_trait_values(properties: dict[str, Any]) -> None:
    """Reject a PROFILE_UPDATE whose known traits are not of the right shape."""
    for name in TRAIT_NAMES:
        if name not in properties or properties[name] is None:
            continue
        value = properties[name]
        if name in LIST_TRAITS:
            if not (
                isinstance(value, list)
                and len(value) <= MAX_LIST
                and all(isinstance(v, str) and 0 < len(v) <= MAX_TEXT for v in value)
            ):
                raise EventRejected(Common.INVALID_VALUE, f"{name} must be a list of at most {MAX_LIST} short strings")
        elif not (isinstance(value, str) and len(value) <= MAX_TEXT):
            raise EventRejected(Common.INVALID_VALUE, f"{name} must be a string of at most {MAX_TEXT} characters")
        elif name == "birthday":
            try:
                date.fromisoformat(value)
            except ValueError:
                raise EventRejected(Common.INVALID_VALUE, "birthday must be YYYY-MM-DD") from None
        for text in value if isinstance(value, list) else [value]:
            if (problem := text_problem(text)) is not None:
                raise EventRejected(Common.INVALID_VALUE, f"{name} {problem}")


def check_consents(properties: dict[str, Any]) -> None:
    for kind in CONSENT_KINDS:
        if kind in properties and not isinstance(properties[kind], bool):
            raise EventRejected(Common.INVALID_VALUE, f"{kind} must be true or false")


# What erasure keeps of a purchase: accounting needs the amounts, not who she is.
ACCOUNTING_PROPERTIES = ("amount", "currency")


# One purchase above this (10^10 fen, a hundred million yuan) is a sender's bug, not a sale.
DEFAULT_MAX_EVENT_AMOUNT = 10**10


def check_purchase(properties: dict[str, Any], max_amount: int = DEFAULT_MAX_EVENT_AMOUNT) -> None:
    amount = properties.get("amount")
    if amount is None:
        return
    if not (isinstance(amount, int) and not isinstance(amount, bool) and amount >= 0):
        raise EventRejected(Common.INVALID_VALUE, "amount must be a whole number of fen, 0 or more")
    if amount > max_amount:
        raise EventRejected(Common.OUT_OF_RANGE, f"amount must be at most {max_amount} fen for one purchase")


def check_projection_event(
    event_type: EventType, properties: dict[str, Any], max_amount: int = DEFAULT_MAX_EVENT_AMOUNT
) -> None:
    """Properties that the timeline's projections and summaries read must have the right shape."""
    if event_type is EventType.PROFILE_UPDATE:
        check_trait_values(properties)
    elif event_type is EventType.CONSENT_UPDATE:
        check_consents(properties)
    elif event_type is EventType.POS_PURCHASE:
        check_purchase(properties, max_amount)


def fold(events: Iterable[tuple[str, Any, int, dict[str, Any]]]):
    """(type, occurred_at, id, properties) in any order -> ({trait: (value, at)}, {consent: (granted, at)}).

    The latest occurredAt wins (ties: the later stored event), whatever the order they arrived in.
    """
    traits: dict[str, tuple[Any, Any]] = {}
    consents: dict[str, tuple[bool, Any]] = {}
    for event_type, occurred_at, _, properties in sorted(events, key=lambda e: (e[1], e[2])):
        if event_type == EventType.PROFILE_UPDATE:
            for name in TRAIT_NAMES:
                if name in properties:
                    traits[name] = (properties[name], occurred_at)
        elif event_type == EventType.CONSENT_UPDATE:
            for kind in CONSENT_KINDS:
                if kind in properties:
                    consents[kind] = (bool(properties[kind]), occurred_at)
    return traits, consents
