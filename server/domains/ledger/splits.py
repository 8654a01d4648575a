"""How a line's credit is split among its beneficiaries, and how refunds take it back.

Pure functions over whole fen. Every split is ``allocate`` (largest remainder) over beneficiaries put
in one canonical order first, so the parts sum exactly to the total and do not depend on the order the
participants were listed in. Reversals are cumulative: after each refund, what a beneficiary has given
back is her part of *everything refunded so far*, so a full refund nets every beneficiary to zero and
no beneficiary ever gives back more than she was credited, in any sequence of partial refunds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..common.money import allocate
from .models import Participant

BASIS_POINTS = 10_000
# The canonical order of beneficiaries: ties of the largest remainder go to the earlier one.
PARTICIPANT_ORDER = (Participant.GUIDE, Participant.LIVESTREAM_TEAM, Participant.STORE, Participant.REFERRER)


@dataclass(frozen=True, order=True)
class Beneficiary:
    kind: Participant
    id: int

    def sort_key(self) -> tuple[int, int]:
        return PARTICIPANT_ORDER.index(self.kind), self.id


@dataclass(frozen=True)
class Part:
    beneficiary: Beneficiary
    revenue: int
    commission: int


def commission_on(revenue: int, rate_basis_points: int) -> int:
    """Commission on ``revenue`` at a rate in basis points, rounded half up to the fen."""
    return (revenue * rate_basis_points + BASIS_POINTS // 2) // BASIS_POINTS


def resolve_shares(
    shares: Mapping[Participant, int], present: Mapping[Participant, int | None], store_id: int
) -> dict[Beneficiary, int]:
    """The plan's shares given to the sale's actual beneficiaries. A participant the sale has none of
    (no guide served her, no livestream, no referrer) drops out and the others share in proportion;
    when nobody is left, the store's pool takes it all."""
    weights = {
        Beneficiary(kind, beneficiary_id): points
        for kind, points in shares.items()
        if points > 0 and (beneficiary_id := present.get(kind)) is not None
    }
    return weights or {Beneficiary(Participant.STORE, store_id): BASIS_POINTS}


def split(revenue: int, commission: int, weights: Mapping[Beneficiary, int]) -> list[Part]:
    """``revenue`` and ``commission`` split by ``weights``; parts in canonical order, summing exactly."""
    ordered = sorted(weights, key=Beneficiary.sort_key)
    points = [weights[b] for b in ordered]
    revenues, commissions = allocate(revenue, points), allocate(commission, points)
    return [Part(b, r, c) for b, r, c in zip(ordered, revenues, commissions, strict=True)]


def reversal(
    accrued: Sequence[Part], reversed_so_far: Mapping[Beneficiary, tuple[int, int]], refunded: int
) -> list[Part]:
    """What each beneficiary gives back now (as positive amounts), when ``refunded`` fen of the line are
    refunded in all (this refund included) and ``reversed_so_far`` was given back by earlier refunds.

    The cumulative target is the accruals' own split of the refunded share: revenue ``refunded`` over the
    accrued revenues, commission in the same proportion of the accrued commission, both by largest
    remainder over the accrued amounts. At a full refund the target is the accruals themselves."""
    line_revenue = sum(p.revenue for p in accrued)
    line_commission = sum(p.commission for p in accrued)
    refunded = min(max(refunded, 0), line_revenue)
    commission_target = line_commission * refunded // line_revenue if line_revenue else line_commission
    ordered = sorted(accrued, key=lambda p: p.beneficiary.sort_key())
    revenue_targets = _shares_of(refunded, [p.revenue for p in ordered])
    commission_targets = _shares_of(commission_target, [p.commission for p in ordered])
    parts = []
    for part, revenue_target, commission_target_part in zip(ordered, revenue_targets, commission_targets, strict=True):
        done_revenue, done_commission = reversed_so_far.get(part.beneficiary, (0, 0))
        parts.append(Part(part.beneficiary, revenue_target - done_revenue, commission_target_part - done_commission))
    return parts


def _shares_of(total: int, accrued: Sequence[int]) -> list[int]:
    if not any(accrued):
        return [0] * len(accrued)
    return allocate(total, accrued)
