"""Live dashboards: snapshots of a livestream's bookings, visits, sales and commission, and the /dashboard page."""
