"""The customer's tracking page: a small HTML document, self-contained (inline CSS, no
script, no outside asset), that reloads itself every :data:`REFRESH_S` seconds.

It is rendered from a :class:`models.tracking.PublicTracking` alone, so it cannot show what
that leaves out (another stop, a place, the van). Every value is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from models.status import OrderStatus
from models.tracking import PublicTracking

#: Seconds between the page's reloads.
REFRESH_S = 60

#: What each order state says to a customer (a hold's reason is the shop's business).
STATUS_TEXT: dict[OrderStatus, str] = {
    OrderStatus.RECEIVED: "Order received",
    OrderStatus.ON_HOLD: "Order received",
    OrderStatus.READY: "Being prepared",
    OrderStatus.BACKORDERED: "Waiting for stock",
    OrderStatus.ALLOCATED: "Being prepared",
    OrderStatus.PICKING: "Being packed",
    OrderStatus.PACKED: "Packed, waiting for the van",
    OrderStatus.SHIPPED: "Out for delivery",
    OrderStatus.DELIVERED: "Delivered",
    OrderStatus.DELIVERY_FAILED: "Delivery attempt failed",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.RETURNED: "Returned to sender",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2129}"
    "main{max-width:28rem;margin:2rem auto;background:#fff;border-radius:.5rem;"
    "padding:1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}"
    "h1{font-size:1.25rem;margin:0 0 1rem}p.status{font-size:1.5rem;font-weight:600;"
    "margin:.5rem 0 1rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem;"
    "margin:0}dt{color:#5b6270}dd{margin:0}footer{color:#8a909c;font-size:.8rem;"
    "margin-top:1.5rem}"
)
#: The page's Content-Security-Policy: nothing but its own inline style.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'"


def clock(value: dt.datetime) -> str:
    """A clock time as the page shows it: ``2026-12-02 09:30 UTC``."""
    zone = value.tzname() or ""
    return f"{value:%Y-%m-%d %H:%M} {zone}".strip()


def _window(view: PublicTracking) -> str | None:
    start, end = view.window_start_time, view.window_end_time
    if start is None or end is None:
        return None
    if start.date() == end.date() and start.tzname() == end.tzname():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} {start.tzname() or ''}".strip()
    return f"{clock(start)} – {clock(end)}"


def _rows(view: PublicTracking) -> list[tuple[str, str]]:
    """The page's facts, in order, as (label, text)."""
    rows: list[tuple[str, str]] = []
    if view.stop_status == "delivered":
        if view.delivered_at is not None:
            rows.append(("Delivered at", clock(view.delivered_at)))
        if view.received_by:
            rows.append(("Received by", view.received_by))
    elif view.stop_status == "arrived":
        rows.append(("Delivery", "the driver is at your address"))
    elif view.stop_status == "failed":
        rows.append(("Delivery", "we could not deliver; we will be in touch"))
    if view.eta_start_time is not None:
        rows.append(("Expected at", clock(view.eta_start_time)))
    window = _window(view)
    if window is not None:
        rows.append(("Delivery window", window))
    if view.stops_before is not None:
        count = view.stops_before
        rows.append(("Stops before yours", "none: you are next" if count == 0 else str(count)))
    return rows


def render(view: PublicTracking) -> str:
    """The page of one order."""
    facts = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(text)}</dd>" for label, text in _rows(view)
    )
    listing = f"<dl>{facts}</dl>" if facts else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{REFRESH_S}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>Order {escape(view.order_id)}</title><style>{_STYLE}</style></head><body>"
        f"<main><h1>Order {escape(view.order_id)}</h1>"
        f'<p class="status">{escape(STATUS_TEXT[view.status])}</p>{listing}'
        f"<footer>This page refreshes every {REFRESH_S} s.</footer></main></body></html>"
    )


def not_found() -> str:
    """The page of a token that is not one (it says nothing more)."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="robots" content="noindex">'
        f"<title>Not found</title><style>{_STYLE}</style></head><body><main>"
        "<h1>Tracking page not found</h1><p>Check the link you were sent.</p>"
        "</main></body></html>"
    )
