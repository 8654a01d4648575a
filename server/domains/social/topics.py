"""Bus topics the share loop publishes on (through the outbox)."""

UGC_TOPIC = "social.ugc"
