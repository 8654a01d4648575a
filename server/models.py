"""Every table, imported once so SQLModel.metadata is complete (Alembic, tests)."""

from sqlmodel import SQLModel

from . import outbox  # noqa: F401
from .domains.auth import models as auth_models  # noqa: F401
from .domains.bookings import models as booking_models  # noqa: F401
from .domains.catalog import models as catalog_models  # noqa: F401
from .domains.common import audit, idempotency  # noqa: F401
from .domains.coupons import models as coupon_models  # noqa: F401
from .domains.identity import models as identity_models  # noqa: F401
from .domains.inventory import models as inventory_models  # noqa: F401
from .domains.ledger import models as ledger_models  # noqa: F401
from .domains.livestreams import models as livestream_models  # noqa: F401
from .domains.messaging import models as messaging_models  # noqa: F401
from .domains.orders import models as order_models  # noqa: F401
from .domains.payments import models as payment_models  # noqa: F401
from .domains.schedule import models as schedule_models  # noqa: F401
from .domains.social import models as social_models  # noqa: F401
from .domains.staff import models as staff_models  # noqa: F401
from .domains.stores import models as store_models  # noqa: F401
from .domains.tasks import models as task_models  # noqa: F401

metadata = SQLModel.metadata
