"""Find the customer in front of you: her store's customers by name or phone, or a walk-in by her number."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..api.client import GuideApi
from ..api.errors import ServerError
from ..i18n import _
from .base import RECOVERABLE, Presenter
from .formatting import phone
from .messages import failure_message, user_errors_message

SEARCH_LENGTH = (2, 50)
_MOBILE = re.compile(r"\+?(86)?1\d{10}")


@dataclass(frozen=True)
class CustomerRow:
    id: str
    name: str
    phone: str
    tags: str


class CustomerSearchPresenter(Presenter):
    """``open_customer(id)`` shows her 360° view (the session's navigation)."""

    def __init__(self, api: GuideApi, store_id: str, open_customer: Callable[[str], Awaitable[object]]) -> None:
        super().__init__()
        self.api = api
        self.store_id = store_id
        self.open_customer = open_customer
        self.query = ""
        self.results: list[CustomerRow] = []
        self.searched = False

    def edit(self, query: str) -> None:
        self.query = query

    @property
    def can_walk_in(self) -> bool:
        """A whole mobile number typed: she can be served as a walk-in even if the store never saw her."""
        return bool(_MOBILE.fullmatch(re.sub(r"[\s-]", "", self.query)))

    async def search(self) -> bool:
        wanted = self.query.strip()
        low, high = SEARCH_LENGTH
        if not low <= len(wanted) <= high:
            self.message = _("Type 2 to 50 characters: part of her name, or 4 digits of her phone.")
            self.changed()
            return False
        found = await self._guarded(
            lambda: self.api.query("StoreCustomers", {"storeId": self.store_id, "search": wanted})
        )
        if found is None:
            return False
        self.results = [_row(edge["node"]) for edge in found["storeCustomers"]["edges"]]
        self.searched, self.message = True, ""
        self.changed()
        return True

    async def walk_in(self) -> bool:
        """Record her visit by the number typed and open her 360° view."""
        variables = {"storeId": self.store_id, "phone": self.query.strip()}
        answer = await self._guarded(lambda: self.api.mutate("CustomerWalkIn", variables))
        if answer is None:
            return False
        payload = answer["customerWalkIn"]
        if payload["errors"]:
            self.message = user_errors_message(payload["errors"])
            self.changed()
            return False
        await self.open_customer(payload["customer"]["id"])
        return True

    async def _guarded(self, request: Callable[[], Awaitable[dict]]) -> dict | None:
        """One request at a time (a second tap while one is out does nothing); failures become a message."""
        if self.busy:
            return None
        self.busy = True
        self.changed()
        try:
            return await request()
        except ServerError as error:
            self.message = _bad_search(error)
        except RECOVERABLE as error:
            self.fail(error)
        finally:
            self.busy = False
            self.changed()
        return None


def _bad_search(error: ServerError) -> str:
    if error.code == "BAD_USER_INPUT":
        return _("Type 2 to 50 characters: part of her name, or 4 digits of her phone.")
    return failure_message(error)


def _row(node: dict) -> CustomerRow:
    return CustomerRow(
        id=node["id"],
        name=phone(node["displayName"]),  # a customer without a name is shown by her phone
        phone=phone(node.get("phone")),
        tags="、".join(node.get("tags") or []),
    )
