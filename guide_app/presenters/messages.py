"""Server codes and failures as messages the guide reads (zh-CN, English fallback)."""

from __future__ import annotations

from ..api.errors import ApiError, Offline, ServerError, SessionExpired, SessionRevoked
from ..i18n import N_, _

SESSION_REVOKED = N_(
    "You have been signed out: your session was ended on another device or your account was changed by a "
    "manager. Please sign in again."
)

# Marked for translation here, looked up when shown (the language can change at run time).
USER_ERROR_MESSAGES = {
    "INVALID_CREDENTIALS": N_("Wrong username or password."),
    "LOGIN_LOCKED": N_("Too many failed sign-ins: this account is locked for 15 minutes. Try again later."),
    "INVALID_REFRESH_TOKEN": N_("Your session has expired. Please sign in again."),
    "REQUIRED_STEPS_OPEN": N_("Finish the required steps first."),
    "INVALID_STATE": N_("This task has changed meanwhile; it has been reloaded."),
    "NOT_CHECKED_IN": N_("Check the customer in first."),
    "NOT_ASSIGNED_TO_YOU": N_("This task is now assigned to another guide."),
    "INVALID_QR_TOKEN": N_("This QR code is not valid or has expired."),
    "ALREADY_CHECKED_IN": N_("This customer is already checked in."),
    "CHECK_IN_TOO_EARLY": N_("Check-in has not opened yet: try again closer to the booked time."),
    "CHECK_IN_TOO_LATE": N_("Check-in has closed: the customer missed her booked time."),
    "INVALID_CHECK_IN_CODE": N_(
        "No booking at this store is due for check-in with this code: check the digits and her booked time."
    ),
    "RATE_LIMITED": N_("Too many tries. Please wait a while, or scan her QR code."),
    "NOT_FOUND": N_("Not found: it may have been cancelled."),
    "REQUIRED": N_("This field is required."),
    "INVALID_VALUE": N_("This value is not valid."),
    "INVALID_PHONE": N_("This phone number is not valid."),
    "OUT_OF_RANGE": N_("This number is out of range."),
    "TOO_LONG": N_("This text is too long."),
    "TOO_SHORT": N_("This text is too short."),
    "INVALID_FORMAT": N_("This value has the wrong format."),
    "TOO_MANY": N_("Too many entries."),
    # Selling: the order, its stock, its coupons, its payment.
    "INSUFFICIENT_STOCK": N_("Not enough in stock there for this quantity."),
    "SKU_UNAVAILABLE": N_("This product is no longer on sale."),
    "WRONG_SOURCE": N_("Taken now or picked up here: it comes from this store's stock."),
    "ADDRESS_REQUIRED": N_("A line ships to her: fill in the shipping address."),
    "FULFILLMENT_NOT_ALLOWED": N_("This order cannot be fulfilled that way."),
    "NOT_PAYABLE": N_("This order can no longer be paid (it is paid, cancelled or expired)."),
    "NOT_CHANGEABLE": N_("This order can no longer be changed."),
    "LAST_LINE": N_("An order keeps at least one line: cancel it instead."),
    "WRONG_BOOKING": N_("This booking is not hers, or not at this store."),
    "METHOD_NOT_ALLOWED": N_("This way of paying is not allowed here."),
    "TERMINAL_REFERENCE_REQUIRED": N_("Type in the card terminal's slip number."),
    "PROVIDER_UNAVAILABLE": N_("This way of paying is not available now: choose another."),
    "IDEMPOTENCY_KEY_REUSED": N_("This request was sent before with other details: please try again."),
    "COUPON_NOT_FOUND": N_("No coupon of hers has this code (or its QR code has expired)."),
    "COUPON_ALREADY_REDEEMED": N_("This coupon has been used already."),
    "COUPON_NOT_VALID_NOW": N_("This coupon cannot be used at this time."),
    "COUPON_WRONG_CHANNEL": N_("This coupon cannot be used in store."),
    "COUPON_WRONG_STORE": N_("This coupon cannot be used at this store."),
    "COUPON_NOT_APPLICABLE": N_(
        "This coupon does not apply to this cart (its products, or its minimum spend not reached)."
    ),
    "COUPON_SAME_CAMPAIGN": N_("Only one coupon of a campaign per order."),
    "COUPON_DUPLICATE": N_("This coupon is given twice."),
}


def user_error_message(error: dict) -> str:
    """One mutation UserError as a sentence; unknown codes show the server's English message."""
    if error.get("code") == "RATE_LIMITED" and error.get("retryAfter"):
        return _("Too many tries. Please wait {seconds} seconds, or scan her QR code.").format(
            seconds=error["retryAfter"]
        )
    known = USER_ERROR_MESSAGES.get(error.get("code", ""))
    if known:
        return _(known)
    return _("The server refused: {message}").format(message=error.get("message", ""))


def user_errors_message(errors: list[dict]) -> str:
    return " ".join(user_error_message(error) for error in errors)


def failure_message(error: ApiError) -> str:
    if isinstance(error, Offline):
        return _("Cannot reach the server. Check the network and try again.")
    if isinstance(error, SessionRevoked):
        return _(SESSION_REVOKED)
    if isinstance(error, SessionExpired):
        return _("Your session has expired. Please sign in again.")
    if isinstance(error, ServerError) and error.code == "FORBIDDEN":
        return _("You are not allowed to see this.")
    return _("The server had a problem ({detail}). Please try again.").format(detail=error.message)
