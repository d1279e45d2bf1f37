"""Pick and pack over the order book's database: the catalogue, pick lists, cartons, labels
and the picked / packed marks, each change one transaction of the book's store.

:class:`PickingStore` wraps a :class:`~engine.book.store.BookStore` (the server's dispatch
store) and runs the conn-level work of :mod:`engine.picking` inside its transactions (the
same retries on a lost race, SQLite's write lock taken at the start).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from engine.book.capture import now_utc
from engine.book.store import BookStore
from engine.picking import catalogue, labels, marks, pack, picklist
from models.packing import CartonType, PackResult
from models.picking import (
    BinIn,
    PackIn,
    PackOutcome,
    PickList,
    ProductSize,
    ProductSizeIn,
    ShipmentLabels,
    ShipmentMark,
    SiteBins,
    SiteCartons,
)


class PickingStore:
    """Pick and pack on the book's store (its database and transactions)."""

    def __init__(self, book: BookStore) -> None:
        self.book = book

    # ------------------------------------------------------------------ catalogue

    def put_product(self, sku: str, size: ProductSizeIn) -> tuple[ProductSize, bool]:
        """Create or replace a sku's size; ``(size, created)``."""
        return self.book._write(lambda conn: catalogue.put_product(conn, sku, size, now_utc()))

    def get_product(self, sku: str) -> ProductSize:
        """One sku's size (404 when it has none)."""
        with self.book._read() as conn:
            return catalogue.get_product(conn, sku)

    def list_products(self) -> list[ProductSize]:
        """Every sku with a size."""
        with self.book._read() as conn:
            return catalogue.list_products(conn)

    def put_cartons(self, site_id: str, types: list[CartonType]) -> SiteCartons:
        """Replace a site's carton types."""
        return self.book._write(lambda conn: catalogue.put_cartons(conn, site_id, types))

    def get_cartons(self, site_id: str) -> SiteCartons:
        """A site's carton types."""
        with self.book._read() as conn:
            return catalogue.get_cartons(conn, site_id)

    def put_bins(self, site_id: str, bins: list[BinIn]) -> SiteBins:
        """Replace a site's bin locations."""
        return self.book._write(lambda conn: catalogue.put_bins(conn, site_id, bins, now_utc()))

    def get_bins(self, site_id: str) -> SiteBins:
        """A site's bin locations."""
        with self.book._read() as conn:
            return catalogue.get_bins(conn, site_id)

    # ------------------------------------------------------------------ the floor

    def picklist(self, plan_id: str, site_id: str) -> PickList:
        """A committed plan's pick list at a site."""
        with self.book._read() as conn:
            return picklist.picklist(conn, plan_id, site_id)

    def prepare_pack(self, plan_id: str, site_id: str, ask: PackIn) -> pack.Work:
        """What a pack call will pack (every check made; nothing written)."""
        with self.book._read() as conn:
            return pack.prepare(conn, plan_id, site_id, ask)

    def store_pack(self, work: pack.Work, result: PackResult) -> PackOutcome:
        """Store a solved pack call's cartons (one transaction)."""

        def change(conn: Connection) -> PackOutcome:
            return pack.store(conn, work, result, now_utc())

        return self.book._write(change)

    def pack(self, plan_id: str, site_id: str, ask: PackIn) -> PackOutcome:
        """Cartonise the site's shipments of a committed plan: read, solve, store."""
        work = self.prepare_pack(plan_id, site_id, ask)
        return self.store_pack(work, pack.solve(work))

    def mark_picked(self, plan_id: str, shipment_id: str, actor: str | None) -> ShipmentMark:
        """The shipment is picked: its order ``allocated`` → ``picking``."""
        return self.book._write(
            lambda conn: marks.picked(conn, plan_id, shipment_id, now_utc(), actor)
        )

    def mark_packed(self, plan_id: str, shipment_id: str, actor: str | None) -> ShipmentMark:
        """The shipment is packed: its order ``picking`` → ``packed`` once all are."""
        return self.book._write(
            lambda conn: marks.packed(conn, plan_id, shipment_id, now_utc(), actor)
        )

    def labels(self, plan_id: str, shipment_id: str) -> ShipmentLabels:
        """What each carton's label of the shipment says."""
        with self.book._read() as conn:
            return labels.labels(conn, plan_id, shipment_id)
