"""Idempotency scopes are stored with every key (idempotency_record.operation): their values never change,
or a retry with a key recorded before would create a second row."""

from __future__ import annotations

from server.domains.bookings import services as bookings
from server.domains.catalog import services as catalog
from server.domains.catalog import skus
from server.domains.coupons import campaigns as coupon_campaigns
from server.domains.coupons import claims as coupon_claims
from server.domains.identity import sources
from server.domains.inventory import services as inventory
from server.domains.livestreams import services as livestreams
from server.domains.orders import services as orders
from server.domains.payments import services as payments
from server.domains.staff import services as staff
from server.domains.stores import services as stores


def test_every_scope_keeps_the_value_its_records_hold():
    assert {
        "create_store": stores.STORE_KEY_SCOPE,
        "create_category": catalog.CATEGORY_KEY_SCOPE,
        "create_service": catalog.SERVICE_KEY_SCOPE,
        "create_product": catalog.PRODUCT_KEY_SCOPE,
        "create_staff": staff.STAFF_KEY_SCOPE,
        "create_team": staff.TEAM_KEY_SCOPE,
        "create_livestream": livestreams.LIVESTREAM_KEY_SCOPE,
        "create_source": sources.SOURCE_KEY_SCOPE,
        "create_booking": bookings.BOOKING_KEY_SCOPE,
        "create_campaign": coupon_campaigns.CAMPAIGN_KEY_SCOPE,
        "claim_coupon": coupon_claims.CLAIM_KEY_SCOPE,
        "create_sku": skus.SKU_KEY_SCOPE,
        "create_warehouse": inventory.WAREHOUSE_KEY_SCOPE,
        "adjust_stock": inventory.ADJUST_KEY_SCOPE,
        "transfer_stock": inventory.TRANSFER_KEY_SCOPE,
        "create_order": orders.ORDER_KEY_SCOPE,
        "pay_order": payments.PAY_KEY_SCOPE,
        "refund_order": payments.REFUND_KEY_SCOPE,
    } == {
        "create_store": "storeCreate",
        "create_category": "productCategoryCreate",
        "create_service": "serviceCreate",
        "create_product": "productCreate",
        "create_staff": "staffCreate",
        "create_team": "teamCreate",
        "create_livestream": "livestreamCreate",
        "create_source": "sourceCreate",
        "create_booking": "bookingCreate",
        "create_campaign": "couponCampaignCreate",
        "claim_coupon": "couponClaim",
        "create_sku": "productSkuCreate",
        "create_warehouse": "warehouseCreate",
        "adjust_stock": "stockAdjust",
        "transfer_stock": "stockTransfer",
        "create_order": "orderCreate",
        "pay_order": "orderPay",
        "refund_order": "orderRefund",
    }
