"""The Viewer interface: whoever is signed in. Customers (identity) and staff members (staff) implement
it and sign-in (auth) answers with it, so it sits below all three."""

from __future__ import annotations

import strawberry


@strawberry.interface(
    description="Whoever is signed in: a staff member (StaffUser) or a customer (Customer). "
    "Ask `... on StaffUser` or `... on Customer` for the rest."
)
class Viewer:
    display_name: str = strawberry.field(
        description="What to call the viewer: a staff member's display name; a customer's name, phone or a placeholder."
    )
