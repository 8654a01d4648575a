"""Bus topics task changes are published on (through the outbox)."""


def staff_topic(staff_id: int) -> str:
    """One guide's inbox: tasks assigned to her, taken from her, reminders."""
    return f"tasks.staff:{staff_id}"


def store_queue_topic(store_id: int) -> str:
    """A store's task queue, for its managers."""
    return f"tasks.store:{store_id}"
