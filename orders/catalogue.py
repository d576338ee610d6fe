"""The demo catalogue: a few products, loaded through the catalogue service (idempotent)."""

from decimal import Decimal

from orders.services import product_upsert

DEMO_PRODUCTS = [
    ("MUG-001", "Coffee mug", Decimal("12.50")),
    ("TEE-001", "T-shirt, navy", Decimal("19.90")),
    ("BOOK-001", "Modular Monoliths in Practice", Decimal("34.00")),
    ("STICKER-01", "Sticker pack", Decimal("3.20")),
]


def catalogue_load_demo() -> int:
    """Create or update the demo products (all in EUR); returns how many there are."""
    for sku, name, price in DEMO_PRODUCTS:
        product_upsert(sku=sku, name=name, price=price, currency="EUR")
    return len(DEMO_PRODUCTS)
