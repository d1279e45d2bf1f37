"""The pick-and-pack catalogue on an open transaction: product sizes, each site's carton types
and its bin locations (each put replaces what was there)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from engine.book import tables as bt
from engine.db import stamp
from engine.picking import tables as t
from models.errors import InvalidInputError, NotFoundError, detail
from models.packing import CartonType, PackProduct
from models.picking import (
    MAX_SITE_CARTON_TYPES,
    BinIn,
    ProductSize,
    ProductSizeIn,
    SiteBins,
    SiteCartons,
)

_DIGITS = re.compile(r"(\d+)")
#: The longest carton type id a site keeps.
MAX_TYPE_ID_CHARS = 64


def natural_key(code: str) -> tuple[tuple[int, int, str], ...]:
    """A bin code's sort key: runs of digits compare as numbers (``A-2`` before ``A-10``)
    and before letters, the rest case-blind."""
    return tuple(
        (0, int(part), part) if part.isdigit() else (1, 0, part.lower())
        for part in _DIGITS.split(code)
        if part
    )


def _product(row: Any) -> ProductSize:
    m = row._mapping
    return ProductSize(
        sku=m["sku"],
        length_mm=m["length_mm"],
        width_mm=m["width_mm"],
        height_mm=m["height_mm"],
        weight_kg=m["weight_kg"],
        updated_at=stamp(m["updated_at"]),
    )


def put_product(
    conn: Connection, sku: str, size: ProductSizeIn, now: datetime
) -> tuple[ProductSize, bool]:
    """Create or replace a sku's size; ``(size, created)``."""
    values = {**size.model_dump(), "updated_at": now}
    done = conn.execute(update(t.products).where(t.products.c.sku == sku).values(**values))
    created = done.rowcount == 0
    if created:
        conn.execute(t.products.insert().values(sku=sku, **values))
    return get_product(conn, sku), created


def get_product(conn: Connection, sku: str) -> ProductSize:
    """One sku's size (404 when it has none)."""
    row = conn.execute(select(t.products).where(t.products.c.sku == sku)).first()
    if row is None:
        raise NotFoundError(f"no size for sku {sku!r}", [detail("sku", sku, "has no product size")])
    return _product(row)


def list_products(conn: Connection) -> list[ProductSize]:
    """Every sku with a size, by sku."""
    rows = conn.execute(select(t.products).order_by(t.products.c.sku)).all()
    return [_product(row) for row in rows]


