"""Hooks: a lower domain runs what higher domains registered, one handler per domain, in name order."""

from server.domains.common.hooks import Hooks


def test_handlers_run_in_domain_name_order_whatever_the_registration_order():
    hooks: Hooks[str] = Hooks()
    hooks.register("orders")("orders handler")
    hooks.register("bookings")("bookings handler")
    assert hooks.handlers() == ["bookings handler", "orders handler"]
    assert hooks.domains() == ["bookings", "orders"]


def test_registering_a_domain_again_replaces_its_handler():
    hooks: Hooks[str] = Hooks()
    hooks.register("bookings")("first")
    assert hooks.register("bookings")("second") == "second"
    assert hooks.handlers() == ["second"]


def test_no_handler_registered_is_no_handler_run():
    assert Hooks().handlers() == []
