"""Start-up wiring: the domains that plug handlers into lower ones register them here, once.

A lower domain cannot import a higher one (see README, "Architecture"). Where it
must reach one, the higher domain registers a handler with it when its services
module is imported: bookings with identity (merges re-key bookings, erasure
forgets booking notes, a booking puts her in a store's care), coupons with
identity (merges move her coupons and claim counters), social with identity (posts and
referrals follow merges), auth with staff (a
member's changed access ends her sessions). Every entry point (the app, the
CLI, the tests) calls :func:`connect_domains` first, so no process runs a lower
domain's use case without its handlers.
"""

from __future__ import annotations

import importlib

HANDLER_MODULES = (
    "server.domains.auth.services",  # staff.hooks: on_access_change
    "server.domains.bookings.services",  # identity.hooks: on_erasure, on_merge, on_store_relationship
    "server.domains.inventory.services",  # stores.hooks: on_store_saved
    "server.domains.coupons.services",  # identity.hooks: on_merge
    "server.domains.social.services",  # identity.hooks: on_merge
)


def connect_domains() -> None:
    for module in HANDLER_MODULES:
        importlib.import_module(module)