def pack_products(conn: Connection, skus: Sequence[str]) -> dict[str, PackProduct]:
    """The sizes of these skus as the cartoniser takes them (skus without one left out)."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    rows = conn.execute(select(t.products).where(t.products.c.sku.in_(wanted))).all()
    return {
        row._mapping["sku"]: PackProduct(
            sku=row._mapping["sku"],
            length_mm=row._mapping["length_mm"],
            width_mm=row._mapping["width_mm"],
            height_mm=row._mapping["height_mm"],
            weight_kg=row._mapping["weight_kg"],
        )
        for row in rows
    }


def require_site(conn: Connection, site_id: str) -> None:
    """404 unless the book has this site."""
    found = conn.execute(select(bt.sites.c.site_id).where(bt.sites.c.site_id == site_id)).first()
    if found is None:
        raise NotFoundError(f"no site {site_id!r}", [detail("site_id", site_id, "unknown")])


def put_cartons(conn: Connection, site_id: str, types: Sequence[CartonType]) -> SiteCartons:
    """Replace the site's carton types (422 for a duplicate id or a tare over the most
    gross weight)."""
    require_site(conn, site_id)
    problems = []
    if len(types) > MAX_SITE_CARTON_TYPES:
        why = f"carton types; a site stocks at most {MAX_SITE_CARTON_TYPES}"
        problems.append(detail("(request)", len(types), why))
    seen: set[str] = set()
    for i, carton in enumerate(types):
        if not 1 <= len(str(carton.id)) <= MAX_TYPE_ID_CHARS:
            why = f"a carton type id has 1 to {MAX_TYPE_ID_CHARS} characters"
            problems.append(detail(f"[{i}].id", carton.id, why))
        if str(carton.id) in seen:
            problems.append(detail(f"[{i}].id", carton.id, "is a duplicate carton type id"))
        seen.add(str(carton.id))
        if carton.tare_weight_kg > carton.max_weight_kg:
            why = f"is more than the carton's max_weight_kg {carton.max_weight_kg:g}"
            problems.append(detail(f"[{i}].tare_weight_kg", carton.tare_weight_kg, why))
    if problems:
        raise InvalidInputError(f"{len(problems)} bad carton type(s) for site {site_id}", problems)
    conn.execute(delete(t.site_cartons).where(t.site_cartons.c.site_id == site_id))
    rows = [
        {
            "site_id": site_id,
            "type_id": str(carton.id),
            "position": k,
            "inner_length_mm": carton.inner_length_mm,
            "inner_width_mm": carton.inner_width_mm,
            "inner_height_mm": carton.inner_height_mm,
            "max_weight_kg": carton.max_weight_kg,
            "tare_weight_kg": carton.tare_weight_kg,
            "cost": carton.cost,
        }
        for k, carton in enumerate(types)
    ]
    if rows:
        conn.execute(t.site_cartons.insert(), rows)
    return get_cartons(conn, site_id)


def get_cartons(conn: Connection, site_id: str) -> SiteCartons:
    """The site's carton types, in the order they were given (404 for an unknown site)."""
    require_site(conn, site_id)
    c = t.site_cartons.c
    rows = conn.execute(
        select(t.site_cartons).where(c.site_id == site_id).order_by(c.position)
    ).all()
    return SiteCartons(
        site_id=site_id,
        carton_types=[
            CartonType(
                id=row._mapping["type_id"],
                inner_length_mm=row._mapping["inner_length_mm"],
                inner_width_mm=row._mapping["inner_width_mm"],
                inner_height_mm=row._mapping["inner_height_mm"],
                max_weight_kg=row._mapping["max_weight_kg"],
                cost=row._mapping["cost"],
                tare_weight_kg=row._mapping["tare_weight_kg"],
            )
            for row in rows
        ],
    )


def put_bins(conn: Connection, site_id: str, bins: Sequence[BinIn], now: datetime) -> SiteBins:
    """Replace the site's bin locations (422 when a sku is named twice)."""
    require_site(conn, site_id)
    seen: set[str] = set()
    for i, entry in enumerate(bins):
        if entry.sku in seen:
            raise InvalidInputError.for_field(f"[{i}].sku", entry.sku, "is named twice")
        seen.add(entry.sku)
    conn.execute(delete(t.bins).where(t.bins.c.site_id == site_id))
    if bins:
        conn.execute(
            t.bins.insert(),
            [
                {
                    "site_id": site_id,
                    "sku": b.sku,
                    "bin_location": b.bin_location,
                    "updated_at": now,
                }
                for b in bins
            ],
        )
    return get_bins(conn, site_id)


def bins_of(conn: Connection, site_id: str) -> dict[str, str]:
    """The site's bin location of each sku that has one."""
    b = t.bins.c
    rows = conn.execute(select(b.sku, b.bin_location).where(b.site_id == site_id)).all()
    return {sku: location for sku, location in rows}


def get_bins(conn: Connection, site_id: str) -> SiteBins:
    """The site's bin locations, in natural order of their codes (404 for an unknown site)."""
    require_site(conn, site_id)
    found = bins_of(conn, site_id)
    ordered = sorted(found.items(), key=lambda kv: (natural_key(kv[1]), kv[0]))
    return SiteBins(
        site_id=site_id, bins=[BinIn(sku=sku, bin_location=code) for sku, code in ordered]
    )
