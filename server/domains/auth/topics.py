"""Bus topics of accounts' sessions (published through the outbox)."""

SESSIONS_REVOKED = "SESSIONS_REVOKED"  # payload: actorKey, sessionId (None: every session of the account)
REVOCATIONS_TOPIC = "accounts"  # every account's SESSIONS_REVOKED: each replica's StaffConfirmations listens


def account_topic(actor_key: str) -> str:
    """Changes to one account's sessions; each of her open sockets listens to it."""
    return f"accounts.{actor_key}"
