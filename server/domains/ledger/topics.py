"""Bus topics the ledger publishes on (through the outbox)."""

# Every posting: dashboards and leaderboards refresh.
LEDGER_TOPIC = "ledger.all"
# Commission plans created or ended.
PLANS_TOPIC = "ledger.plans"
