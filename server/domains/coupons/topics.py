"""Bus topics coupon changes are published on (through the outbox)."""


def campaign_topic(campaign_id: int) -> str:
    """One campaign's claims (CLAIMED, with what remains), redemptions (REDEEMED) and changes (UPDATED)."""
    return f"coupons.campaign:{campaign_id}"
