"""The ledger's public service functions, for the domains above it (dashboards) and the CLI."""

from .periods import Window, close_period, window_of
from .plans import create_plan, end_plan
from .posting import credit_paid_order
from .standings import BoardScope, Standing, credit_by_beneficiary_kind, standings, top_guides

__all__ = [
    "BoardScope",
    "Standing",
    "Window",
    "close_period",
    "create_plan",
    "credit_by_beneficiary_kind",
    "credit_paid_order",
    "end_plan",
    "standings",
    "top_guides",
    "window_of",
]
