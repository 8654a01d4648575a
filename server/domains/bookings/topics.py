"""Bus topics booking changes are published on (through the outbox)."""

ALL_BOOKINGS_TOPIC = "bookings.all"


def livestream_bookings_topic(livestream_id: int) -> str:
    """Bookings made from one livestream, for its team's live counter."""
    return f"bookings.livestream:{livestream_id}"
