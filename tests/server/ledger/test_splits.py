"""Property tests of the splits: parts sum exactly whatever the participants' order; reversals are
cumulative, never exceed accruals, and a full refund nets every beneficiary to zero."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.domains.ledger.models import Participant
from server.domains.ledger.splits import Beneficiary, Part, commission_on, resolve_shares, reversal, split

BENEFICIARIES = st.lists(
    st.tuples(st.sampled_from(list(Participant)), st.integers(1, 50), st.integers(1, 10_000)),
    min_size=1,
    max_size=4,
    unique_by=lambda t: t[0],
)


@given(BENEFICIARIES, st.integers(0, 10**10), st.integers(0, 10_000), st.randoms())
def test_parts_sum_exactly_and_do_not_depend_on_the_order(people, revenue, rate, shuffler):
    weights = {Beneficiary(kind, bid): points for kind, bid, points in people}
    commission = commission_on(revenue, rate)
    parts = split(revenue, commission, weights)
    assert sum(p.revenue for p in parts) == revenue and sum(p.commission for p in parts) == commission
    shuffled = list(weights.items())
    shuffler.shuffle(shuffled)
    assert split(revenue, commission, dict(shuffled)) == parts


@given(BENEFICIARIES, st.integers(1, 10**8), st.integers(0, 10_000), st.lists(st.integers(1, 10**8), max_size=6))
def test_reversals_are_cumulative_bounded_and_net_to_zero_at_a_full_refund(people, revenue, rate, steps):
    weights = {Beneficiary(kind, bid): points for kind, bid, points in people}
    accrued = split(revenue, commission_on(revenue, rate), weights)
    given_back: dict[Beneficiary, tuple[int, int]] = {}
    refunded = 0
    for step in [*steps, revenue]:
        refunded = min(revenue, refunded + step)
        parts = reversal(accrued, given_back, refunded)
        assert sum(p.revenue for p in parts) + sum(r for r, _ in given_back.values()) == refunded
        for part in parts:
            done = given_back.get(part.beneficiary, (0, 0))
            given_back[part.beneficiary] = (done[0] + part.revenue, done[1] + part.commission)
        for part in accrued:
            back_revenue, back_commission = given_back.get(part.beneficiary, (0, 0))
            assert 0 <= back_revenue <= part.revenue and 0 <= back_commission <= part.commission
    assert {b: given_back.get(b, (0, 0)) for b in (p.beneficiary for p in accrued)} == {
        p.beneficiary: (p.revenue, p.commission) for p in accrued
    }


def test_a_participant_the_sale_has_none_of_drops_out_and_the_store_takes_what_nobody_can():
    shares = {Participant.GUIDE: 7000, Participant.LIVESTREAM_TEAM: 3000}
    without_livestream = resolve_shares(shares, {Participant.GUIDE: 5, Participant.LIVESTREAM_TEAM: None}, 1)
    assert without_livestream == {Beneficiary(Participant.GUIDE, 5): 7000}
    assert resolve_shares({Participant.REFERRER: 10000}, {}, 9) == {Beneficiary(Participant.STORE, 9): 10000}
    assert split(100, 10, without_livestream) == [Part(Beneficiary(Participant.GUIDE, 5), 100, 10)]
