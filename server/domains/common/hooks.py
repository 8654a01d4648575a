"""Handlers a higher domain registers in a lower one, so the lower one can reach it without importing it.

A lower domain declares one ``Hooks`` per occasion; each higher domain registers its handler when its
services are imported (``server.wiring.connect_domains()`` imports them at start-up); the lower domain
runs them, in domain-name order, inside its own transaction. Handlers must not commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

Handler = TypeVar("Handler")


class Hooks(Generic[Handler]):
    def __init__(self) -> None:
        self._by_domain: dict[str, Handler] = {}

    def register(self, domain: str) -> Callable[[Handler], Handler]:
        """A decorator registering ``domain``'s handler (once per domain: registering again replaces it)."""

        def register(handler: Handler) -> Handler:
            self._by_domain[domain] = handler
            return handler

        return register

    def domains(self) -> list[str]:
        """The domains that registered a handler, in name order."""
        return sorted(self._by_domain)

    def handlers(self) -> list[Handler]:
        """The registered handlers, in domain-name order (the same order on every replica)."""
        return [self._by_domain[domain] for domain in self.domains()]
