"""Bus topics order changes are published on (through the outbox)."""

ALL_ORDERS_TOPIC = "orders.all"


def store_orders_topic(store_id: int) -> str:
    """One store's orders: its guides' apps hear them paid."""
    return f"orders.store:{store_id}"
